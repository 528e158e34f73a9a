package segments

import (
	"context"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the nightly job needs of the store.
type Store interface {
	ScanProfiles(ctx context.Context, segments int, visit func(customer.Profile)) error
	SegmentStats(ctx context.Context) (st store.SegmentStats, found bool, err error)
	SaveSegmentStats(ctx context.Context, st store.SegmentStats) error
	SaveSnapshot(ctx context.Context, snap store.Snapshot) error
}

// Job is the nightly job: one parallel scan of the profiles gives the
// decile and RFM bounds the rules use and the night's snapshot for
// reports. The segment function runs it on schedule, `tsunagu segments`
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
}

// Run computes the figures as of now and stores them: the bounds, then
// the snapshot.
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
	if err := j.Store.ScanProfiles(ctx, j.ScanSegments, c.Visit); err != nil {
		return store.SegmentStats{}, store.Snapshot{}, err
	}
	st := c.Stats()
	if err := j.Store.SaveSegmentStats(ctx, st); err != nil {
		return st, store.Snapshot{}, err
	}
	snap := c.Snapshot(j.Thresholds, j.Location)
	return st, snap, j.Store.SaveSnapshot(ctx, snap)
}
