package customer

import (
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// TestNoContactDetailsFromBeforeTheErasure: after an erasure, a delivery
// brings contact details back only for an order placed, and delivered,
// after it.
func TestNoContactDetailsFromBeforeTheErasure(t *testing.T) {
	erasedAt := day(10)
	// buyer is the customer as a delivery of an order placed at placed
	// states it, consent given at checkout.
	buyer := func(placed time.Time) *order.Customer {
		return &order.Customer{ID: "c-1", Email: "misaki@example.jp", Name: "高橋 美咲", Birthday: "04-12",
			Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: placed}}
	}
	tests := []struct {
		name            string
		placed, eventAt time.Time
		restored        bool
	}{
		{"an order from before, replayed", day(5), day(5), false},
		{"an order from before, with a later event time", day(5), day(20), false},
		{"an order from before, delivered after (fulfilled, cancelled)", day(9), day(11), false},
		{"an order placed at the erasure", erasedAt, erasedAt, false},
		{"an event time at the erasure", day(11), erasedAt, false},
		{"a new order after the erasure", day(11), day(11), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Profile
			p.ApplyDelivery(buyer(day(1)), yokanOrder("o-1", day(1), 4300), order.Created, day(1), testThresholds)
			p.Erase(erasedAt)
			p.ApplyDelivery(buyer(tt.placed), yokanOrder("o-2", tt.placed, 4300), order.Created, tt.eventAt, testThresholds)
			if got := p.Email != "" || p.Name != "" || p.Birthday != ""; got != tt.restored {
				t.Errorf("contact details back = %v (%q %q %q), want %v", got, p.Email, p.Name, p.Birthday, tt.restored)
			}
			if tt.restored != (p.Consent.State == order.ConsentGranted) {
				t.Errorf("consent %+v after the delivery; restored %v", p.Consent, tt.restored)
			}
			if p.OrderCount != 2 || !p.ErasedAt.Equal(erasedAt) {
				t.Errorf("orders %d, erased at %v; want the order counted and the erasure kept", p.OrderCount, p.ErasedAt)
			}
		})
	}
}
