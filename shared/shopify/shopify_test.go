package shopify

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

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
	yokan := []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2}}
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
			customer: &order.Customer{ID: "guest-9e5ec5b3b7d5c1ee8e2bd5a4", Email: "guest@example.jp"},
			items:    []order.Item{{SKU: "variant-808950810", Name: "本練羊羹", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(Delivery{Topic: tt.topic, WebhookID: "wh-1"}, readFixture(t, tt.fixture))
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
			if tt.name == "guest checkout" {
				tt.customer.ID = o.Customer.ID // a hash; checked below for shape only
				if !strings.HasPrefix(o.Customer.ID, "guest-") || strings.Contains(o.Customer.ID, "guest@") {
					t.Errorf("guest id %q must be an opaque hash", o.Customer.ID)
				}
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
	tests := []struct {
		name     string
		delivery Delivery
		body     []byte
		want     []string
	}{
		{name: "missing headers", delivery: Delivery{}, body: create, want: []string{"X-Shopify-Topic: header is required", "X-Shopify-Webhook-Id: header is required"}},
		{name: "unhandled topic", delivery: Delivery{Topic: "orders/paid", WebhookID: "w"}, body: create, want: []string{`X-Shopify-Topic: topic "orders/paid" is not handled`}},
		{name: "too many decimals", delivery: Delivery{Topic: "orders/create", WebhookID: "w"}, body: readFixture(t, "orders-create-usd-bad-price.json"), want: []string{`line_items[0].price: "29.995" has more decimals than the currency allows (2)`}},
		{name: "unknown currency", delivery: Delivery{Topic: "orders/create", WebhookID: "w"}, body: []byte(strings.Replace(string(create), `"currency": "JPY"`, `"currency": "XYZ"`, 1)), want: []string{"currency: "}},
		{name: "negative quantity", delivery: Delivery{Topic: "orders/create", WebhookID: "w"}, body: []byte(strings.Replace(string(create), `"quantity": 2`, `"quantity": -2`, 1)), want: []string{"line_items[0].quantity: must be at least 1, got -2"}},
		{name: "malformed json", delivery: Delivery{Topic: "orders/create", WebhookID: "w"}, body: []byte(`{"id":`), want: []string{"body: is not valid JSON"}},
		{name: "wrong shape", delivery: Delivery{Topic: "orders/create", WebhookID: "w"}, body: []byte(`{"line_items":"none"}`), want: []string{"body: does not match Shopify's order payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.delivery, tt.body)
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
