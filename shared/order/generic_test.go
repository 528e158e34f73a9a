package order

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeGenericCreated(t *testing.T) {
	body, err := os.ReadFile("testdata/created.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeGeneric(body)
	if err != nil {
		t.Fatalf("DecodeGeneric: %v", err)
	}
	at := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	want := Event{
		DeliveryID: "evt-1", Source: SourceGeneric, Type: Created, OccurredAt: at,
		Order: Order{
			ID: "1001", Currency: "JPY", Total: 4300, Merchandise: 4300, PlacedAt: at,
			Customer: &Customer{ID: "c-1", Email: "misaki@example.jp", Name: "高橋 美咲",
				Consent: Consent{State: ConsentGranted, Source: "webhook:generic", At: at, Standing: true}},
			Items:       []Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2}},
			CouponCodes: []string{},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeGeneric =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDecodeGenericLaterEventNeedsOnlyOrderID(t *testing.T) {
	got, err := DecodeGeneric([]byte(`{"id":"evt-2","type":"order.cancelled","occurred_at":"2026-11-22T10:00:00Z","order":{"id":"1001"}}`))
	if err != nil {
		t.Fatalf("DecodeGeneric: %v", err)
	}
	if got.Type != Cancelled || got.Order.ID != "1001" || got.Order.HasDetails() {
		t.Errorf("got %+v, want a cancelled event for order 1001 without details", got)
	}
}

func TestDecodeGenericRejects(t *testing.T) {
	valid := `{"id":"e","type":"order.created","occurred_at":"2026-11-21T09:30:00+09:00","order":{"id":"1","currency":"JPY","total":100,"customer":{"id":"c"},"items":[{"sku":"S","name":"n","price":100,"quantity":1}]}}`
	tests := []struct {
		name string
		body string
		want []string // "field: message" prefixes, every one expected
	}{
		{name: "empty", body: ``, want: []string{"body: is empty"}},
		{name: "not json", body: `{"id":`, want: []string{"body: is not valid JSON"}},
		{name: "array", body: `[]`, want: []string{"body: must be a JSON object"}},
		{name: "not utf8", body: "{\"id\":\"\xff\xfe\"}", want: []string{"body: is not valid UTF-8"}},
		{name: "missing top-level fields", body: `{}`, want: []string{"id: is required", "occurred_at: is required", "order: is required", "type: is required"}},
		{name: "unknown type", body: strings.Replace(valid, `"order.created"`, `"order.paid"`, 1), want: []string{"type: "}},
		{name: "bad time", body: strings.Replace(valid, `2026-11-21T09:30:00+09:00`, `yesterday`, 1), want: []string{"occurred_at: "}},
		{name: "negative quantity", body: strings.Replace(valid, `"quantity":1`, `"quantity":-2`, 1), want: []string{"order.items[0].quantity: must be at least 1, got -2"}},
		{name: "fractional price", body: strings.Replace(valid, `"price":100`, `"price":100.5`, 1), want: []string{"order.items[0].price: "}},
		{name: "string total", body: strings.Replace(valid, `"total":100`, `"total":"100"`, 1), want: []string{"order.total: "}},
		{name: "unknown currency", body: strings.Replace(valid, `"JPY"`, `"ZZZ"`, 1), want: []string{`order.currency: "ZZZ" is not an ISO 4217 currency code`}},
		{name: "lowercase currency", body: strings.Replace(valid, `"JPY"`, `"jpy"`, 1), want: []string{"order.currency: "}},
		{name: "created without items and customer", body: `{"id":"e","type":"order.created","occurred_at":"2026-11-21T09:30:00Z","order":{"id":"1","currency":"JPY","total":1}}`, want: []string{"order.customer: is required", "order.items: is required"}},
		{name: "bad email", body: strings.Replace(valid, `"customer":{"id":"c"}`, `"customer":{"id":"c","email":"not-an-address"}`, 1), want: []string{"order.customer.email: "}},
		{name: "bad line user id", body: strings.Replace(valid, `"customer":{"id":"c"}`, `"customer":{"id":"c","line_user_id":"hello"}`, 1), want: []string{"order.customer.line_user_id: "}},
		{name: "several at once", body: strings.Replace(strings.Replace(valid, `"quantity":1`, `"quantity":0`, 1), `"sku":"S"`, `"sku":""`, 1), want: []string{"order.items[0].quantity: ", "order.items[0].sku: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeGeneric([]byte(tt.body))
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("DecodeGeneric error = %v, want *InvalidError", err)
			}
			for _, w := range tt.want {
				found := false
				for _, f := range inv.Fields {
					if strings.HasPrefix(f.Field+": "+f.Message, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing %q in %v", w, inv.Fields)
				}
			}
			if len(inv.Fields) != len(tt.want) {
				t.Errorf("got %d field errors %v, want %d", len(inv.Fields), inv.Fields, len(tt.want))
			}
		})
	}
}

func TestDecodeGenericBirthdayKeepsMonthAndDay(t *testing.T) {
	tests := []struct {
		name, birthday, want string
	}{
		{name: "full date", birthday: `"1990-12-05"`, want: "12-05"},
		{name: "month and day", birthday: `"02-29"`, want: "02-29"},
		{name: "null", birthday: `null`, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"e","type":"order.created","occurred_at":"2026-11-21T09:30:00+09:00","order":{"id":"1","currency":"JPY","total":100,"customer":{"id":"c","birthday":` + tt.birthday + `},"items":[{"sku":"S","name":"n","price":100,"quantity":1}]}}`
			ev, err := DecodeGeneric([]byte(body))
			if err != nil || ev.Order.Customer.Birthday != tt.want {
				t.Errorf("birthday = %q, %v; want %q", ev.Order.Customer.Birthday, err, tt.want)
			}
		})
	}
	if _, err := DecodeGeneric([]byte(`{"id":"e","type":"order.created","occurred_at":"2026-11-21T09:30:00+09:00","order":{"id":"1","currency":"JPY","total":100,"customer":{"id":"c","birthday":"13-40"},"items":[{"sku":"S","name":"n","price":100,"quantity":1}]}}`)); err == nil || !strings.Contains(err.Error(), "order.customer.birthday") {
		t.Errorf("a bad birthday must be named: %v", err)
	}
}

func TestItemsMerchandise(t *testing.T) {
	items := []Item{{SKU: "TEA", UnitPrice: 1500, Quantity: 2}, {Name: "のし", UnitPrice: 300, Quantity: 1, Kind: CustomLine}, {Name: "ギフトカード", UnitPrice: 5000, Quantity: 1, Kind: GiftCardLine}}
	tests := []struct {
		name  string
		total int64
		want  int64
	}{
		{name: "shipping on top: the products only", total: 9800, want: 3000},
		{name: "a discount brought the total under the products", total: 2500, want: 2500},
		{name: "nothing to pay", total: 0, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ItemsMerchandise(items, tt.total); got != tt.want {
				t.Errorf("ItemsMerchandise(total %d) = %d, want %d", tt.total, got, tt.want)
			}
		})
	}
}
