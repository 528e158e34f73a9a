package campaign

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// PointsLedger is what points actions and the {{.Points}} merge fields
// need of the store.
type PointsLedger interface {
	PutMovement(ctx context.Context, m loyalty.Movement) (bool, error)
	Ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error)
}

// PointsLinks makes a customer's signed points page link
// (redeem.Links).
type PointsLinks interface {
	URL(customerID string, at time.Time) string
}

// givePoints adds a points action's bonus to the customer's approved
// points: one "adjusted" movement named by the action's message key, so a
// retried or duplicated trigger gives it once.
func (r *Runner) givePoints(ctx context.Context, t Trigger, d Decision, i int, a rules.Action) (Outcome, error) {
	o := Outcome{Campaign: d.Campaign.ID, Variant: d.Variant, Channel: "points", Status: StatusIssued}
	m := loyalty.Movement{CustomerID: t.Profile.ID, Kind: loyalty.Adjusted, OrderID: t.Order.ID, Reason: a.Reason,
		Ref: "campaign#" + MessageKey(d.Campaign.ID, i, t.Key, t.Profile.ID), Points: a.Points, At: t.At.UTC()}
	written, err := r.Points.PutMovement(ctx, m)
	if err != nil {
		return o, err
	}
	if written {
		slog.InfoContext(ctx, "points movement", "kind", m.Kind, "campaign", d.Campaign.ID, "order_id", m.OrderID, "points", m.Points)
	} else {
		o.Status = StatusAlreadySent
	}
	return o, nil
}

// pointsData fills the message's {{.Points}}: what the campaign's points
// actions gave and, when the template shows the balance, the customer's
// points from their ledger (one Query, only for such templates). A
// loyalty.points_expiring trigger's expiry and days left come from its
// timer.
func (r *Runner) pointsData(ctx context.Context, t Trigger, d Decision, a rules.Action, data *rules.MessageData) error {
	data.Points.Awarded = d.Awarded
	if r.Points == nil || r.Rules.Loyalty == nil || !r.Rules.Templates[a.Template].UsesPoints {
		return nil
	}
	ledger, err := r.Points.Ledger(ctx, t.Profile.ID)
	if err != nil {
		return err
	}
	s := loyalty.Summarize(r.Rules.Loyalty, ledger)
	if !t.PointsExpireAt.IsZero() && s.Expiring > 0 {
		s.ExpiresAt = t.PointsExpireAt
	}
	data.Points.Balance, data.Points.Pending, data.Points.Expiring, data.Points.ExpiresAt = s.Approved, s.Pending, s.Expiring, s.ExpiresAt
	if !s.ExpiresAt.IsZero() {
		data.Points.DaysLeft = DaysLeft(t.At, s.ExpiresAt)
	}
	if r.PointsLinks != nil && r.Rules.Loyalty.HasRewards() {
		data.Points.RedeemURL = r.PointsLinks.URL(t.Profile.ID, t.At)
	}
	return nil
}

// DaysLeft is how many days are left from now until at, rounded up: a
// warning 7 days ahead says 7 even when it is sent a few minutes late.
func DaysLeft(now, at time.Time) int {
	return int(math.Ceil(at.Sub(now).Hours() / 24))
}
