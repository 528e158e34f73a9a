package loyalty

import (
	"context"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Ledger is what the points steps need of the store.
type Ledger interface {
	PutMovement(ctx context.Context, m Movement) (bool, error)
}

// Steps writes what order deliveries do to points, one conditional write
// per movement, so a retried or duplicated delivery converges.
type Steps struct {
	Ledger Ledger
	Rules  *rules.Set
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
	At      time.Time
}

// Earn returns the movement that earns an order's points for its
// customer: the merchandise total after discounts divided by the
// programme's amount per point, rounded down. False when the order earns
// nothing: no programme, no customer, not in the shop's currency, or less
// than one point.
func Earn(p *rules.Loyalty, shopCurrency string, o order.Order, merchandise int64, at time.Time) (Movement, bool) {
	if p == nil || o.Customer == nil || o.Currency != shopCurrency {
		return Movement{}, false
	}
	points := merchandise / p.AmountPerPoint
	if points <= 0 {
		return Movement{}, false
	}
	return Movement{CustomerID: o.Customer.ID, Kind: Earned, OrderID: o.ID, Reason: "order", Points: points, Merchandise: merchandise, At: at.UTC()}, true
}

// Order writes the movements of one order delivery: the pending earned
// points of the delivery that brought the order's details (at most one
// write per order), the reversal of a cancellation, and one reversal per
// refund that gave merchandise back. An order without a customer or in
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
		if m, ok := Earn(p, s.Rules.Settings.Shop.Currency, o, d.Merchandise, d.At); ok {
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
	return nil
}
