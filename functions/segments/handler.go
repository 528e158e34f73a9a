package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

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
	var ev struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Time.IsZero() {
		return store.SegmentStats{}, fmt.Errorf("read event: the event needs \"time\" (RFC 3339), got %s", raw)
	}
	st, snap, err := h.Job.Run(ctx, ev.Time)
	if err != nil {
		return st, err
	}
	slog.InfoContext(ctx, "segment stats computed", "customers", st.Customers, "deciles", st.Deciles, "snapshot", snap.Date)
	return st, nil
}
