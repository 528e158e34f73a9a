// Package scheduler runs one tick of the schedule: it reads the timers that
// are due, through the due index spread over shards (never every customer),
// hands them to the sender's queue and marks them fired.
package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what a tick needs of the store.
type Store interface {
	DueTimers(ctx context.Context, shard int, upTo time.Time, limit int) ([]store.Timer, error)
	FinishTimer(ctx context.Context, key, status string) (bool, error)
}

// Queue takes work for the sender.
type Queue interface {
	Send(ctx context.Context, msgs []queue.Message) ([]bool, error)
}

// Ticker runs ticks.
type Ticker struct {
	Store Store
	Queue Queue
	// PageSize is how many due timers one read takes from a shard.
	PageSize int
	// Reserve is how long before its deadline a tick stops taking more
	// work, leaving the rest for the next tick.
	Reserve time.Duration
}

// Result counts what a tick did.
type Result struct {
	// Read is how many timers the due index returned.
	Read int `json:"read"`
	// Enqueued is how many due timers went to the sender.
	Enqueued int `json:"enqueued"`
	// AlreadyFired counts timers another tick fired first.
	AlreadyFired int `json:"already_fired"`
	// Left is true when the tick ran out of time before the index ran dry.
	Left bool `json:"left_for_next_tick"`
}

// Tick hands every timer due at or before now to the queue, shard by shard
// in parallel. Each timer is enqueued before it is marked fired, so a tick
// that dies midway loses nothing: the next tick enqueues the rest again and
// the sender's message keys stop anything being sent twice. Ticks that
// overlap, run late or run twice therefore send nothing twice either.
func (t *Ticker) Tick(ctx context.Context, now time.Time) (Result, error) {
	var mu sync.Mutex
	var res Result
	deadline, hasDeadline := ctx.Deadline()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for shard := range store.TimerShards {
		g.Go(func() error {
			for {
				if hasDeadline && time.Until(deadline) < t.Reserve {
					mu.Lock()
					res.Left = true
					mu.Unlock()
					return nil
				}
				due, err := t.Store.DueTimers(gctx, shard, now, t.PageSize)
				if err != nil {
					return err
				}
				if len(due) == 0 {
					return nil
				}
				msgs := make([]queue.Message, len(due))
				for i, tm := range due {
					msgs[i] = queue.Message{Timer: tm, Now: now}
				}
				sent, err := t.Queue.Send(gctx, msgs)
				if err != nil {
					return err
				}
				enqueued, fired := 0, 0
				for i, tm := range due {
					if !sent[i] {
						continue
					}
					enqueued++
					ok, err := t.Store.FinishTimer(gctx, tm.Key, store.TimerFired)
					if err != nil {
						return err
					}
					if !ok {
						fired++
					}
				}
				mu.Lock()
				res.Read += len(due)
				res.Enqueued += enqueued
				res.AlreadyFired += fired
				mu.Unlock()
				if enqueued < len(due) || len(due) < t.PageSize {
					return nil // refused ones wait for the next tick
				}
			}
		})
	}
	err := g.Wait()
	return res, err
}

// ScheduledTime reads the time of a schedule's event: EventBridge
// Scheduler fills "time" with the scheduled time (template.yaml sets each
// schedule's input so), and `tsunagu tick` sends the same. A function
// runs as of that time, never the clock's, so a retried or late
// invocation decides as the first would have.
func ScheduledTime(raw json.RawMessage) (time.Time, error) {
	var ev struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Time.IsZero() {
		return time.Time{}, fmt.Errorf("read scheduled event: the event needs \"time\" (RFC 3339), got %s", raw)
	}
	return ev.Time, nil
}
