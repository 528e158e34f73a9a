package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/digest"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
)

// Teller tells the shop's support of open cases (a *support.Desk).
type Teller interface {
	Tell(ctx context.Context, now time.Time) (int, error)
}

// Handler is the tick that writes to the shop's staff.
type Handler struct {
	Job  *digest.Job
	Desk Teller
}

// Result is what a tick sent.
type Result struct {
	digest.Result
	// CasesTold is how many support cases were told.
	CasesTold int
}

// Handle does what is due at the event's time (EventBridge Scheduler's
// scheduled time, so a retried invocation decides as the first did): the
// support cases first, then the report and the alerts. A failure of one
// does not keep the other from going out; the tick reports both.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	now, err := scheduler.ScheduledTime(raw)
	if err != nil {
		return Result{}, err
	}
	var res Result
	told, tellErr := h.Desk.Tell(ctx, now)
	res.CasesTold = told
	sent, jobErr := h.Job.Run(ctx, now)
	res.Result = sent
	return res, errors.Join(tellErr, jobErr)
}
