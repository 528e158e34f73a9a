package shopify

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// testDecoder decodes as a stack configured for the test shop does.
var testDecoder = Decoder{Shop: "tsubaki-chaen.myshopify.com", Guests: pseudonym.New("test-pseudonym-secret-of-32-bytes!")}

// decodeAt is when the tests receive deliveries: after every fixture's times.
var decodeAt = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// delivery is a delivery of topic for the test shop.
func delivery(topic string) Delivery {
	return Delivery{Topic: topic, WebhookID: "wh-1", ShopDomain: "tsubaki-chaen.myshopify.com"}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecode(t *testing.T) {
	placed := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	misaki := &order.Customer{ID: "115310627314723954", Email: "misaki@example.jp", Name: "高橋 美咲",
		Consent: order.Consent{State: order.ConsentGranted, Source: "shopify:single_opt_in", At: time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC)}}
	yokan := []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2, ProductID: "632910392"}}
	tests := []struct {
		name     string
		topic    string
		fixture  string
		wantType order.EventType
		wantAt   time.Time
		customer *order.Customer
		items    []order.Item
	}{
		{name: "create", topic: "orders/create", fixture: "orders-create.json", wantType: order.Created, wantAt: placed, customer: misaki, items: yokan},
		{name: "fulfilled", topic: "orders/fulfilled", fixture: "orders-fulfilled.json", wantType: order.Fulfilled, wantAt: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), customer: misaki, items: yokan},
		{name: "cancelled", topic: "orders/cancelled", fixture: "orders-cancelled.json", wantType: order.Cancelled, wantAt: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), customer: misaki, items: yokan},
		{name: "guest checkout", topic: "orders/create", fixture: "orders-create-guest.json", wantType: order.Created, wantAt: placed,
			customer: &order.Customer{ID: testDecoder.Guests.GuestCustomerID("guest@example.jp"), Email: "guest@example.jp"},
			items:    []order.Item{{SKU: "variant-808950810", Name: "本練羊羹", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2, ProductID: "632910392"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := testDecoder.Decode(delivery(tt.topic), readFixture(t, tt.fixture), decodeAt)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Type != tt.wantType || !ev.OccurredAt.Equal(tt.wantAt) || ev.DeliveryID != "wh-1" || ev.Source != Source {
				t.Errorf("event = %s at %s (%s/%s), want %s at %s", ev.Type, ev.OccurredAt, ev.Source, ev.DeliveryID, tt.wantType, tt.wantAt)
			}
			o := ev.Order
			if o.ID != "820982911946154508" || o.Currency != "JPY" || o.Total != 4300 || !o.PlacedAt.Equal(placed) {
				t.Errorf("order = %s %s %d at %s", o.ID, o.Currency, o.Total, o.PlacedAt)
			}
			if !reflect.DeepEqual(o.Customer, tt.customer) {
				t.Errorf("customer = %+v, want %+v", o.Customer, tt.customer)
			}
			if !reflect.DeepEqual(o.Items, tt.items) {
				t.Errorf("items = %+v, want %+v", o.Items, tt.items)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	create := readFixture(t, "orders-create.json")
	with := func(old, new string) []byte { return []byte(strings.Replace(string(create), old, new, 1)) }
	other := func(topic string) Delivery {
		d := delivery(topic)
		d.ShopDomain = "someone-else.myshopify.com"
		return d
	}
	tests := []struct {
		name     string
		delivery Delivery
		body     []byte
		want     []string
	}{
		{name: "missing headers", delivery: Delivery{}, body: create, want: []string{"X-Shopify-Topic: header is required", "X-Shopify-Webhook-Id: header is required", "X-Shopify-Shop-Domain: X-Shopify-Shop-Domain is required"}},
		{name: "unhandled topic", delivery: delivery("orders/delete"), body: create, want: []string{`X-Shopify-Topic: topic "orders/delete" is not handled`}},
		{name: "another shop", delivery: other("orders/create"), body: create, want: []string{`X-Shopify-Shop-Domain: X-Shopify-Shop-Domain "someone-else.myshopify.com" is not the shop this stack serves`}},
		{name: "too many decimals", delivery: delivery("orders/create"), body: readFixture(t, "orders-create-usd-bad-price.json"), want: []string{`line_items[0].price: "29.995" has more decimals than the currency allows (2)`}},
		{name: "unknown currency", delivery: delivery("orders/create"), body: with(`"currency": "JPY"`, `"currency": "XYZ"`), want: []string{"currency: "}},
		{name: "negative quantity", delivery: delivery("orders/create"), body: with(`"quantity": 2`, `"quantity": -2`), want: []string{"line_items[0].quantity: must be at least 1, got -2"}},
		{name: "malformed json", delivery: delivery("orders/create"), body: []byte(`{"id":`), want: []string{"body: is not valid JSON"}},
		{name: "wrong shape", delivery: delivery("orders/create"), body: []byte(`{"line_items":"none"}`), want: []string{"line_items: is required", "body: does not match Shopify's order payload"}},
		// Shopify signs the body, not the topic: a captured body replayed
		// under another topic must be of that topic's kind.
		{name: "a create posted as a cancellation", delivery: delivery("orders/cancelled"), body: create, want: []string{"cancelled_at: is required: an orders/cancelled body carries the time of the cancellation"}},
		{name: "a create posted as a fulfilment", delivery: delivery("orders/fulfilled"), body: create, want: []string{`fulfillment_status: must be "fulfilled" in an orders/fulfilled body`}},
		{name: "an order posted as a refund", delivery: delivery("refunds/create"), body: create, want: []string{"line_items: is not in a refund", "order_id: is required"}},
		{name: "a refund posted as an order", delivery: delivery("orders/updated"), body: []byte(`{"id": 509562969, "order_id": 450789469, "created_at": "2026-11-21T09:30:00+09:00", "transactions": []}`), want: []string{"line_items: is required"}},
		{name: "a time that cannot be read back", delivery: delivery("orders/create"), body: with(`"created_at": "2026-11-21T09:30:00+09:00"`, `"created_at": "10000-01-01T00:00:00Z"`), want: []string{"created_at: must be an RFC 3339 time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testDecoder.Decode(tt.delivery, tt.body, decodeAt)
			var inv *order.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Decode error = %v, want *order.InvalidError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(inv.Error(), w) {
					t.Errorf("error %q does not contain %q", inv.Error(), w)
				}
			}
		})
	}
}

// TestDecodeTimesComeFromTheBody: Shopify does not sign its headers, so
// X-Shopify-Triggered-At is not read; the body's times are, and none is
// taken later than the receiving clock plus ClockSkew.
func TestDecodeTimesComeFromTheBody(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 31, 0, 0, time.UTC)
	create := string(readFixture(t, "orders-create.json"))
	future := strings.NewReplacer(`"created_at": "2026-11-21T09:30:00+09:00"`, `"created_at": "9999-12-31T00:00:00Z"`,
		`"consent_updated_at": "2026-10-01T12:00:00+09:00"`, `"consent_updated_at": "9999-12-31T00:00:00Z"`).Replace(create)
	ev, err := testDecoder.Decode(delivery("orders/create"), []byte(future), now)
	if err != nil {
		t.Fatal(err)
	}
	latest := now.Add(ClockSkew)
	for name, got := range map[string]time.Time{"placed": ev.Order.PlacedAt, "occurred": ev.OccurredAt, "consent": ev.Order.Customer.Consent.At} {
		if !got.Equal(latest) {
			t.Errorf("%s at %s, want it held to %s", name, got, latest)
		}
	}
	cancelled, err := testDecoder.Decode(delivery("orders/cancelled"), readFixture(t, "orders-cancelled.json"), now)
	if err != nil || !cancelled.OccurredAt.Equal(latest) {
		t.Errorf("a cancellation dated after now: at %s, %v; want %s", cancelled.OccurredAt, err, latest)
	}
}

// TestDecodeCancelledBodyIsACancellation: a body whose order is cancelled
// is a cancellation under any order topic (orders/updated of a cancelled
// order, a captured cancellation replayed as orders/create).
func TestDecodeCancelledBodyIsACancellation(t *testing.T) {
	body := readFixture(t, "orders-cancelled.json")
	for _, topic := range []string{"orders/create", "orders/updated", "orders/paid", "orders/cancelled"} {
		t.Run(topic, func(t *testing.T) {
			ev, err := testDecoder.Decode(delivery(topic), body, decodeAt)
			if err != nil || ev.Type != order.Cancelled || !ev.OccurredAt.Equal(time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)) {
				t.Errorf("%s: %s at %s, %v; want order.cancelled at its cancelled_at", topic, ev.Type, ev.OccurredAt, err)
			}
		})
	}
}

