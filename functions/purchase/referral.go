package main

import (
	"context"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Referrals writes what an order delivery does to referrals: the buyer's
// code entry, a friend's referral with its checks, its cancellation.
type Referrals interface {
	Order(ctx context.Context, d referral.OrderDelivery) error
}

// referralStep runs the referral step of a delivery applied to the
// buyer's profile (a zero profile for a refund, which needs none): the
// delivery that brought the order's details places it.
func (h *Handler) referralStep(ctx context.Context, ev order.Event, st store.OrderState, profile customer.Profile) error {
	placed := ev.Order.HasDetails() && (ev.Type == order.Created || st.Change.Key != "" && st.Change.From == "")
	return h.Referrals.Order(ctx, referral.OrderDelivery{Sent: ev.Order, CustomerID: st.Order.Customer.ID, Status: st.Status,
		Placed: placed, Refunded: gaveMoneyBack(ev.Refunds), Profile: profile, At: ev.OccurredAt})
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
