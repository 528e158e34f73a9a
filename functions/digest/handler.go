package main

import (
	"context"
	"encoding/json"

	"github.com/tsunagu-dev/tsunagu/shared/digest"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
)

// Handler is the hourly report tick.
type Handler struct {
	Job *digest.Job
}

// Handle does what is due at the event's time (EventBridge Scheduler's
// scheduled time, so a retried invocation decides as the first did).
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (digest.Result, error) {
	now, err := scheduler.ScheduledTime(raw)
	if err != nil {
		return digest.Result{}, err
	}
	return h.Job.Run(ctx, now)
}
