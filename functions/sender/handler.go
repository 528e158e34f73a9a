package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the sender needs of the store.
type Store interface {
	GetProfile(ctx context.Context, id string) (customer.Profile, error)
	GetOrder(ctx context.Context, id string) (store.OrderState, error)
	GetReferral(ctx context.Context, orderID string) (referral.Referral, bool, error)
	GetCoupon(ctx context.Context, code string) (store.Coupon, error)
}

// Campaigns decides and sends one campaign for a customer, and arms the
// next lifecycle timers.
type Campaigns interface {
	Run(ctx context.Context, t campaign.Trigger) ([]campaign.Outcome, error)
	ArmLifecycle(ctx context.Context, p customer.Profile, o order.Order, now time.Time) error
}

// ExpiringPoints tells whether a points expiry warning still stands (a
// *loyalty.Steps).
type ExpiringPoints interface {
	Expiring(ctx context.Context, customerID, orderID string) (loyalty.Summary, bool, error)
}

// Handler fires the timers the scheduler queued: it decides each campaign
// again for the customer as they are now (someone who ordered again gets
// no win-back) and sends, recording every outcome in the message log.
type Handler struct {
	Store     Store
	Campaigns Campaigns
	// Points checks the loyalty.points_expiring timers when they fire.
	Points ExpiringPoints
}

// Handle processes one SQS batch. A message that fails for a reason a
// retry can fix is reported in BatchItemFailures, so SQS redelivers only
// it; finished steps (claimed messages, issued coupons) do not repeat.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if err := h.fire(ctx, rec.Body); err != nil {
			slog.ErrorContext(ctx, "queued message failed; SQS will redeliver it", "message_id", rec.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) fire(ctx context.Context, body string) error {
	m, err := queue.Decode(body)
	if err != nil {
		return err // stays failing; after maxReceiveCount SQS moves it to the dead-letter queue
	}
	tm := m.Timer
	p, err := h.Store.GetProfile(ctx, tm.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		slog.WarnContext(ctx, "timer for an unknown customer dropped", "timer", tm.Key, "campaign", tm.Campaign)
		return nil
	}
	if err != nil {
		return err
	}
	t := campaign.Trigger{Event: rules.Trigger(tm.Trigger), Key: tm.TriggerKey, At: m.Now, Profile: p, Campaign: tm.Campaign, SKU: tm.SKU,
		// A timer of one campaign is its wait, over; a timer of none is a
		// trigger occurrence (a points expiry warning, a referral
		// reward), whose campaigns may still wait their own delays.
		Fired: tm.Campaign != ""}
	switch {
	case t.Event == rules.TriggerReferralRewarded:
		// The friend's order is not the advocate's to see: the trigger
		// brings the reward, and the order's id only (which a campaign's
		// delay timer carries back here).
		t.Order = order.Order{ID: tm.OrderID}
		if t.Coupon, t.PointsGiven, err = h.reward(ctx, tm.OrderID); err != nil {
			return err
		}
	case tm.OrderID != "":
		st, err := h.Store.GetOrder(ctx, tm.OrderID)
		if err != nil {
			return err
		}
		t.Order = st.Order
	}
	if t.Event == rules.TriggerPointsExpiring {
		points, stands, err := h.Points.Expiring(ctx, tm.CustomerID, tm.OrderID)
		if err != nil {
			return err
		}
		if !stands {
			slog.InfoContext(ctx, "points expiry warning skipped", "order_id", tm.OrderID, "reason", "ordered_again_or_nothing_to_expire")
			return nil
		}
		t.PointsExpireAt, t.PointsExpiring = tm.ExpiresAt, points.Expiring
	}
	outcomes, err := h.Campaigns.Run(ctx, t)
	if err != nil {
		return err
	}
	if rules.Trigger(tm.Trigger) == rules.TriggerBirthday {
		// Next year's.
		if err := h.Campaigns.ArmLifecycle(ctx, p, order.Order{}, m.Now); err != nil {
			return err
		}
	}
	for _, o := range outcomes {
		slog.InfoContext(ctx, "timer fired", "campaign", o.Campaign, "channel", o.Channel, "status", o.Status, "reason", o.Reason)
	}
	return nil
}

// reward reads what the advocate of a referred order was given: the
// coupon, or the points.
func (h *Handler) reward(ctx context.Context, orderID string) (*store.Coupon, int64, error) {
	r, found, err := h.Store.GetReferral(ctx, orderID)
	if err != nil || !found {
		return nil, 0, err
	}
	code, points, err := r.Issued()
	if err != nil || code == "" {
		return nil, points, err
	}
	c, err := h.Store.GetCoupon(ctx, code)
	if err != nil {
		return nil, 0, err
	}
	return &c, 0, nil
}
