package loyalty

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Ledger is what the points steps need of the store.
type Ledger interface {
	PutMovement(ctx context.Context, m Movement) (bool, error)
	Ledger(ctx context.Context, customerID string) ([]Movement, error)
	// ArmApproval arms the timer that approves an order's points at due,
	// once per order, with when its customer's points expire if it stays
	// their last order (zero: never).
	ArmApproval(ctx context.Context, customerID, orderID string, due, expiresAt time.Time) (bool, error)
	// ArmExpiry arms the timer that expires a customer's points at due if
	// the order is still their last, once per order.
	ArmExpiry(ctx context.Context, customerID, orderID string, due time.Time) (bool, error)
	// ArmExpiryWarning arms the timer that warns the customer before
	// before their points expire at expires, once per order and warning.
	ArmExpiryWarning(ctx context.Context, customerID, orderID string, due, expires time.Time, before time.Duration) (bool, error)
}

// Steps writes what order deliveries (Order) and the scheduler's points
// timers (Approve, Expire) do to points, one conditional write per
// movement or timer, so a retried or duplicated delivery or tick
// converges.
type Steps struct {
	Ledger Ledger
	// Rules is the shop's rules; Order needs them, and Approve for the
	// expiry warnings (without them, it arms none). Expire does not (its
	// timer carries what it needs).
	Rules *rules.Set
}

// OrderDelivery is what one delivery did to an order, as the purchase
// webhook knows it once the order is stored.
type OrderDelivery struct {
	// Event is the delivery's type.
	Event order.EventType
	// Order is the order as stored, with its customer; Status its status.
	Order  order.Order
	Status order.EventType
	// BroughtDetails is set when this delivery is the one that brought
	// the order's details (a retry of it too); Merchandise is then what
	// the delivery said the products came to.
	BroughtDetails bool
	Merchandise    int64
	// Refunds are the refunds the delivery told of.
	Refunds []order.Refund
	// At is when the delivery's event occurred; HeardAt when tsunagu
	// received it.
	At      time.Time
	HeardAt time.Time
	// Rank is the customer's member rank once the order counted (the
	// zero rank without ranks): its multiplier_percent multiplies the
	// points the order earns.
	Rank rules.Rank
}

// Earn returns the movement that earns an order's points for its
// customer: the merchandise total after discounts divided by the
// programme's amount per point, times the multiplier_percent of the
// customer's member rank over 100 (none without ranks), rounded down.
// False when the order earns nothing: no programme, no customer, not in
// the shop's currency, or less than one point.
func Earn(p *rules.Loyalty, shopCurrency string, o order.Order, merchandise int64, rank rules.Rank, at time.Time) (Movement, bool) {
	if p == nil || o.Customer == nil || o.Currency != shopCurrency {
		return Movement{}, false
	}
	points := merchandise / p.AmountPerPoint
	if rank.MultiplierPercent > 0 {
		// floor(merchandise / amount_per_point × multiplier / 100), in
		// one division so that the multiplier applies to the fraction too.
		points = merchandise * rank.MultiplierPercent / (p.AmountPerPoint * 100)
	}
	if points <= 0 {
		return Movement{}, false
	}
	return Movement{CustomerID: o.Customer.ID, Kind: Earned, OrderID: o.ID, Reason: "order", Points: points, Merchandise: merchandise, At: at.UTC()}, true
}

// Movements returns a customer's ledger.
func (s *Steps) Movements(ctx context.Context, customerID string) ([]Movement, error) {
	return s.Ledger.Ledger(ctx, customerID)
}