// TestDecodeRealCurrencies: amounts of real bodies in currencies whose
// minor units CLDR got wrong (COP and IDR have two decimals, "229500.00").
func TestDecodeRealCurrencies(t *testing.T) {
	tests := []struct {
		file, topic, currency string
		total                 int64
		price                 int64
	}{
		{file: "juliezen-orders-cancelled-test-notification-cop.json", topic: "orders/cancelled", currency: "COP", total: 53415000, price: 22950000},
		{file: "doa-orders-create-idr.json", topic: "orders/create", currency: "IDR", total: 25750000, price: 24750000},
		{file: "membi-orders-create-hkd.json", topic: "orders/create", currency: "HKD", total: 30400, price: 9900},
	}
	for _, tt := range tests {
		t.Run(tt.currency, func(t *testing.T) {
			ev, err := testDecoder.Decode(delivery(tt.topic), readFixture(t, "real/"+tt.file), decodeAt)
			if err != nil {
				t.Fatal(err)
			}
			if o := ev.Order; o.Currency != tt.currency || o.Total != tt.total || o.Items[0].UnitPrice != tt.price {
				t.Errorf("%s %d, first line %d; want %s %d, %d", o.Currency, o.Total, o.Items[0].UnitPrice, tt.currency, tt.total, tt.price)
			}
		})
	}
}

