package shopify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// TestDecodeDelivered reads Shopify's delivery signal from a real order
// body (testdata/real/PROVENANCE) and variations of its fulfilments:
// orders/updated with every successful fulfilment delivered is
// order.delivered at the latest fulfilment's updated_at; anything short
// of that stays an update, and other topics keep theirs.
func TestDecodeDelivered(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "real", "spirithero-orders-updated-delivered-usd.json"))
	if err != nil {
		t.Fatal(err)
	}
	delivered := time.Date(2021, 2, 22, 22, 47, 22, 0, time.UTC)
	second := map[string]any{"id": 2509059358770, "status": "success", "shipment_status": "in_transit", "updated_at": "2021-02-23T09:00:00-08:00"}
	tests := []struct {
		name   string
		topic  string
		change func(o map[string]any)
		want   order.EventType
		at     time.Time
	}{
		{name: "as sent", topic: "orders/updated", want: order.Delivered, at: delivered},
		{name: "orders/paid says the same", topic: "orders/paid", want: order.Delivered, at: delivered},
		{name: "orders/create keeps its topic", topic: "orders/create", want: order.Created},
		{name: "orders/fulfilled keeps its topic", topic: "orders/fulfilled", want: order.Fulfilled},
		{name: "in transit", topic: "orders/updated", want: order.Updated, change: func(o map[string]any) { fulfillment(o, 0)["shipment_status"] = "in_transit" }},
		{name: "no shipment status (no tracking)", topic: "orders/updated", want: order.Updated, change: func(o map[string]any) { fulfillment(o, 0)["shipment_status"] = nil }},
		{name: "a second parcel still on its way", topic: "orders/updated", want: order.Updated,
			change: func(o map[string]any) { o["fulfillments"] = append(o["fulfillments"].([]any), second) }},
		{name: "the second parcel delivered later: the later time", topic: "orders/updated", want: order.Delivered, at: time.Date(2021, 2, 23, 17, 0, 0, 0, time.UTC),
			change: func(o map[string]any) {
				p := map[string]any{}
				for k, v := range second {
					p[k] = v
				}
				p["shipment_status"] = "delivered"
				o["fulfillments"] = append(o["fulfillments"].([]any), p)
			}},
		{name: "a cancelled fulfilment beside the delivered one", topic: "orders/updated", want: order.Delivered, at: delivered,
			change: func(o map[string]any) {
				c := map[string]any{"id": 1, "status": "cancelled", "shipment_status": nil, "updated_at": "2021-03-01T00:00:00Z"}
				o["fulfillments"] = append(o["fulfillments"].([]any), c)
			}},
		{name: "only partly fulfilled", topic: "orders/updated", want: order.Updated, change: func(o map[string]any) { o["fulfillment_status"] = "partial" }},
		{name: "no fulfilment", topic: "orders/updated", want: order.Updated, change: func(o map[string]any) { o["fulfillments"] = []any{} }},
		{name: "a fulfilment without updated_at: the order's", topic: "orders/updated", want: order.Delivered, at: delivered,
			change: func(o map[string]any) { delete(fulfillment(o, 0), "updated_at") }},
		{name: "cancelled after delivery: a cancellation", topic: "orders/updated", want: order.Cancelled, at: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC),
			change: func(o map[string]any) { o["cancelled_at"] = "2021-03-01T00:00:00Z" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o map[string]any
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				tt.change(o)
			}
			body, _ := json.Marshal(o)
			ev, err := testDecoder.Decode(delivery(tt.topic), body, decodeAt)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tt.want || (!tt.at.IsZero() && !ev.OccurredAt.Equal(tt.at)) {
				t.Errorf("decoded %s at %s, want %s at %s", ev.Type, ev.OccurredAt, tt.want, tt.at)
			}
		})
	}
}

// fulfillment is fulfilment i of an order body.
func fulfillment(o map[string]any, i int) map[string]any {
	return o["fulfillments"].([]any)[i].(map[string]any)
}
