package shopify

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// FuzzDecode feeds arbitrary headers and bodies to the Shopify decoder. It
// must never panic; what it refuses comes back as an *order.InvalidError
// naming at least one header or field; what it accepts is a known topic's
// event (or, for a body whose order is cancelled, a cancellation) for the
// configured shop with an id, a known currency, amounts that are not
// negative, product lines with a SKU, lines with a quantity, and times
// that can be stored as RFC 3339 and are not later than now plus ClockSkew.
func FuzzDecode(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	real, err := filepath.Glob(filepath.Join("testdata", "real", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	fixtures = append(fixtures, real...)
	bodies, err := filepath.Glob(filepath.Join("..", "..", "events", "bodies", "shopify-*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for i, path := range append(fixtures, bodies...) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		topic := []string{"orders/create", "orders/fulfilled", "orders/cancelled", "orders/updated", "refunds/create"}[i%5]
		f.Add(topic, fmt.Sprintf("wh-%d", i), testDecoder.Shop, b)
	}
	f.Add("orders/create", "wh-t", testDecoder.Shop, []byte(`{"id":1,"currency":"USD","created_at":"2026-11-21T09:30:00+09:00","total_price":"59.99",`+
		`"email":"Guest@Example.JP","line_items":[{"variant_id":808950810,"title":"t","price":"29.995","quantity":2}],"discount_codes":[{"code":"X"},{"code":""}]}`))
	f.Add("orders/paid", "", "yesterday.myshopify.com", []byte(`{}`))
	f.Add("refunds/create", "wh-r", testDecoder.Shop, []byte(`{"id":1,"order_id":2,"created_at":"2026-11-21T09:30:00+09:00","transactions":[{"kind":"refund","status":"success","amount":"10.5","currency":"USD"}]}`))
	f.Fuzz(func(t *testing.T, topic, webhookID, shop string, body []byte) {
		ev, err := testDecoder.Decode(Delivery{Topic: topic, WebhookID: webhookID, ShopDomain: shop}, body, decodeAt)
		if err != nil {
			var bad *order.InvalidError
			if !errors.As(err, &bad) || len(bad.Fields) == 0 {
				t.Fatalf("Decode error = %v (%T), want an *order.InvalidError naming a field", err, err)
			}
			return
		}
		o := ev.Order
		if want, ok := Topics[topic]; !ok || (ev.Type != want && ev.Type != order.Cancelled) || ev.Source != Source {
			t.Errorf("accepted topic %q as %s from %q", topic, ev.Type, ev.Source)
		}
		if strings.TrimSpace(ev.DeliveryID) == "" || o.ID == "" {
			t.Errorf("accepted delivery %q of order %q", ev.DeliveryID, o.ID)
		}
		if _, err := order.CurrencyScale(o.Currency); err != nil && ev.Type != order.Refunded {
			t.Errorf("accepted currency: %v", err)
		}
		if o.Total < 0 {
			t.Errorf("accepted a negative total %d", o.Total)
		}
		if ev.Type == order.Created && len(o.Items) == 0 {
			t.Error("accepted orders/create without line items")
		}
		for _, it := range o.Items {
			if (it.SKU == "") != (it.Kind != order.ProductLine) || it.Quantity < 1 || it.UnitPrice < 0 {
				t.Errorf("accepted line item %+v", it)
			}
		}
		for _, r := range ev.Refunds {
			if _, err := order.CurrencyScale(r.Currency); r.ID == "" || r.Amount < 0 || (r.Amount > 0 && err != nil) {
				t.Errorf("accepted refund %+v", r)
			}
		}
		for name, at := range map[string]time.Time{"created_at": o.PlacedAt, "the event time": ev.OccurredAt} {
			if y := at.Year(); y < 0 || y > 9999 {
				t.Errorf("accepted %s in year %d: it cannot be stored and read back as RFC 3339", name, y)
			}
			if at.After(decodeAt.Add(ClockSkew)) {
				t.Errorf("accepted %s at %s, after now plus the skew", name, at)
			}
		}
		if c := o.Customer; c != nil && (c.ID == "" || strings.Contains(c.ID, "@")) {
			t.Errorf("accepted customer id %q: empty, or an address in an id", c.ID)
		}
	})
}

// FuzzMinorUnits checks the amount parser: it never panics, never returns a
// negative amount, and what it accepts is exactly the decimal it was given.
func FuzzMinorUnits(f *testing.F) {
	for _, s := range []string{"4300", "4300.00", "59.99", "0.5", "-1", "1e3", "", "1/2", " 12 ", "0x10", "9223372036854775807", "92233720368547758.08", "+1", ".5", "5."} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, amount string, scale uint8) {
		s := int(scale % 4)
		got, err := MinorUnits(amount, s)
		if err != nil {
			return
		}
		if got < 0 {
			t.Fatalf("MinorUnits(%q, %d) = %d, negative", amount, s, got)
		}
		want, ok := new(big.Rat).SetString(strings.TrimSpace(amount))
		back := new(big.Rat).SetFrac(big.NewInt(got), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil))
		if !ok || want.Cmp(back) != 0 {
			t.Fatalf("MinorUnits(%q, %d) = %d, which is %s, not the amount given", amount, s, got, back.FloatString(s))
		}
	})
}
