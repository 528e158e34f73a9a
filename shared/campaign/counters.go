package campaign

import (
	"context"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// ReasonGlobalControl is the reason a marketing campaign records for a
// customer in the global control group (verdict HeldOut).
const ReasonGlobalControl = "global_control"

// InGlobalControl reports whether a customer is in the shop's global
// control group: a stable draw from the customer id and the salt, so only a
// new salt reshuffles it.
func InGlobalControl(m rules.Measurement, customerID string) bool {
	return m.GlobalControlPercent > 0 && bucket("global_control", m.GlobalControlSalt, customerID) < m.GlobalControlPercent
}

// tally gathers the counters one run adds, so that a run writes each
// campaign-variant-day once however many events it counted. Each event
// is counted only after the write that recorded it succeeded for the
// first time (a claim finished as sent, a first decision, a first
// coupon), so a retried trigger counts nothing twice.
type tally struct {
	loc *time.Location
	store.Tally
}

type tallyKey struct{}

// withTally returns a context that carries a fresh tally for one run.
func withTally(ctx context.Context, loc *time.Location) (context.Context, *tally) {
	t := &tally{loc: loc}
	return context.WithValue(ctx, tallyKey{}, t), t
}

// count adds one to a campaign variant's counter name on at's day; a
// context without a tally (no run) counts nothing.
func count(ctx context.Context, campaignID, variant string, at time.Time, name string) {
	if t, _ := ctx.Value(tallyKey{}).(*tally); t != nil {
		t.Add(store.CampaignStatsPartition(campaignID), store.CampaignStatsKey(at, t.loc, variant), at, name, 1)
	}
}

// countAssignment counts a first assignment to a lift group on the
// campaign's counters: its own group and the global comparison's (control,
// or exposed for everyone else), one item, so one update.
func countAssignment(ctx context.Context, rec store.MessageRecord, at time.Time) {
	if rec.Group != store.GroupControl {
		count(ctx, rec.CampaignID, rec.Variant, at, "assigned_"+rec.Group)
		count(ctx, rec.CampaignID, rec.Variant, at, "assigned_"+store.GroupExposed)
		return
	}
	count(ctx, rec.CampaignID, rec.Variant, at, "assigned_"+store.GroupControl)
}

// flush writes the run's counters. A failed counter update never fails the
// run: it is logged and counted as a metric, and the nightly job can
// rebuild the figures from the message log.
func (r *Runner) flush(ctx context.Context, t *tally) {
	if err := t.Write(ctx, r.Store.AddCounts); err != nil {
		logging.CounterUpdateFailed(ctx, "campaign", err)
	}
}
