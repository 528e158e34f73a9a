package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/recount"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var now = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC) // 03:00 in Tokyo

// TestNightlyStats runs the nightly job as deployed (its DynamoDB
// permissions from template.yaml, the parallel scan main.go configures)
// over 100 customers among other items of the table.
func TestNightlyStats(t *testing.T) {
	defer quiet()()
	ctx := context.Background()
	table := testenv.NewTable(t)
	admin := store.New(testenv.DynamoDB(), table)
	profiles := make([]customer.Profile, 0, 101)
	for i := 1; i <= 100; i++ {
		profiles = append(profiles, customer.Profile{ID: fmt.Sprint("c-", i), OrderCount: 1 + i%5, TotalSpent: int64(i * 1000), LastOrderAt: now.AddDate(0, 0, -i)})
	}
	profiles = append(profiles, customer.Profile{ID: "c-no-order"}) // no standing order: left out
	if err := admin.ImportProfiles(ctx, profiles); err != nil {
		t.Fatal(err)
	}
	// Other items of the table, which the job's scan passes over.
	for i := range 20 {
		if _, err := admin.ArmTimer(ctx, store.Timer{Key: fmt.Sprint("t-", i), DueAt: now, Campaign: "review-request", CustomerID: fmt.Sprint("c-", i), Trigger: "order.delivered", TriggerKey: fmt.Sprint("k-", i), Reason: "delay"}); err != nil {
			t.Fatal(err)
		}
	}

	// Segments as the rules would have them: customers who spent 50,000
	// or more, or who are in the top two deciles by the bounds in force.
	h := &Handler{Job: &segments.Job{Store: store.New(testenv.DynamoDBAs(t, "SegmentsFunction"), table), ScanSegments: 8, Thresholds: thresholds, Location: tokyo,
		Deciles: [9]int64{10, 20, 30, 40, 50, 60, 70, 80, 90000},
		Segments: func(p customer.Profile, deciles [9]int64, _ time.Time) []string {
			var in []string
			if p.TotalSpent >= 50000 {
				in = append(in, "big")
			}
			if p.TotalSpent >= deciles[8] {
				in = append(in, "top")
			}
			return in
		}}}
	st, err := h.Handle(ctx, testenv.ScheduledEvent(t, "SegmentsFunction", now))
	if err != nil {
		t.Fatal(err)
	}
	if st.Customers != 100 || !st.ComputedAt.Equal(now) {
		t.Errorf("stats of %d customers computed at %s, want 100 at %s", st.Customers, st.ComputedAt, now)
	}
	if got := fmt.Sprint(st.Deciles); got != "[11000 21000 31000 41000 51000 61000 71000 81000 91000]" {
		t.Errorf("deciles = %s", got)
	}
	if fmt.Sprint(st.RecencyDays) != "[21 41 61 81]" || fmt.Sprint(st.Monetary) != "[21000 41000 61000 81000]" {
		t.Errorf("recency %v monetary %v", st.RecencyDays, st.Monetary)
	}
	saved, found, err := admin.SegmentStats(ctx)
	if err != nil || !found || fmt.Sprint(saved) != fmt.Sprint(st) {
		t.Errorf("saved stats = %+v, %v, %v; want %+v", saved, found, err, st)
	}

	// The night's snapshot, under the shop-zone date (03:00 on the 22nd
	// in Tokyo), found by a report of a period that holds the day.
	snap, found, err := admin.LatestSnapshot(ctx, "2026-11-01", "2026-11-30")
	if err != nil || !found {
		t.Fatalf("snapshot: %v, %v", found, err)
	}
	if snap.Date != "2026-11-22" || snap.Customers != 100 || snap.Revenue != 5050*1000 {
		t.Errorf("snapshot of %s: %d customers, revenue %d; want 2026-11-22, 100, 5050000", snap.Date, snap.Customers, snap.Revenue)
	}
	// The top decile is the customers who spent 91,000 to 100,000.
	if top := snap.Deciles[0]; top != (store.Share{Customers: 10, Revenue: 955000}) {
		t.Errorf("top decile = %+v", top)
	}
	// The first night's segments use the configured bounds (top: 90,000 or
	// more: 11 customers); the next night's, the bounds the first saved
	// (91,000: 10 customers).
	if got := fmt.Sprint(snap.Segments); got != "map[big:{51 3825000} top:{11 1045000}]" {
		t.Errorf("segments on the first night = %s", got)
	}
	if _, err := h.Handle(ctx, testenv.ScheduledEvent(t, "SegmentsFunction", now.Add(24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	next, _, err := admin.LatestSnapshot(ctx, "2026-11-23", "2026-11-23")
	if err != nil || fmt.Sprint(next.Segments["top"]) != "{10 955000}" {
		t.Errorf("top segment on the next night = %+v, %v", next.Segments["top"], err)
	}
	if _, found, err := admin.LatestSnapshot(ctx, "2026-10-01", "2026-10-31"); err != nil || found {
		t.Errorf("a snapshot found in October: %v, %v", found, err)
	}
}

// thresholds are the shop's lifecycle thresholds in the tests.
var thresholds = customer.Thresholds{Currency: "JPY", LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180}

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func TestNightlyWithoutATime(t *testing.T) {
	defer quiet()()
	table := testenv.NewTable(t)
	h := &Handler{Job: &segments.Job{Store: store.New(testenv.DynamoDBAs(t, "SegmentsFunction"), table), ScanSegments: 2, Thresholds: thresholds, Location: tokyo}}
	tests := []struct {
		name  string
		event string
	}{
		{name: "no time", event: `{}`},
		{name: "the placeholder not filled in", event: `{"time": "<aws.scheduler.scheduled-time>"}`},
		{name: "not json", event: `[`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.Handle(context.Background(), json.RawMessage(tt.event)); err == nil || !strings.Contains(err.Error(), `needs "time"`) {
				t.Errorf("Handle = %v; want an error naming the missing time", err)
			}
		})
	}
	if _, found, err := store.New(testenv.DynamoDB(), table).SegmentStats(context.Background()); err != nil || found {
		t.Errorf("stats saved by events without a time: %v, %v", found, err)
	}
}

// quiet silences the handler's logs for a test.
func quiet() func() {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return func() { slog.SetDefault(old) }
}

// TestNightlyReconciles: the nightly job as deployed (its policy from
// template.yaml) recounts the campaign counters of the days its range
// covers in the same scan and adds a count whose update was lost; a day
// before the range and a counter that is right are left as they are.
func TestNightlyReconciles(t *testing.T) {
	defer quiet()()
	ctx := context.Background()
	table := testenv.NewTable(t)
	admin := store.New(testenv.DynamoDB(), table)
	click := func(key string, at time.Time, counted bool) {
		t.Helper()
		if _, err := admin.RecordClick(ctx, store.Click{MessageKey: key, CampaignID: "nudge", CustomerID: "c-1", URL: "https://shop.example.jp/", At: at}); err != nil {
			t.Fatal(err)
		}
		if counted {
			if err := admin.AddCounts(ctx, store.CampaignStatsPartition("nudge"), store.CampaignStatsKey(at, tokyo, ""), at, store.Counts{"clicks": 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	click("m-lost", time.Date(2026, 11, 20, 12, 0, 0, 0, tokyo), false) // in the range: recounted
	click("m-old", time.Date(2026, 11, 1, 12, 0, 0, 0, tokyo), false)   // before it: the command's
	click("m-right", time.Date(2026, 11, 19, 12, 0, 0, 0, tokyo), true)

	st := store.New(testenv.DynamoDBAs(t, "SegmentsFunction"), table)
	h := &Handler{Job: &segments.Job{Store: st, ScanSegments: 4, Thresholds: thresholds, Location: tokyo,
		Recount:   &recount.Reconciler{Store: st, Location: tokyo, Currency: "JPY", Wait: func(context.Context) error { return nil }},
		Campaigns: []string{"nudge"}, Measurement: rules.Measurement{ConversionWindow: 14 * 24 * time.Hour, ClickWindow: 5 * 24 * time.Hour, ReceiveWindow: 24 * time.Hour}}}
	if _, err := h.Handle(ctx, testenv.ScheduledEvent(t, "SegmentsFunction", now)); err != nil {
		t.Fatal(err)
	}
	got, err := admin.StatsBetween(ctx, store.CampaignStatsPartition("nudge"), "DAY#2026-11-01", "DAY#2026-11-30~")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "map[DAY#2026-11-19#-:map[clicks:1] DAY#2026-11-20#-:map[clicks:1]]" {
		t.Errorf("counters after the night = %v", got)
	}
}
