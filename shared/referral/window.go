package referral

import (
	"context"
	"errors"
	"time"
)

// PointsTimers approves and expires an order's points when their timers
// fire (a *loyalty.Steps).
type PointsTimers interface {
	Approve(ctx context.Context, customerID, orderID string, at, expires time.Time) error
	Expire(ctx context.Context, customerID, orderID string, at time.Time) error
}

// AfterReturnWindow is what the scheduler does when an order's return
// window has passed: approve its points and, when the order was a
// friend's referred order, reward the advocate, once. The programme's
// return window is the points' (loyalty.yaml), so one timer serves both.
type AfterReturnWindow struct {
	Points    PointsTimers
	Referrals *Approver
}

// Approve approves the order's points, then rewards its referral's
// advocate when it has a pending one; an order that is no referred order
// (most are), or whose referral is not pending, rewards nothing.
func (w AfterReturnWindow) Approve(ctx context.Context, customerID, orderID string, at, expires time.Time) error {
	if err := w.Points.Approve(ctx, customerID, orderID, at, expires); err != nil {
		return err
	}
	if w.Referrals == nil || w.Referrals.Rules.Referral() == nil {
		return nil
	}
	if _, err := w.Referrals.Approve(ctx, orderID, at); err != nil && !errors.Is(err, ErrNotApprovable) {
		return err
	}
	return nil
}

// Expire expires the customer's points as the order's expiry timer says.
func (w AfterReturnWindow) Expire(ctx context.Context, customerID, orderID string, at time.Time) error {
	return w.Points.Expire(ctx, customerID, orderID, at)
}
