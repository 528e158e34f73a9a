// Package scheduler runs one tick of the schedule: it reads the timers that
// are due, through the due index spread over shards (never every customer),
// hands campaign timers to the sender's queue, approves the points of
// orders whose return window has passed and expires points after months
// without an order, and marks them fired.
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

// Points approves an order's points once its return window has passed,
// and expires a customer's points when an order stayed their last; doing
// either twice has no further effect.
type Points interface {
	Approve(ctx context.Context, customerID, orderID string, at, expires time.Time) error
	Expire(ctx context.Context, customerID, orderID string, at time.Time) error
}

// Deliveries checks, when its timer is due, whether a shipped order was
// delivered (a *support.Watch).
type Deliveries interface {
	Check(ctx context.Context, customerID, orderID string, at time.Time) error
}

// Ticker runs ticks.
type Ticker struct {
	Store  Store
	Queue  Queue
	Points Points
	// Deliveries runs the delivery-watch timers (nil: none are armed).
	Deliveries Deliveries
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
	// Points is how many timers ran in the tick itself: points approvals
	// and expiries, delivery checks.
	Points int `json:"points_timers"`
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
				points, campaigns := split(due)
				ran, fired, err := t.points(gctx, points)
				if err != nil {
					return err
				}
				enqueued, refired, err := t.enqueue(gctx, campaigns, now)
				if err != nil {
					return err
				}
				mu.Lock()
				res.Read += len(due)
				res.Enqueued += enqueued
				res.Points += ran
				res.AlreadyFired += fired + refired
				mu.Unlock()
				if enqueued < len(campaigns) || len(due) < t.PageSize {
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

// split parts due timers into those the tick runs itself (points,
// delivery checks) and campaign timers, which go to the sender.
func split(due []store.Timer) (points, campaigns []store.Timer) {
	for _, tm := range due {
		if tm.Reason == store.ReasonPointsApproval || tm.Reason == store.ReasonPointsExpiry || tm.Reason == store.ReasonDeliveryWatch {
			points = append(points, tm)
		} else {
			campaigns = append(campaigns, tm)
		}
	}
	return points, campaigns
}

// points runs each due timer of the tick's own (a points approval or
// expiry, a delivery check), then marks it fired: a tick that dies in between runs it again next time,
// which writes nothing more. It returns how many it ran and how many
// another tick had fired first.
func (t *Ticker) points(ctx context.Context, due []store.Timer) (ran, fired int, err error) {
	for _, tm := range due {
		switch tm.Reason {
		case store.ReasonPointsApproval:
			err = t.Points.Approve(ctx, tm.CustomerID, tm.OrderID, tm.DueAt, tm.ExpiresAt)
		case store.ReasonDeliveryWatch:
			if t.Deliveries != nil {
				err = t.Deliveries.Check(ctx, tm.CustomerID, tm.OrderID, tm.DueAt)
			}
		default:
			err = t.Points.Expire(ctx, tm.CustomerID, tm.OrderID, tm.DueAt)
		}
		if err != nil {
			return ran, fired, err
		}
		ran++
		ok, err := t.Store.FinishTimer(ctx, tm.Key, store.TimerFired)
		if err != nil {
			return ran, fired, err
		}
		if !ok {
			fired++
		}
	}
	return ran, fired, nil
}

// enqueue hands campaign timers to the sender's queue and marks those it
// took fired. It returns how many the queue took and how many another
// tick had fired first.
func (t *Ticker) enqueue(ctx context.Context, due []store.Timer, now time.Time) (enqueued, fired int, err error) {
	if len(due) == 0 {
		return 0, 0, nil
	}
	msgs := make([]queue.Message, len(due))
	for i, tm := range due {
		msgs[i] = queue.Message{Timer: tm, Now: now}
	}
	sent, err := t.Queue.Send(ctx, msgs)
	if err != nil {
		return 0, 0, err
	}
	for i, tm := range due {
		if !sent[i] {
			continue
		}
		enqueued++
		ok, err := t.Store.FinishTimer(ctx, tm.Key, store.TimerFired)
		if err != nil {
			return enqueued, fired, err
		}
		if !ok {
			fired++
		}
	}
	return enqueued, fired, nil
}
