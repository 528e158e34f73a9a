// Package segments computes the whole-population figures some segments
// need: decile bounds of total spent and quintile bounds of recency,
// frequency and monetary value. The nightly job computes them with a
// parallel scan; the rules then use them instead of the configured ones.
// The same scan gives the night's snapshot for reports: customers and
// revenue by lifecycle stage and by decile, LINE and email reach, and the
// stage migration over the month before.
package segments

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Collector gathers what it needs from each profile; safe for the scan's
// concurrent visits.
type Collector struct {
	// Segments, when set, names the segments a customer is in as of now,
	// for the snapshot's figures by segment.
	Segments func(p customer.Profile, now time.Time) []string

	now     time.Time
	mu      sync.Mutex
	spent   []int64
	recency []int
	orders  []int
	// standing keeps what the snapshot needs of each customer.
	standing []standing
}

// standing is what a snapshot needs of one customer: spend, standing
// orders now and a month before, and reach.
type standing struct {
	spent                     int64
	orders, ordersThen        int
	last, lastThen            time.Time
	lineLinked, lineFollowing bool
	email                     bool
	segments                  []string
}

// NewCollector collects as of now (recency counts days up to it).
func NewCollector(now time.Time) *Collector { return &Collector{now: now} }

// Visit takes one profile; customers without a standing order are left
// out of every figure.
func (c *Collector) Visit(p customer.Profile) {
	if p.OrderCount == 0 {
		return
	}
	ordersThen, lastThen := p.StandingAt(c.monthBefore())
	st := standing{
		spent: p.TotalSpent, orders: p.OrderCount, last: p.LastOrderAt, ordersThen: ordersThen, lastThen: lastThen,
		lineLinked: p.LineUserID != "", lineFollowing: p.LineConsented(), email: p.MarketingAllowed() && p.Reachable("email"),
	}
	if c.Segments != nil {
		st.segments = c.Segments(p, c.now)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spent = append(c.spent, p.TotalSpent)
	c.recency = append(c.recency, p.DaysSinceLastOrder(c.now))
	c.orders = append(c.orders, p.OrderCount)
	c.standing = append(c.standing, st)
}

// monthBefore is when the stage migration starts: a month before now.
func (c *Collector) monthBefore() time.Time { return c.now.AddDate(0, -1, 0) }

// Snapshot computes the night's snapshot from what was collected: stages
// with the shop's thresholds, the date in the shop's zone.
func (c *Collector) Snapshot(th customer.Thresholds, loc *time.Location) store.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	since := c.monthBefore()
	snap := store.Snapshot{
		Date: c.now.In(loc).Format(time.DateOnly), ComputedAt: c.now.UTC(), Customers: len(c.standing),
		Stages: map[string]store.Share{}, Segments: map[string]store.Share{}, MigrationSince: since.In(loc).Format(time.DateOnly), Migration: map[string]map[string]int{},
	}
	for _, s := range c.standing {
		now := (&customer.Profile{OrderCount: s.orders, LastOrderAt: s.last}).StageAt(th, c.now)
		then := (&customer.Profile{OrderCount: s.ordersThen, LastOrderAt: s.lastThen}).StageAt(th, since)
		sh := snap.Stages[string(now)]
		sh.Customers++
		sh.Revenue += s.spent
		snap.Stages[string(now)] = sh
		for _, name := range s.segments {
			sh := snap.Segments[name]
			sh.Customers++
			sh.Revenue += s.spent
			snap.Segments[name] = sh
		}
		if snap.Migration[string(then)] == nil {
			snap.Migration[string(then)] = map[string]int{}
		}
		snap.Migration[string(then)][string(now)]++
		snap.Revenue += s.spent
		snap.RepeatCustomers += count(s.orders >= 2)
		snap.LineLinked += count(s.lineLinked)
		snap.LineFollowing += count(s.lineFollowing)
		snap.EmailConsenting += count(s.email)
	}
	spent := slices.Clone(c.spent)
	slices.SortFunc(spent, func(a, b int64) int { return cmp.Compare(b, a) })
	for i, v := range spent {
		d := &snap.Deciles[i*10/len(spent)]
		d.Customers++
		d.Revenue += v
	}
	return snap
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Stats computes the bounds from what was collected.
func (c *Collector) Stats() store.SegmentStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := store.SegmentStats{ComputedAt: c.now.UTC(), Customers: len(c.spent)}
	copy(st.Deciles[:], quantiles(c.spent, 10))
	copy(st.Monetary[:], quantiles(c.spent, 5))
	copy(st.FrequencyOrders[:], quantiles(c.orders, 5))
	copy(st.RecencyDays[:], quantiles(c.recency, 5))
	return st
}

// quantiles returns the n-1 cut points that split values into n groups of
// (nearly) equal size, ascending; empty input gives zeros.
func quantiles[T int | int64](values []T, n int) []T {
	out := make([]T, n-1)
	if len(values) == 0 {
		return out
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	for i := 1; i < n; i++ {
		out[i-1] = sorted[i*len(sorted)/n]
	}
	return out
}