// Order writes the movements of one order delivery: the pending earned
// points of the delivery that brought the order's details (at most one
// write per order), the reversal of a cancellation, and one reversal per
// refund that gave merchandise back; and, once the order is delivered,
// arms the timer that approves its points when the return window has
// passed (one more write per order). An order without a customer or in
// another currency than the shop's moves no points.
func (s *Steps) Order(ctx context.Context, d OrderDelivery) error {
	p, o := s.Rules.Loyalty, d.Order
	if p == nil || o.Customer == nil || o.Currency != s.Rules.Settings.Shop.Currency {
		return nil
	}
	var moves []Movement
	switch {
	case d.Status == order.Cancelled && d.Event == order.Cancelled:
		moves = append(moves, Movement{CustomerID: o.Customer.ID, Kind: Reversed, OrderID: o.ID, Reason: ReasonCancel, At: d.At.UTC()})
	case d.Status != order.Cancelled && d.BroughtDetails:
		if m, ok := Earn(p, s.Rules.Settings.Shop.Currency, o, d.Merchandise, d.Rank, d.At); ok {
			moves = append(moves, m)
		}
	}
	for _, r := range d.Refunds {
		if r.Merchandise > 0 && r.Currency == o.Currency {
			moves = append(moves, Movement{CustomerID: o.Customer.ID, Kind: Reversed, OrderID: o.ID, Reason: ReasonRefund, Ref: r.ID, Merchandise: r.Merchandise, At: r.At.UTC()})
		}
	}
	for _, m := range moves {
		written, err := s.Ledger.PutMovement(ctx, m)
		if err != nil {
			return err
		}
		if written {
			slog.InfoContext(ctx, "points movement", "kind", m.Kind, "reason", m.Reason, "order_id", m.OrderID, "points", m.Points, "merchandise", m.Merchandise)
		}
	}
	if due, ok := approvalDue(p, d); ok {
		armed, err := s.Ledger.ArmApproval(ctx, o.Customer.ID, o.ID, due, expiresAt(p, o, d.At))
		if err != nil {
			return err
		}
		if armed {
			slog.InfoContext(ctx, "points approval armed", "order_id", o.ID, "due_at", due)
		}
	}
	return nil
}

// expiresAt is when a customer's points expire if order o stays their
// last: the programme's months after it was placed (after at when the
// order does not say); zero when points never expire.
func expiresAt(p *rules.Loyalty, o order.Order, at time.Time) time.Time {
	if p.ExpiryMonths <= 0 {
		return time.Time{}
	}
	placed := o.PlacedAt
	if placed.IsZero() {
		placed = at
	}
	return placed.UTC().AddDate(0, p.ExpiryMonths, 0)
}

// approvalDue is when a delivered order's points are approved: the return
// window after its delivery. The delivery event gives the delivery time;
// when the order's details arrive after its delivery (reordered
// deliveries), the window counts from when they were heard of, which is
// later than the delivery, never earlier. False when the delivery does
// not arm the approval.
func approvalDue(p *rules.Loyalty, d OrderDelivery) (time.Time, bool) {
	switch {
	case d.Status != order.Delivered:
		return time.Time{}, false
	case d.Event == order.Delivered:
		return d.At.UTC().Add(p.ReturnWindow), true
	case d.BroughtDetails:
		return d.HeardAt.UTC().Add(p.ReturnWindow), true
	}
	return time.Time{}, false
}

// Approve approves an order's points for its customer, as the scheduler
// does when the order's return window has passed: one "approved" movement
// per order, recording the points approved (the earned ones less what
// refunds took back by then). A cancelled order approves nothing. A
// repeated call writes nothing more; a refund after approval still takes
// its share back (BalanceOf). When expires is set, the approved order
// then arms the timer that expires the customer's points at expires,
// should it still be their last order, and the warnings before it
// (ArmWarnings).
func (s *Steps) Approve(ctx context.Context, customerID, orderID string, at, expires time.Time) error {
	ledger, err := s.Ledger.Ledger(ctx, customerID)
	if err != nil {
		return fmt.Errorf("approve points of order %s: %w", orderID, err)
	}
	var mine []Movement
	for _, m := range ledger {
		if m.OrderID != orderID {
			continue
		}
		if m.Kind == Reversed && m.Reason == ReasonCancel {
			slog.InfoContext(ctx, "points approval skipped", "order_id", orderID, "reason", "cancelled")
			return nil
		}
		mine = append(mine, m)
	}
	b := BalanceOf(mine)
	m := Movement{CustomerID: customerID, Kind: Approved, OrderID: orderID, Reason: "return_window", Points: b.Pending + b.Approved, At: at.UTC()}
	written, err := s.Ledger.PutMovement(ctx, m)
	if err != nil {
		return fmt.Errorf("approve points of order %s: %w", orderID, err)
	}
	if written {
		slog.InfoContext(ctx, "points movement", "kind", m.Kind, "reason", m.Reason, "order_id", orderID, "points", m.Points)
	}
	if expires.IsZero() {
		return nil
	}
	if _, err := s.Ledger.ArmExpiry(ctx, customerID, orderID, expires); err != nil {
		return fmt.Errorf("approve points of order %s: %w", orderID, err)
	}
	return s.armWarnings(ctx, customerID, orderID, at, expires)
}

