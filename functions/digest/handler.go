package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/digest"
)

// Handler is the hourly report tick.
type Handler struct {
	Job *digest.Job
}

// Handle does what is due at the event's time (EventBridge Scheduler's
// scheduled time, so a retried invocation decides as the first did).
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (digest.Result, error) {
	var ev struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Time.IsZero() {
		return digest.Result{}, fmt.Errorf("read event: the event needs \"time\" (RFC 3339), got %s", raw)
	}
	return h.Job.Run(ctx, ev.Time)
}
