// Package rank places customers in the shop's member ranks (会員ランク,
// the ranks: section of rules/loyalty.yaml): a pure function of what the
// customer profile holds (their orders) or of their points ledger, over a
// rolling window that moves with time, so that a customer drops a rank
// when old orders leave it.
package rank

import (
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Of returns the customer's rank under ranks r at now: the highest rank
// whose threshold the customer's measure over the window reaches. With
// basis spend the measure is what the profile's orders placed in the
// window came to in the shop currency, less refunds, cancelled orders
// left out; with approved_points it is the points approved (and given)
// in the window according to ledger, which only that basis needs (nil
// otherwise). Spending points never lowers a rank. False when the shop
// has no ranks.
func Of(r *rules.Ranks, currency string, p *customer.Profile, ledger []loyalty.Movement, now time.Time) (rules.Rank, bool) {
	if r == nil || len(r.Levels) == 0 {
		return rules.Rank{}, false
	}
	return r.For(Measure(r, currency, p, ledger, now)), true
}

// Measure is what ranks r compare against their thresholds for the
// customer at now: spend or approved points over the window (Of).
func Measure(r *rules.Ranks, currency string, p *customer.Profile, ledger []loyalty.Movement, now time.Time) int64 {
	since := now.AddDate(0, -r.WindowMonths, 0)
	if r.Basis == rules.RankByApprovedPoints {
		return ApprovedPoints(ledger, since, now)
	}
	return Spend(p, currency, since, now)
}

// Next is the rank above the one measure reaches and how much more it
// takes; false at the top.
func Next(r *rules.Ranks, measure int64) (rules.Rank, int64, bool) {
	for _, x := range r.Levels {
		if x.Threshold > measure {
			return x, x.Threshold - measure, true
		}
	}
	return rules.Rank{}, 0, false
}

// Spend is what the profile's orders placed from since to now came to in
// currency, less refunds; cancelled orders and orders without details
// count nothing.
func Spend(p *customer.Profile, currency string, since, now time.Time) int64 {
	var sum int64
	for _, s := range p.Orders {
		if s.Status == order.Cancelled || !s.HasDetails || s.Currency != currency {
			continue
		}
		if s.PlacedAt.Before(since) || s.PlacedAt.After(now) {
			continue
		}
		sum += s.Total
	}
	return sum
}

// ApprovedPoints is the points approved, and given by the shop, from
// since to now: spending, expiry and points taken by the shop do not
// lower it.
func ApprovedPoints(ledger []loyalty.Movement, since, now time.Time) int64 {
	var sum int64
	seen := map[string]bool{}
	for _, m := range ledger {
		if (m.Kind != loyalty.Approved && m.Kind != loyalty.Adjusted) || m.Points <= 0 || seen[m.ID()] {
			continue
		}
		seen[m.ID()] = true
		if m.At.Before(since) || m.At.After(now) {
			continue
		}
		sum += m.Points
	}
	return sum
}

// Change is a customer's move from one rank to another.
type Change struct {
	From, To rules.Rank
	// Up is set for a move to a higher rank.
	Up bool
}

// Trigger is the campaign trigger of the change: loyalty.rank_up or
// loyalty.rank_down.
func (c Change) Trigger() rules.Trigger {
	if c.Up {
		return rules.TriggerRankUp
	}
	return rules.TriggerRankDown
}

// Key is the change's idempotency key for its campaigns and timer: the
// customer, the two ranks and the day (in loc) it happened, so a retried
// delivery or a rerun of the nightly job runs the campaigns once.
func (c Change) Key(customerID string, at time.Time, loc *time.Location) string {
	return "rank:" + customerID + ":" + c.From.ID + "->" + c.To.ID + ":" + at.In(loc).Format(time.DateOnly)
}

// Recompute sets the profile's rank under r at now and returns the
// change; false when the rank stayed (or the shop has no ranks). A
// profile without a rank yet (a new customer, or ranks just set up) that
// gets the first rank is no change; one that gets a higher rank is a
// rank up from the first.
func Recompute(r *rules.Ranks, currency string, p *customer.Profile, ledger []loyalty.Movement, now time.Time) (Change, bool) {
	to, ok := Of(r, currency, p, ledger, now)
	if !ok || p.Rank == to.ID {
		return Change{}, false
	}
	from, known := r.Find(p.Rank)
	if !known {
		from = r.Levels[0]
	}
	p.Rank = to.ID
	if from.ID == to.ID {
		return Change{}, false
	}
	return Change{From: from, To: to, Up: to.Threshold > from.Threshold}, true
}

// Apply recomputes the profile's rank under r at now, as Recompute does,
// and records a change on the profile (customer.RankChange, with the
// order that made it, "" for none) under its key for the day in loc. It
// reports whether the profile changed, and the change.
func Apply(r *rules.Ranks, currency string, p *customer.Profile, ledger []loyalty.Movement, now time.Time, loc *time.Location, orderID string) (Change, bool, bool) {
	before := p.Rank
	c, changed := Recompute(r, currency, p, ledger, now)
	if changed {
		p.RankChange = &customer.RankChange{Trigger: string(c.Trigger()), Key: c.Key(p.ID, now, loc), OrderID: orderID}
	}
	return c, changed, p.Rank != before
}

// Standing is a customer's rank as the customer is shown it: its name,
// and the next rank's with what it takes ("あと 25,700円", "あと 300 pt").
type Standing struct {
	Name, Next, NextLabel string
}

// StandingOf is the customer's standing under ranks r at now (Of, Next);
// false when the shop has no ranks.
func StandingOf(r *rules.Ranks, currency string, p *customer.Profile, ledger []loyalty.Movement, now time.Time) (Standing, bool) {
	if r == nil || len(r.Levels) == 0 {
		return Standing{}, false
	}
	measure := Measure(r, currency, p, ledger, now)
	s := Standing{Name: r.For(measure).Name}
	if next, more, ok := Next(r, measure); ok {
		s.Next = next.Name
		if r.Basis == rules.RankByApprovedPoints {
			s.NextLabel = "あと " + rules.Number(more) + " pt"
		} else {
			s.NextLabel = "あと " + rules.Money(more, currency)
		}
	}
	return s, true
}
