package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestNightlyRanks: the nightly job, with its template.yaml permissions,
// drops a customer a rank when old orders leave the window (and arms the
// rank_down notice once, however often it runs that day), ranks a
// customer never ranked, and leaves the profiles whose rank stands
// unwritten.
func TestNightlyRanks(t *testing.T) {
	defer quiet()()
	ctx := context.Background()
	table := testenv.NewTable(t)
	admin := store.New(testenv.DynamoDB(), table)
	ranks := &rules.Ranks{Basis: rules.RankBySpend, WindowMonths: 12, Levels: []rules.Rank{
		{ID: "regular", Name: "レギュラー", MultiplierPercent: 100},
		{ID: "silver", Name: "シルバー", Threshold: 30000, MultiplierPercent: 120},
		{ID: "gold", Name: "ゴールド", Threshold: 100000, MultiplierPercent: 150}}}
	placed := func(at time.Time, total int64) map[string]customer.OrderSummary {
		return map[string]customer.OrderSummary{"o-" + at.Format("0102"): {PlacedAt: at, Currency: "JPY", Total: total, Status: order.Delivered, HasDetails: true}}
	}
	later := now.AddDate(0, 0, 10)
	profiles := []customer.Profile{
		// Gold by one order placed 11 months and 25 days before now:
		// still gold tonight, out of the window ten days on.
		{ID: "c-fading", Rank: "gold", Orders: placed(now.AddDate(0, -11, -25), 120000), OrderCount: 1, TotalSpent: 120000, LastOrderAt: now.AddDate(0, -11, -25)},
		{ID: "c-steady", Rank: "silver", Orders: placed(now.AddDate(0, -1, 0), 40000), OrderCount: 1, TotalSpent: 40000, LastOrderAt: now.AddDate(0, -1, 0)},
		{ID: "c-unranked", Orders: placed(now.AddDate(0, -2, 0), 35000), OrderCount: 1, TotalSpent: 35000, LastOrderAt: now.AddDate(0, -2, 0)},
	}
	if err := admin.ImportProfiles(ctx, profiles); err != nil {
		t.Fatal(err)
	}
	job := &segments.Job{Store: store.New(testenv.DynamoDBAs(t, "SegmentsFunction"), table), ScanSegments: 2, Thresholds: thresholds, Location: tokyo,
		Ranker: &segments.Ranker{Store: store.New(testenv.DynamoDBAs(t, "SegmentsFunction"), table), Ranks: ranks, Currency: "JPY", Location: tokyo}}
	h := &Handler{Job: job}
	rankOf := func(id string) customer.Profile {
		t.Helper()
		p, err := admin.GetProfile(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	timer := func(key string) (store.Timer, bool) {
		t.Helper()
		tm, err := admin.GetTimer(ctx, "rank-"+key)
		if errors.Is(err, store.ErrNotFound) {
			return store.Timer{}, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return tm, true
	}

	if _, err := h.Handle(ctx, testenv.ScheduledEvent(t, "SegmentsFunction", now)); err != nil {
		t.Fatal(err)
	}
	steady := rankOf("c-steady")
	if p := rankOf("c-fading"); p.Rank != "gold" || p.RankChange != nil {
		t.Errorf("tonight c-fading = %q %+v, want gold unchanged", p.Rank, p.RankChange)
	}
	if steady.Rank != "silver" || steady.RankChange != nil {
		t.Errorf("c-steady = %q %+v, want silver unchanged", steady.Rank, steady.RankChange)
	}
	upKey := "rank:c-unranked:regular->silver:2026-11-22"
	if p := rankOf("c-unranked"); p.Rank != "silver" || p.RankChange == nil || p.RankChange.Key != upKey {
		t.Errorf("c-unranked = %q %+v, want silver, changed under %s", p.Rank, p.RankChange, upKey)
	}
	if tm, ok := timer(upKey); !ok || tm.Trigger != string(rules.TriggerRankUp) || tm.Campaign != "" || tm.CustomerID != "c-unranked" || tm.Reason != store.ReasonRankChange {
		t.Errorf("rank-up timer = %+v %v", tm, ok)
	}

	// Ten days on, twice (a rerun the same day): the old order left the
	// window; one notice.
	for range 2 {
		if _, err := h.Handle(ctx, testenv.ScheduledEvent(t, "SegmentsFunction", later)); err != nil {
			t.Fatal(err)
		}
	}
	downKey := "rank:c-fading:gold->regular:2026-12-02"
	if p := rankOf("c-fading"); p.Rank != "regular" || p.RankChange == nil || p.RankChange.Key != downKey || p.RankChange.Trigger != string(rules.TriggerRankDown) {
		t.Errorf("c-fading = %q %+v, want regular, changed under %s", p.Rank, p.RankChange, downKey)
	}
	if tm, ok := timer(downKey); !ok || tm.Trigger != string(rules.TriggerRankDown) || tm.TriggerKey != downKey || !tm.DueAt.Equal(later) {
		t.Errorf("rank-down timer = %+v %v", tm, ok)
	}
	if p := rankOf("c-steady"); p.Rank != "silver" || !p.AsOf.Equal(steady.AsOf) || p.RankChange != nil {
		t.Errorf("c-steady = %+v, want silver, unwritten", p)
	}
}
