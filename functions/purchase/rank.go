package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// rankLedger reads the customer's ledger when the shop ranks customers by
// approved points; nil otherwise (ranks by spend need the profile only).
func (h *Handler) rankLedger(ctx context.Context, customerID string) ([]loyalty.Movement, error) {
	if r := h.Rules.Ranks(); r == nil || r.Basis != rules.RankByApprovedPoints {
		return nil, nil
	}
	return h.Points.Movements(ctx, customerID)
}

// rankOf is the customer's member rank as the profile holds it; the zero
// rank when the shop has none.
func (h *Handler) rankOf(p customer.Profile) rules.Rank {
	r, _ := h.Rules.Ranks().Find(p.Rank)
	return r
}

// rankChanged runs the loyalty.rank_up or loyalty.rank_down campaigns
// when the delivery of order o changed the customer's rank. A retried
// delivery the same day finds the change the first attempt wrote on the
// profile and runs them again under the same key: each campaign sends
// once.
func (h *Handler) rankChanged(ctx context.Context, p customer.Profile, o order.Order, now time.Time) ([]campaign.Outcome, error) {
	c := p.RankChange
	today := ":" + now.In(h.Rules.Settings.Location).Format(time.DateOnly)
	if c == nil || c.OrderID != o.ID || !strings.HasSuffix(c.Key, today) {
		// No change, another order's, or one of an earlier day whose
		// campaigns ran then (the order's later events run none).
		return nil, nil
	}
	slog.InfoContext(ctx, "member rank change campaigns run", "order_id", o.ID, "trigger", c.Trigger, "rank", p.Rank)
	return h.Campaigns.Run(ctx, campaign.Trigger{Event: rules.Trigger(c.Trigger), Key: c.Key, At: now, Profile: p, Order: o})
}
