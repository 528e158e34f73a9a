package segments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/recount"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the nightly job needs of the store.
type Store interface {
	ScanNightly(ctx context.Context, segments int, now time.Time, profile func(customer.Profile), source func(store.CounterSource)) error
	SegmentStats(ctx context.Context) (st store.SegmentStats, found bool, err error)
	SaveSegmentStats(ctx context.Context, st store.SegmentStats) error
	SaveSnapshot(ctx context.Context, snap store.Snapshot) error
}

// Job is the nightly job: one parallel scan of the profiles gives the
// decile and RFM bounds the rules use and the night's snapshot for
// reports; with Recount, the same scan recounts the campaign counters of
// the last days from the message log, clicks, attributions and coupons,
// and corrects those a failed counter update left wrong. The segment function runs it on schedule, `tsunagu segments`
// and `tsunagu seed` on demand.
type Job struct {
	Store Store
	// ScanSegments is how many parallel scan segments read the profiles.
	ScanSegments int
	// Thresholds and Location are the shop's (rules/settings.yaml): the
	// snapshot's lifecycle stages and its shop-zone date.
	Thresholds customer.Thresholds
	Location   *time.Location
	// Segments names the segments a customer is in as of now, with the
	// decile bounds given (rules.Set.SegmentsOf; nil: the snapshot has no
	// figures by segment). They are evaluated with the bounds campaigns
	// use until this run's are saved: the last run's, or Deciles before
	// the first.
	Segments func(p customer.Profile, deciles [9]int64, now time.Time) []string
	Deciles  [9]int64
	// Recount reconciles the counters of Campaigns over the days
	// recount.NightlyRange gives for Measurement's windows; nil: not.
	Recount     *recount.Reconciler
	Campaigns   []string
	Measurement rules.Measurement
	// Ranker recomputes the member ranks of the scanned profiles; nil:
	// the shop has no ranks.
	Ranker *Ranker
}

// Run computes the figures as of now and stores them: the bounds, then
// the snapshot; then it corrects the counters the recount found wrong
// (read before the scan, so that the correction is safe against live
// writers: see package recount). Counters that cannot be read skip the
// recount, not the figures; a failed correction fails the run after the
// figures are saved (a rerun does the night again).
func (j *Job) Run(ctx context.Context, now time.Time) (store.SegmentStats, store.Snapshot, error) {
	c := NewCollector(now)
	if j.Segments != nil {
		deciles := j.Deciles
		if last, found, err := j.Store.SegmentStats(ctx); err != nil {
			return store.SegmentStats{}, store.Snapshot{}, err
		} else if found {
			deciles = last.Deciles
		}
		c.Segments = func(p customer.Profile, now time.Time) []string { return j.Segments(p, deciles, now) }
	}
	var (
		pass   *recount.Pass
		source func(store.CounterSource)
		from   time.Time
		to     time.Time
	)
	if j.Recount != nil {
		from, to = recount.NightlyRange(now, j.Location, j.Measurement)
		var err error
		if pass, err = j.Recount.Begin(ctx, j.Campaigns, from, to); err != nil {
			// The night's figures matter more: they go on without it.
			slog.ErrorContext(ctx, "counters not reconciled", "error", err)
		} else {
			source = pass.Visit
		}
	}
	visit, ranked := j.visitor(ctx, c, now)
	if err := j.Store.ScanNightly(ctx, j.ScanSegments, now, visit, source); err != nil {
		return store.SegmentStats{}, store.Snapshot{}, err
	}
	// A failed ranking fails the run once the night's figures are saved:
	// a rerun ranks the rest.
	rankErr := ranked()
	st := c.Stats()
	if err := j.Store.SaveSegmentStats(ctx, st); err != nil {
		return st, store.Snapshot{}, err
	}
	snap := c.Snapshot(j.Thresholds, j.Location)
	if err := j.Store.SaveSnapshot(ctx, snap); err != nil || pass == nil {
		return st, snap, errors.Join(err, rankErr)
	}
	fixed, err := pass.Finish(ctx)
	applied := 0
	for _, c := range fixed {
		if c.Applied {
			applied++
		}
	}
	slog.InfoContext(ctx, "counters reconciled", "from", from.Format(time.DateOnly), "to", to.Format(time.DateOnly),
		"campaigns", len(j.Campaigns), "corrections", len(fixed), "applied", applied)
	return st, snap, errors.Join(err, rankErr)
}

// visitor returns what the scan does with each profile: collect it and,
// with a Ranker, rank it; and what returns the first ranking error once
// the scan is over. Ranking errors do not stop the scan. The scan's
// segments call the visitor in parallel.
func (j *Job) visitor(ctx context.Context, c *Collector, now time.Time) (func(customer.Profile), func() error) {
	if j.Ranker == nil || j.Ranker.Ranks == nil {
		return c.Visit, func() error { return nil }
	}
	var (
		mu    sync.Mutex
		first error
	)
	visit := func(p customer.Profile) {
		c.Visit(p)
		if err := j.Ranker.Visit(ctx, p, now); err != nil {
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("rank customers: %w", err)
			}
			mu.Unlock()
		}
	}
	return visit, func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
}
