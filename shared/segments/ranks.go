package segments

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rank"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// RankStore is what the nightly ranking needs of the store.
type RankStore interface {
	UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error)
	ArmRankNotice(ctx context.Context, customerID, trigger, key string, at time.Time) (bool, error)
	Ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error)
}

// Ranker recomputes the member ranks (loyalty.yaml ranks:) of the
// profiles the nightly scan reads, so that customers drop a rank when old
// orders leave the window. It writes a profile only when its rank
// changed, and then arms the timer that runs the loyalty.rank_up or
// loyalty.rank_down campaigns (the sender runs them).
type Ranker struct {
	Store    RankStore
	Ranks    *rules.Ranks
	Currency string
	Location *time.Location
}

// Visit ranks one scanned profile as of now. A profile whose rank the
// job changed earlier the same day (a rerun after a failure) has its
// timer armed again: the timer's key makes that once.
func (r *Ranker) Visit(ctx context.Context, p customer.Profile, now time.Time) error {
	if r == nil || r.Ranks == nil || !p.ErasedAt.IsZero() {
		return nil
	}
	ledger, err := r.ledger(ctx, p.ID)
	if err != nil {
		return err
	}
	scanned := p
	if to, _ := rank.Of(r.Ranks, r.Currency, &scanned, ledger, now); to.ID == p.Rank {
		if c := p.RankChange; c != nil && c.OrderID == "" && strings.HasSuffix(c.Key, ":"+now.In(r.Location).Format(time.DateOnly)) {
			_, err := r.Store.ArmRankNotice(ctx, p.ID, c.Trigger, c.Key, now)
			return err
		}
		return nil
	}
	changed := false
	saved, err := r.Store.UpdateProfile(ctx, p.ID, func(q *customer.Profile) bool {
		var wrote bool
		_, changed, wrote = rank.Apply(r.Ranks, r.Currency, q, ledger, now, r.Location, "")
		return wrote
	})
	if err != nil || !changed || saved.RankChange == nil {
		return err
	}
	c := saved.RankChange
	armed, err := r.Store.ArmRankNotice(ctx, p.ID, c.Trigger, c.Key, now)
	if armed {
		slog.InfoContext(ctx, "member rank changed", "trigger", c.Trigger, "rank", saved.Rank)
	}
	return err
}

// ledger reads the customer's ledger when ranks are by approved points.
func (r *Ranker) ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error) {
	if r.Ranks.Basis != rules.RankByApprovedPoints {
		return nil, nil
	}
	return r.Store.Ledger(ctx, customerID)
}
