package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
)

// Ticker runs one tick as of a time.
type Ticker interface {
	Tick(ctx context.Context, now time.Time) (scheduler.Result, error)
}

// Handler runs the schedule. It takes "now" from the event, never from
// the clock, so a run is reproducible and a late run catches up.
type Handler struct {
	Ticker Ticker
}

// Handle runs one tick. An error makes EventBridge Scheduler retry; the
// tick is safe to repeat.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (scheduler.Result, error) {
	now, err := scheduler.ScheduledTime(raw)
	if err != nil {
		return scheduler.Result{}, err
	}
	res, err := h.Ticker.Tick(ctx, now)
	slog.InfoContext(ctx, "tick", "now", now, "read", res.Read, "enqueued", res.Enqueued, "points_timers", res.Points, "already_fired", res.AlreadyFired, "left_for_next_tick", res.Left)
	if err != nil {
		return res, fmt.Errorf("tick as of %s: %w", now.Format(time.RFC3339), err)
	}
	return res, nil
}
