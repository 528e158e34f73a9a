// Package attribution decides which campaign message an order is owed to,
// and keeps the counters that follow from orders: the order's attribution
// (converted, revenue, taken back by refunds and a cancellation), the
// conversions of the lift groups the customer was assigned to, and the
// shop's daily counters.
//
// attribution.go is the rule, a pure function; steps.go carries an order,
// a refund or a cancellation out against the store, once per event.
package attribution

import (
	"slices"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Ways an order is attributed, in precedence order.
const (
	ViaCoupon  = "coupon"
	ViaClick   = "click"
	ViaReceive = "receive"
)

// Coupon is a coupon the order redeemed, with the campaign that issued it.
type Coupon struct {
	Code, CampaignID, Variant string
}

// Choice is the campaign message an order is attributed to.
type Choice struct {
	Via        string
	CampaignID string
	Variant    string
	// MessageKey is the message clicked or received; Code the coupon.
	MessageKey string
	Code       string
}

// Attribute picks the one campaign message an order placed at placedAt
// is owed to: a coupon of a campaign it redeemed first (the first listed);
// otherwise the last click within the click window before the order (the
// redirect's clicks, and a message's first click as the mail service
// reported it); otherwise, when enabled, the last message received (sent
// and not bounced) within the receive window. Opens never attribute, nor
// does a message log entry that sent nothing (a skip, a held-out or an
// assignment). false: nothing is owed.
func Attribute(placedAt time.Time, coupons []Coupon, clicks []store.Click, messages []store.MessageRecord, m rules.Measurement) (Choice, bool) {
	for _, c := range coupons {
		if c.CampaignID != "" {
			return Choice{Via: ViaCoupon, CampaignID: c.CampaignID, Variant: c.Variant, Code: c.Code}, true
		}
	}
	within := func(at time.Time, window time.Duration) bool {
		return !at.After(placedAt) && placedAt.Sub(at) <= window
	}
	for _, r := range messages {
		if !r.ClickedAt.IsZero() {
			clicks = append(clicks, store.Click{MessageKey: r.Key, CampaignID: r.CampaignID, Variant: r.Variant, At: r.ClickedAt})
		}
	}
	var last *store.Click
	for i, c := range clicks {
		if within(c.At, m.ClickWindow) && (last == nil || c.At.After(last.At)) {
			last = &clicks[i]
		}
	}
	if last != nil {
		return Choice{Via: ViaClick, CampaignID: last.CampaignID, Variant: last.Variant, MessageKey: last.MessageKey}, true
	}
	if !m.Receive {
		return Choice{}, false
	}
	received := slices.DeleteFunc(slices.Clone(messages), func(r store.MessageRecord) bool {
		return r.Status != store.MessageSent || bounced(r.Delivery) || !within(r.ClaimedAt, m.ReceiveWindow)
	})
	if len(received) == 0 {
		return Choice{}, false
	}
	r := slices.MaxFunc(received, func(a, b store.MessageRecord) int { return a.ClaimedAt.Compare(b.ClaimedAt) })
	return Choice{Via: ViaReceive, CampaignID: r.CampaignID, Variant: r.Variant, MessageKey: r.Key}, true
}

// bounced reports whether the mail service said the message never arrived.
func bounced(delivery string) bool { return delivery == "bounced" || delivery == "soft_bounced" }
