package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the job needs of the store.
type Store interface {
	PendingShopRedactions(ctx context.Context) ([]store.ShopRedaction, error)
	ShopRedactionCheckpoint(ctx context.Context, r store.ShopRedaction, segment int) (store.ScanCheckpoint, error)
	SaveShopRedactionCheckpoint(ctx context.Context, r store.ShopRedaction, cp store.ScanCheckpoint) error
	EraseShopPage(ctx context.Context, cp store.ScanCheckpoint, segments int, limit int32, at time.Time) (store.ScanCheckpoint, error)
	FinishShopRedaction(ctx context.Context, r store.ShopRedaction, erased int, at time.Time) error
}

// Handler is the shop redaction job: it erases every customer's personal
// data for each shop/redact request the compliance webhook recorded. It
// reads the pending requests (a sparse index: nothing pending reads
// nothing) and, for each, scans the table in parallel segments, a page at
// a time, keeping each segment's progress; a run that stops (its time is
// up, or a request failed) is taken up where it stopped by the next one.
// Every step is idempotent, so pages done twice change nothing.
type Handler struct {
	Store Store
	// Segments is how many parallel scan segments read the table; it must
	// not change while a request is pending.
	Segments int
	// PageSize is how many items one scan page reads.
	PageSize int32
	// Margin is how long before the invocation's deadline no new page is
	// started, so the run ends with its progress saved.
	Margin time.Duration
	Now    func() time.Time
}

// Result is what a run did.
type Result struct {
	Pending  int `json:"pending"`
	Finished int `json:"finished"`
	// Erased counts the profiles erased in the finished requests.
	Erased int `json:"erased"`
}

// Handle runs the job once (the schedule's event carries nothing it needs).
func (h *Handler) Handle(ctx context.Context, _ json.RawMessage) (Result, error) {
	pending, err := h.Store.PendingShopRedactions(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{Pending: len(pending)}
	for _, r := range pending {
		erased, done, err := h.redact(ctx, r)
		if err != nil {
			return res, err
		}
		if !done {
			slog.InfoContext(ctx, "shop redaction continues next run", "shop_id", r.ShopID)
			continue
		}
		if err := h.Store.FinishShopRedaction(ctx, r, erased, h.Now()); err != nil {
			return res, err
		}
		res.Finished++
		res.Erased += erased
		slog.InfoContext(ctx, "shop redaction finished", "shop_id", r.ShopID, "profiles_erased", erased)
	}
	return res, nil
}

// redact goes through every segment of one request from its checkpoint,
// as far as the time allows. It reports the profiles erased and whether
// every segment is done.
func (h *Handler) redact(ctx context.Context, r store.ShopRedaction) (int, bool, error) {
	cps := make([]store.ScanCheckpoint, h.Segments)
	g, gctx := errgroup.WithContext(ctx)
	for seg := range h.Segments {
		g.Go(func() error {
			cp, err := h.Store.ShopRedactionCheckpoint(gctx, r, seg)
			if err != nil {
				return err
			}
			for !cp.Done && !h.timeUp(gctx) {
				if cp, err = h.Store.EraseShopPage(gctx, cp, h.Segments, h.PageSize, r.RequestedAt); err != nil {
					return err
				}
				if err := h.Store.SaveShopRedactionCheckpoint(gctx, r, cp); err != nil {
					return err
				}
			}
			cps[seg] = cp
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, false, err
	}
	erased, done := 0, true
	for _, cp := range cps {
		erased += cp.Erased
		done = done && cp.Done
	}
	return erased, done, nil
}

// timeUp reports whether the invocation's deadline is nearer than the
// margin (never, without a deadline).
func (h *Handler) timeUp(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < h.Margin
}
