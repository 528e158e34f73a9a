// Package loyalty keeps a shop's points programme (rules/loyalty.yaml): a
// ledger of movements per customer, each written once under a
// deterministic id, and the balance, which is a pure function of the
// ledger. Movements may arrive in any order and any number of times; the
// balance converges all the same.
package loyalty

import (
	"math/bits"
	"time"
)

// Kind names what a movement does to a customer's points.
type Kind string

// The movements of the ledger.
const (
	// Earned: an order's points, pending until the order is approved.
	Earned Kind = "earned"
	// Approved: the order's points (what refunds and a cancellation
	// leave of them) become spendable.
	Approved Kind = "approved"
	// Spent: points exchanged for a reward, taken from the approved ones.
	Spent Kind = "spent"
	// Expired: approved points that lapsed.
	Expired Kind = "expired"
	// Reversed: an order's points taken back, by its cancellation (all of
	// them) or by a refund (pro rata to the refunded merchandise).
	Reversed Kind = "reversed"
	// Adjusted: points given (positive) or taken (negative) by the shop,
	// added to the approved ones.
	Adjusted Kind = "adjusted"
)

// Reasons of reversals.
const (
	ReasonCancel = "cancel"
	ReasonRefund = "refund"
)

// Movement is one item of a customer's ledger.
type Movement struct {
	CustomerID string
	Kind       Kind
	// OrderID is the order an earned, approved or reversed movement is
	// about.
	OrderID string
	// Reason says why: ReasonCancel or ReasonRefund for a reversal, the
	// shop's wording for the others.
	Reason string
	// Ref is the id of what caused the movement besides its order: the
	// refund of a refund reversal, the reward, the expiry run or the
	// adjustment of the others.
	Ref string
	// Points is the order's points (earned), or the points spent,
	// expired or adjusted (signed). An approval records the points it
	// approved, for the record only; reversals carry none: what approvals
	// and reversals move follows from the order's earned movement.
	Points int64
	// Merchandise is the order's merchandise total after discounts
	// (earned), or the merchandise a refund gave back (reversed), in
	// minor units of the shop currency.
	Merchandise int64
	// Request names the redemption request a spent movement answers (the
	// channel's idempotency key), so a retried request finds its spend.
	Request string
	At      time.Time
}

// ID is the movement's deterministic id in its customer's ledger: the
// same fact always gets the same id, so writing it again has no effect.
func (m Movement) ID() string {
	switch m.Kind {
	case Earned, Approved:
		return string(m.Kind) + "#" + m.OrderID
	case Reversed:
		if m.Reason == ReasonRefund {
			return string(m.Kind) + "#" + m.OrderID + "#" + ReasonRefund + "#" + m.Ref
		}
		return string(m.Kind) + "#" + m.OrderID + "#" + m.Reason
	}
	return string(m.Kind) + "#" + m.Ref
}

// Balance is a customer's points: Approved can be spent and may be
// negative (a refund after the points were spent); Pending waits for
// orders' return windows.
type Balance struct {
	Approved int64
	Pending  int64
}

// orderPoints gathers one order's movements.
type orderPoints struct {
	earned    *Movement
	approved  bool
	cancelled bool
	refunded  int64
}

// BalanceOf computes the balance from a ledger, in any order; a movement
// listed twice (the same ID) counts once. An order's points are its
// earned points times the share of its merchandise not refunded
// (rounded down), none once it is cancelled; they are approved once the order is,
// pending until then.
func BalanceOf(ledger []Movement) Balance {
	seen := map[string]bool{}
	orders := map[string]*orderPoints{}
	of := func(id string) *orderPoints {
		o := orders[id]
		if o == nil {
			o = &orderPoints{}
			orders[id] = o
		}
		return o
	}
	var b Balance
	for i := range ledger {
		m := &ledger[i]
		if seen[m.ID()] {
			continue
		}
		seen[m.ID()] = true
		switch m.Kind {
		case Earned:
			of(m.OrderID).earned = m
		case Approved:
			of(m.OrderID).approved = true
		case Reversed:
			if m.Reason == ReasonRefund {
				of(m.OrderID).refunded += m.Merchandise
			} else {
				of(m.OrderID).cancelled = true
			}
		case Spent, Expired:
			b.Approved -= m.Points
		case Adjusted:
			b.Approved += m.Points
		}
	}
	for _, o := range orders {
		left := o.left()
		if o.approved {
			b.Approved += left
		} else {
			b.Pending += left
		}
	}
	return b
}

// left is what is left of an order's points.
func (o *orderPoints) left() int64 {
	e := o.earned
	if e == nil || o.cancelled || e.Points <= 0 {
		return 0
	}
	if e.Merchandise <= 0 {
		return e.Points
	}
	kept := uint64(max(e.Merchandise-o.refunded, 0))
	// Points × kept / Merchandise without overflow: kept <= Merchandise,
	// so the quotient fits in Points.
	hi, lo := bits.Mul64(uint64(e.Points), kept)
	q, _ := bits.Div64(hi, lo, uint64(e.Merchandise))
	return int64(q)
}