func TestMinorUnits(t *testing.T) {
	tests := []struct {
		amount string
		scale  int
		want   int64
		ok     bool
	}{
		{"4300", 0, 4300, true}, {"4300.00", 0, 4300, true}, {"59.99", 2, 5999, true}, {"0.5", 2, 50, true},
		{"4300.5", 0, 0, false}, {"-1", 0, 0, false}, {"1e3", 0, 0, false}, {"", 0, 0, false}, {"1/2", 2, 0, false},
	}
	for _, tt := range tests {
		got, err := MinorUnits(tt.amount, tt.scale)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("MinorUnits(%q, %d) = %d, %v; want %d ok=%v", tt.amount, tt.scale, got, err, tt.want, tt.ok)
		}
	}
}

// TestDecodeMerchandise reads what real bodies' products came to after
// discounts, without shipping, tax and gift cards (what earns points), and
// the merchandise each refund gave back.
func TestDecodeMerchandise(t *testing.T) {
	tests := []struct {
		name, file, topic string
		// edit changes the body before it is decoded.
		edit        func(string) string
		merchandise int64
		refunds     []int64 // each refund's merchandise
	}{
		{name: "discounts taken off, shipping left out", file: "membi-orders-create-draft-discount-hkd.json", topic: "orders/create", merchandise: 16490},
		{name: "a customer's order with a discount code", file: "membi-orders-create-hkd.json", topic: "orders/create", merchandise: 28400},
		{name: "no discount, shipping left out", file: "doa-orders-create-idr.json", topic: "orders/create", merchandise: 24750000},
		{name: "a gift card is not merchandise", file: "shopify-docs-orders-create-gift-card-usd.json", topic: "orders/create", merchandise: 25592 - 2*1999},
		{name: "tax left out of tax-inclusive prices", file: "bag-server-orders-create-test-order-aud.json", topic: "orders/create",
			edit: func(s string) string { return strings.Replace(s, `"taxes_included": false`, `"taxes_included": true`, 1) }, merchandise: 4495 - 450},
		{name: "edited and refunded: before refunds, the refunds' lines apart", file: "shopify-docs-orders-updated-edited-refunded-usd.json", topic: "orders/updated",
			merchandise: 19567 + 19566 + 19567, refunds: []int64{19566 + 19567}},
		{name: "a refund of two lines", file: "shopify-docs-refunds-create-usd.json", topic: "refunds/create", refunds: []int64{19566 + 19567}},
		{name: "a refund of no merchandise", file: "shopify-docs-refunds-create-second-usd.json", topic: "refunds/create", refunds: []int64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := string(readFixture(t, "real/"+tt.file))
			if tt.edit != nil {
				body = tt.edit(body)
			}
			ev, err := testDecoder.Decode(delivery(tt.topic), []byte(body), decodeAt)
			if err != nil {
				t.Fatal(err)
			}
			var refunds []int64
			for _, r := range ev.Refunds {
				refunds = append(refunds, r.Merchandise)
			}
			if ev.Order.Merchandise != tt.merchandise || !slices.Equal(refunds, tt.refunds) {
				t.Errorf("merchandise %d, refunds %v; want %d, %v", ev.Order.Merchandise, refunds, tt.merchandise, tt.refunds)
			}
		})
	}
}
