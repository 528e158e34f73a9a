package store

import (
	"context"
	"time"
)

// ReasonRankChange is the reason of the timer that runs the
// loyalty.rank_up or loyalty.rank_down campaigns for a customer whose
// rank the nightly job changed.
const ReasonRankChange = "rank_change"

// ArmRankNotice arms, due at, the timer that runs the campaigns of trigger
// (loyalty.rank_up or loyalty.rank_down) for a customer whose rank
// changed, under the change's key (rank:<customer>:<from>-><to>:<day>):
// one conditional PutItem, once per change. True when this call armed it.
// The sender runs the campaigns of a timer that names only a trigger.
func (s *Store) ArmRankNotice(ctx context.Context, customerID, trigger, key string, at time.Time) (bool, error) {
	return s.ArmTimer(ctx, Timer{Key: "rank-" + key, DueAt: at.UTC(), CustomerID: customerID,
		Trigger: trigger, TriggerKey: key, Reason: ReasonRankChange})
}
