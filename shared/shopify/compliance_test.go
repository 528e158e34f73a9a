package shopify

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

const testShop = "tsubaki-chaen.myshopify.com"

// complianceBody reads one of the documented bodies in testdata/compliance.
func complianceBody(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "compliance", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeComplianceDocumentedBodies(t *testing.T) {
	keyer := pseudonym.New("test-pseudonym-secret")
	c := Compliance{Shop: testShop, Guests: keyer}
	tests := []struct {
		name, topic, file string
		want              ComplianceRequest
	}{
		{"data request", DataRequestTopic, "customers-data_request.json", ComplianceRequest{Topic: DataRequestTopic, ShopID: "954889", ShopDomain: testShop,
			CustomerID: "191167", Orders: []string{"299938", "280263", "220458"}, DataRequestID: "9999"}},
		{"customer redact", RedactTopic, "customers-redact.json", ComplianceRequest{Topic: RedactTopic, ShopID: "954889", ShopDomain: testShop,
			CustomerID: "191167", Orders: []string{"299938", "280263", "220458"}}},
		{"shop redact", ShopRedactTopic, "shop-redact.json", ComplianceRequest{Topic: ShopRedactTopic, ShopID: "954889", ShopDomain: testShop}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decode(tt.topic, testShop, complianceBody(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got.Topic != tt.want.Topic || got.ShopID != tt.want.ShopID || got.ShopDomain != tt.want.ShopDomain || got.CustomerID != tt.want.CustomerID ||
				!slices.Equal(got.Orders, tt.want.Orders) || got.DataRequestID != tt.want.DataRequestID {
				t.Errorf("Decode = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("guest by address, keyed as the order decoder keys it", func(t *testing.T) {
		got, err := c.Decode(RedactTopic, testShop, []byte(`{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": null, "email": "Guest.Buyer@Example.jp", "phone": null}, "orders_to_redact": []}`))
		if err != nil || got.CustomerID != keyer.GuestCustomerID("guest.buyer@example.jp") || len(got.Orders) != 0 {
			t.Errorf("Decode = %+v, %v; want the keyed guest id and no orders", got, err)
		}
	})
}

// TestDecodeComplianceRefusesBodiesOfAnotherTopic: Shopify signs the body
// only, so the topic header can be swapped; a body must have its topic's
// shape, and name the configured shop.
func TestDecodeComplianceRefusesBodiesOfAnotherTopic(t *testing.T) {
	c := Compliance{Shop: testShop, Guests: pseudonym.New("k")}
	orderBody := complianceBody(t, "orders-create.json")
	redact := complianceBody(t, "customers-redact.json")
	dataRequest := complianceBody(t, "customers-data_request.json")
	shopRedact := complianceBody(t, "shop-redact.json")
	other := []byte(strings.ReplaceAll(string(redact), testShop, "other-shop.myshopify.com"))
	tests := []struct {
		name, topic, header string
		body                []byte
		fields              []string // every field the refusal must name
	}{
		{"an order posted as a redact", RedactTopic, testShop, orderBody, []string{"shop_id", "shop_domain", "orders_to_redact"}},
		{"an order posted as a data request", DataRequestTopic, testShop, orderBody, []string{"shop_domain", "orders_requested", "data_request"}},
		{"an order posted as a shop redact", ShopRedactTopic, testShop, orderBody, []string{"shop_domain", "customer"}},
		{"a data request posted as a redact", RedactTopic, testShop, dataRequest, []string{"orders_to_redact", "orders_requested", "data_request"}},
		{"a redact posted as a data request", DataRequestTopic, testShop, redact, []string{"orders_requested", "data_request", "orders_to_redact"}},
		{"a redact posted as a shop redact", ShopRedactTopic, testShop, redact, []string{"customer", "orders_to_redact"}},
		{"a shop redact posted as a redact", RedactTopic, testShop, shopRedact, []string{"customer", "orders_to_redact"}},
		{"an order topic", "orders/create", testShop, redact, []string{"X-Shopify-Topic"}},
		{"no topic", "", testShop, redact, []string{"X-Shopify-Topic"}},
		{"another shop in the body", RedactTopic, testShop, other, []string{"shop_domain"}},
		{"another shop in the header", RedactTopic, "other-shop.myshopify.com", redact, []string{ShopDomainHeader}},
		{"no shop header", RedactTopic, "", redact, []string{ShopDomainHeader}},
		{"orders not a list", RedactTopic, testShop, []byte(`{"shop_id": 1, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 1}, "orders_to_redact": 5}`), []string{"orders_to_redact"}},
		{"an order id not an integer", RedactTopic, testShop, []byte(`{"shop_id": 1, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 1}, "orders_to_redact": [1.5, "2"]}`), []string{"orders_to_redact[0]", "orders_to_redact[1]"}},
		{"customer id a word", RedactTopic, testShop, []byte(`{"shop_id": 1, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": "one"}, "orders_to_redact": []}`), []string{"customer.id"}},
		{"customer phone only", RedactTopic, testShop, []byte(`{"shop_id": 1, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"phone": "555-625-1199"}, "orders_to_redact": []}`), []string{"customer"}},
		{"data request id missing", DataRequestTopic, testShop, []byte(`{"shop_id": 1, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 1}, "orders_requested": [], "data_request": {}}`), []string{"data_request.id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Decode(tt.topic, tt.header, tt.body)
			var bad *order.InvalidError
			if !errors.As(err, &bad) {
				t.Fatalf("Decode = %v, want an *order.InvalidError", err)
			}
			named := map[string]bool{}
			for _, f := range bad.Fields {
				named[f.Field] = true
			}
			for _, f := range tt.fields {
				if !named[f] {
					t.Errorf("refusal %v does not name %s", bad, f)
				}
			}
		})
	}
}

func TestDecodeComplianceTopicsOfAnAddress(t *testing.T) {
	c := Compliance{Guests: pseudonym.New("k"), Topics: []string{RedactTopic}}
	if _, err := c.Decode(RedactTopic, "", complianceBody(t, "customers-redact.json")); err != nil {
		t.Errorf("redact on a redact-only address, no shop configured: %v", err)
	}
	if _, err := c.Decode(DataRequestTopic, "", complianceBody(t, "customers-data_request.json")); err == nil {
		t.Error("a data request on a redact-only address was accepted")
	}
}
