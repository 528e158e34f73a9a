package main

import (
	"context"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Referrals writes what an order delivery does to referrals: the buyer's
// code entry, a friend's referral with its checks, its cancellation.
type Referrals interface {
	Order(ctx context.Context, d referral.OrderDelivery) (referral.Referral, error)
}

// referralStep runs the referral step of a delivery applied to the
// buyer's profile (a zero profile for a refund, which needs none): the
// delivery that brought the order's details places it.
// It returns the referral of a placed order, as stored.
func (h *Handler) referralStep(ctx context.Context, ev order.Event, st store.OrderState, profile customer.Profile) (referral.Referral, error) {
	placed := ev.Order.HasDetails() && (ev.Type == order.Created || st.Change.Key != "" && st.Change.From == "")
	return h.Referrals.Order(ctx, referral.OrderDelivery{Sent: ev.Order, CustomerID: st.Order.Customer.ID, Status: st.Status,
		Placed: placed, Refunded: gaveMoneyBack(ev.Refunds), Profile: profile, At: ev.OccurredAt})
}

// friendOrdered runs the referral.friend_ordered campaigns for the buyer
// of an order whose referral passed the checks (pending, or in review:
// the friend's discount was given at checkout either way), once per
// referred order however often the order is delivered.
func (h *Handler) friendOrdered(ctx context.Context, r referral.Referral, profile customer.Profile, o order.Order, now time.Time) ([]campaign.Outcome, error) {
	if r.Status != referral.Pending && r.Status != referral.Review {
		return nil, nil
	}
	return h.Campaigns.Run(ctx, campaign.Trigger{Event: rules.TriggerFriendOrdered, Key: "referral:" + r.OrderID + ":" + string(rules.TriggerFriendOrdered),
		At: now, Profile: profile, Order: o})
}

// gaveMoneyBack reports whether any of the refunds gave money back.
func gaveMoneyBack(refunds []order.Refund) bool {
	for _, r := range refunds {
		if r.Amount > 0 {
			return true
		}
	}
	return false
}