// armWarnings arms the expiry warnings of loyalty.yaml's
// expiry.warn_before whose time is still to come at now, when an enabled
// campaign listens to loyalty.points_expiring: one timer each, which runs
// those campaigns then.
func (s *Steps) armWarnings(ctx context.Context, customerID, orderID string, now, expires time.Time) error {
	if s.Rules == nil || s.Rules.Loyalty == nil || !s.Rules.Listens(rules.TriggerPointsExpiring, now) {
		return nil
	}
	for _, before := range s.Rules.Loyalty.ExpiryWarnings {
		due := expires.Add(-before)
		if !due.After(now) {
			continue // too late to warn so early; a shorter warning may still come
		}
		if _, err := s.Ledger.ArmExpiryWarning(ctx, customerID, orderID, due, expires, before); err != nil {
			return fmt.Errorf("arm points expiry warning of order %s: %w", orderID, err)
		}
	}
	return nil
}

// Expiring reads whether a warning armed by order orderID still stands:
// the customer has approved points and no later order (which would have
// moved the expiry). It returns their points when it does.
func (s *Steps) Expiring(ctx context.Context, customerID, orderID string) (Summary, bool, error) {
	ledger, err := s.Ledger.Ledger(ctx, customerID)
	if err != nil {
		return Summary{}, false, fmt.Errorf("check points expiry after order %s: %w", orderID, err)
	}
	if laterOrder(ledger, orderID) != "" {
		return Summary{}, false, nil
	}
	sum := Summarize(s.Rules.Loyalty, ledger)
	return sum, sum.Expiring > 0, nil
}

// Expire expires a customer's approved points, as the scheduler does when
// an order's expiry timer is due: unless a later order that was not
// cancelled has earned points since (its own timer then decides), one
// "expired" movement per last order (id expired#<order id>) takes the
// positive approved balance. A repeated call writes nothing more.
func (s *Steps) Expire(ctx context.Context, customerID, orderID string, at time.Time) error {
	ledger, err := s.Ledger.Ledger(ctx, customerID)
	if err != nil {
		return fmt.Errorf("expire points after order %s: %w", orderID, err)
	}
	if later := laterOrder(ledger, orderID); later != "" {
		slog.InfoContext(ctx, "points expiry skipped", "order_id", orderID, "reason", "later_order", "later_order_id", later)
		return nil
	}
	b := BalanceOf(ledger)
	if b.Approved <= 0 {
		return nil
	}
	m := Movement{CustomerID: customerID, Kind: Expired, OrderID: orderID, Reason: "no_order", Ref: orderID, Points: b.Approved, At: at.UTC()}
	written, err := s.Ledger.PutMovement(ctx, m)
	if err != nil {
		return fmt.Errorf("expire points after order %s: %w", orderID, err)
	}
	if written {
		slog.InfoContext(ctx, "points movement", "kind", m.Kind, "reason", m.Reason, "order_id", orderID, "points", m.Points)
	}
	return nil
}

// laterOrder is an order of the ledger, not cancelled, that earned points
// after order id did; "" when there is none.
func laterOrder(ledger []Movement, id string) string {
	var earned time.Time
	for _, m := range ledger {
		if m.Kind == Earned && m.OrderID == id {
			earned = m.At
		}
	}
	if latest, ok := latestOrder(ledger); ok && latest.OrderID != id && latest.At.After(earned) {
		return latest.OrderID
	}
	return ""
}
