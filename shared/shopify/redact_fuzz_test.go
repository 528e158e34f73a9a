package shopify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// FuzzDecodeRedact feeds arbitrary topics and bodies to the customers/redact
// decoder. It must never panic; what it refuses is an *order.InvalidError
// naming a header or field; what it accepts is the redact topic and a
// customer id that is not empty and carries no address.
func FuzzDecodeRedact(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "bodies", "shopify-customers-redact.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(RedactTopic, sample)
	f.Add(RedactTopic, []byte(`{"customer": {"email": "Guest@Example.JP"}, "orders_to_redact": []}`))
	f.Add(RedactTopic, []byte(`{"customer": {"id": 1e400}}`))
	f.Add("orders/create", []byte(`{"customer": null}`))
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		id, err := DecodeRedact(topic, body)
		if err != nil {
			var bad *order.InvalidError
			if !errors.As(err, &bad) || len(bad.Fields) == 0 {
				t.Fatalf("DecodeRedact error = %v (%T), want an *order.InvalidError naming a field", err, err)
			}
			return
		}
		if topic != RedactTopic {
			t.Errorf("accepted topic %q", topic)
		}
		if strings.TrimSpace(id) == "" || strings.Contains(id, "@") {
			t.Errorf("accepted customer id %q: empty, or an address in an id", id)
		}
	})
}
