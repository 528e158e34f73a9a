package shopify

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// TestGuestRedactFindsTheGuestTheOrderWebhookStored: a guest checkout
// (orders/create without a customer record) is stored under the id the
// order decoder gives it, and Shopify's customers/redact (and
// data_request) for that guest names only the address: both must come to
// the same keyed id (the order decoder once used an unkeyed hash, so a
// guest was never found).
func TestGuestRedactFindsTheGuestTheOrderWebhookStored(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "orders-create-guest.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys := pseudonym.New("a-production-pseudonym-secret-of-32-bytes-or-more")
	ev, err := Decoder{Guests: keys}.Decode(Delivery{Topic: "orders/create", WebhookID: "wh-guest"}, body, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Order.Customer == nil {
		t.Fatal("the guest order has no customer")
	}
	c := Compliance{Guests: keys}
	for _, topic := range []string{RedactTopic, DataRequestTopic} {
		redact := `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "guest@example.jp"}, "orders_to_redact": [820982911946154508]}`
		if topic == DataRequestTopic {
			redact = `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "guest@example.jp"}, "orders_requested": [820982911946154508], "data_request": {"id": 9999}}`
		}
		r, err := c.Decode(topic, "tsubaki-chaen.myshopify.com", []byte(redact))
		if err != nil {
			t.Fatal(err)
		}
		if r.CustomerID != ev.Order.Customer.ID {
			t.Errorf("%s names guest %s, but the order webhook stored the guest as %s: the guest is never found", topic, r.CustomerID, ev.Order.Customer.ID)
		}
	}
}
