package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Handler is the nightly segment job, run by its schedule.
type Handler struct {
	Job *segments.Job
}

// Handle recomputes the figures as of the event's time and stores them,
// with the night's snapshot for reports.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (store.SegmentStats, error) {
	now, err := scheduler.ScheduledTime(raw)
	if err != nil {
		return store.SegmentStats{}, err
	}
	st, snap, err := h.Job.Run(ctx, now)
	if err != nil {
		return st, err
	}
	slog.InfoContext(ctx, "segment stats computed", "customers", st.Customers, "deciles", st.Deciles, "snapshot", snap.Date)
	return st, nil
}
