package store

import (
	"context"
	"errors"
	"time"
)

// Tally gathers counters for several stats items, so that a function
// writes each item once (one AddCounts) however many events it counted.
// The zero Tally is empty and ready to use; it is not safe for concurrent
// use.
type Tally struct {
	items map[[2]string]*tallied
	order [][2]string
}

type tallied struct {
	day    time.Time
	counts Counts
}

// Add adds n to counter name of the stats item pk/sk (kept for day).
func (t *Tally) Add(pk, sk string, day time.Time, name string, n int64) {
	k := [2]string{pk, sk}
	it := t.items[k]
	if it == nil {
		if t.items == nil {
			t.items = map[[2]string]*tallied{}
		}
		it = &tallied{day: day, counts: Counts{}}
		t.items[k] = it
		t.order = append(t.order, k)
	}
	it.counts[name] += n
}

// Write adds every item's counters through add (Store.AddCounts), in the
// order they were first counted, and returns every failure joined: one
// item failing does not keep the others from being written.
func (t *Tally) Write(ctx context.Context, add func(ctx context.Context, pk, sk string, day time.Time, counts Counts) error) error {
	var errs []error
	for _, k := range t.order {
		it := t.items[k]
		errs = append(errs, add(ctx, k[0], k[1], it.day, it.counts))
	}
	return errors.Join(errs...)
}
