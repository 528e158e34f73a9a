package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// TestCorrectCounts: a correction is added only while the counters it
// changes hold what was read (absent or 0 for 0); a counter moved since
// refuses it, in its own update of at most 30 counters.
func TestCorrectCounts(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	pk := CampaignStatsPartition("nudge")
	many := Counts{}
	for i := range 40 {
		many[fmt.Sprintf("c%02d", i)] = 1
	}
	tests := []struct {
		name        string
		before      Counts
		stored      Counts
		delta       Counts
		wantApplied bool
		want        Counts
	}{
		{name: "unchanged", before: Counts{"sent": 3}, stored: Counts{"sent": 3}, delta: Counts{"sent": 1, "clicks": 2},
			wantApplied: true, want: Counts{"sent": 4, "clicks": 2}},
		{name: "a new item", stored: nil, delta: Counts{"sent": 2}, wantApplied: true, want: Counts{"sent": 2}},
		{name: "a counter at 0", before: Counts{"revenue": 500, "converted": 1}, stored: Counts{"revenue": 500, "converted": 1}, delta: Counts{"revenue": -500},
			wantApplied: true, want: Counts{"revenue": 0, "converted": 1}},
		{name: "moved since read", before: Counts{"sent": 4}, stored: Counts{"sent": 3}, delta: Counts{"sent": 1},
			wantApplied: false, want: Counts{"sent": 4}},
		{name: "absent when read, counted since", before: Counts{"clicks": 1}, stored: Counts{}, delta: Counts{"clicks": 1},
			wantApplied: false, want: Counts{"clicks": 1}},
		{name: "40 counters in two updates", stored: nil, delta: many, wantApplied: true, want: many},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := fmt.Sprintf("DAY#2026-12-%02d#-", i+1)
			if len(tt.before) > 0 {
				if err := s.AddCounts(ctx, pk, sk, at, tt.before); err != nil {
					t.Fatal(err)
				}
			}
			applied, err := s.CorrectCounts(ctx, pk, sk, at, tt.stored, tt.delta)
			if err != nil || applied != tt.wantApplied {
				t.Errorf("CorrectCounts = %v, %v; want %v", applied, err, tt.wantApplied)
			}
			got, err := s.StatsBetween(ctx, pk, sk, sk)
			if err != nil || fmt.Sprint(got[sk]) != fmt.Sprint(tt.want) {
				t.Errorf("counters = %v, %v; want %v", got[sk], err, tt.want)
			}
		})
	}
}

// TestScanNightlySources: the nightly scan hands over profiles and the
// counters' sources, each decoded, and leaves out what has expired by the
// time it scans as of.
func TestScanNightlySources(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	if _, err := s.RecordClick(ctx, Click{MessageKey: "m-1", CampaignID: "nudge", CustomerID: "c-1", URL: "https://shop.example.jp/", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAttribution(ctx, Attribution{OrderID: "o-1", CustomerID: "c-1", CampaignID: "nudge", Via: "click", Total: 3000, Currency: "JPY", PlacedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDecision(ctx, MessageRecord{Key: "m-2", CampaignID: "nudge", Group: GroupHoldout, CustomerID: "c-1"}, MessageSkipped, "held_out", at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ConvertAssignment(ctx, "m-2", "o-1", 3000, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	scan := func(now time.Time) string {
		var got []string
		var mu sync.Mutex
		err := s.ScanNightly(ctx, 3, now, func(p customer.Profile) {}, func(src CounterSource) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case src.Click != nil:
				got = append(got, "click "+src.Click.MessageKey)
			case src.Attribution != nil:
				got = append(got, fmt.Sprint("attribution ", src.Attribution.OrderID, " ", src.Attribution.Total))
			case src.Message != nil:
				got = append(got, fmt.Sprint("message ", src.Message.Key, " ", src.Message.Group, " ", src.Message.ConvertedAt.Equal(at.Add(time.Hour)), " ", src.Message.WindowRevenue))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return strings.Join(got, "; ")
	}
	if got := scan(at.Add(24 * time.Hour)); got != "attribution o-1 3000; click m-1; message m-2 holdout true 3000" {
		t.Errorf("sources = %q", got)
	}
	// 500 days on, the click and the message log entry (400 days) have
	// expired; the attribution (two years) has not.
	if got := scan(at.Add(500 * 24 * time.Hour)); got != "attribution o-1 3000" {
		t.Errorf("sources 500 days on = %q", got)
	}
}
