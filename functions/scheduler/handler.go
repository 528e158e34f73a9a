package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
)

// Tick is the schedule's event: EventBridge Scheduler fills time with the
// scheduled time (template.yaml sets the input), and so does `tsunagu tick`.
type Tick struct {
	Time time.Time `json:"time"`
}

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
	var t Tick
	if err := json.Unmarshal(raw, &t); err != nil || t.Time.IsZero() {
		return scheduler.Result{}, fmt.Errorf("read tick: the event needs \"time\" (RFC 3339), got %s", raw)
	}
	res, err := h.Ticker.Tick(ctx, t.Time)
	slog.InfoContext(ctx, "tick", "now", t.Time, "read", res.Read, "enqueued", res.Enqueued, "points_timers", res.Points, "already_fired", res.AlreadyFired, "left_for_next_tick", res.Left)
	if err != nil {
		return res, fmt.Errorf("tick as of %s: %w", t.Time.Format(time.RFC3339), err)
	}
	return res, nil
}
