package shopify

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// FuzzDecodeRedact feeds arbitrary topics and bodies to the compliance
// decoder. It must never panic; what it refuses is an *order.InvalidError
// naming a header or field; what it accepts is a compliance topic, the
// configured shop, and for customers/* a customer id that is not empty
// and carries no address.
func FuzzDecodeRedact(f *testing.F) {
	for _, name := range []string{"customers-redact.json", "customers-data_request.json", "shop-redact.json"} {
		f.Add(strings.TrimSuffix(strings.Replace(name, "-", "/", 1), ".json"), complianceBody(f, name))
	}
	f.Add(RedactTopic, []byte(`{"shop_id": 1, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "Guest@Example.JP"}, "orders_to_redact": []}`))
	f.Add(RedactTopic, []byte(`{"customer": {"id": 1e400}}`))
	f.Add("orders/create", complianceBody(f, "orders-create.json"))
	c := Compliance{Shop: testShop, Guests: pseudonym.New("k")}
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		r, err := c.Decode(topic, testShop, body)
		if err != nil {
			var bad *order.InvalidError
			if !errors.As(err, &bad) || len(bad.Fields) == 0 {
				t.Fatalf("Decode error = %v (%T), want an *order.InvalidError naming a field", err, err)
			}
			return
		}
		if !slices.Contains(ComplianceTopics, topic) || !strings.EqualFold(r.ShopDomain, testShop) {
			t.Errorf("accepted topic %q for shop %q", topic, r.ShopDomain)
		}
		if (topic == ShopRedactTopic) != (r.CustomerID == "") || strings.Contains(r.CustomerID, "@") {
			t.Errorf("accepted customer id %q for %s: empty, or an address in an id", r.CustomerID, topic)
		}
	})
}
