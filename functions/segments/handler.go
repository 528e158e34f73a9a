package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the nightly job needs of the store.
type Store interface {
	ScanProfiles(ctx context.Context, segments int, visit func(customer.Profile)) error
	SaveSegmentStats(ctx context.Context, st store.SegmentStats) error
	SegmentStats(ctx context.Context) (st store.SegmentStats, found bool, err error)
	SaveSnapshot(ctx context.Context, snap store.Snapshot) error
}

// Handler is the nightly segment job.
type Handler struct {
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

// Handle recomputes the figures as of the event's time and stores them,
// with the night's snapshot for reports.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (store.SegmentStats, error) {
	var ev struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Time.IsZero() {
		return store.SegmentStats{}, fmt.Errorf("read event: the event needs \"time\" (RFC 3339), got %s", raw)
	}
	c := segments.NewCollector(ev.Time)
	if h.Segments != nil {
		deciles := h.Deciles
		if last, found, err := h.Store.SegmentStats(ctx); err != nil {
			return store.SegmentStats{}, err
		} else if found {
			deciles = last.Deciles
		}
		c.Segments = func(p customer.Profile, now time.Time) []string { return h.Segments(p, deciles, now) }
	}
	if err := h.Store.ScanProfiles(ctx, h.ScanSegments, c.Visit); err != nil {
		return store.SegmentStats{}, err
	}
	st := c.Stats()
	if err := h.Store.SaveSegmentStats(ctx, st); err != nil {
		return st, err
	}
	snap := c.Snapshot(h.Thresholds, h.Location)
	if err := h.Store.SaveSnapshot(ctx, snap); err != nil {
		return st, err
	}
	slog.InfoContext(ctx, "segment stats computed", "customers", st.Customers, "deciles", st.Deciles, "snapshot", snap.Date)
	return st, nil
}
