// Package segments computes the whole-population figures some segments
// need: decile bounds of total spent and quintile bounds of recency,
// frequency and monetary value. The nightly job computes them with a
// parallel scan; the rules then use them instead of the configured ones.
package segments

import (
	"slices"
	"sync"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Collector gathers what it needs from each profile; safe for the scan's
// concurrent visits.
type Collector struct {
	now     time.Time
	mu      sync.Mutex
	spent   []int64
	recency []int
	orders  []int
}

// NewCollector collects as of now (recency counts days up to it).
func NewCollector(now time.Time) *Collector { return &Collector{now: now} }

// Visit takes one profile; customers without a standing order are left
// out of every figure.
func (c *Collector) Visit(p customer.Profile) {
	if p.OrderCount == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spent = append(c.spent, p.TotalSpent)
	c.recency = append(c.recency, p.DaysSinceLastOrder(c.now))
	c.orders = append(c.orders, p.OrderCount)
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
