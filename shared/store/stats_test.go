package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestStatsCounters(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	// 23:30 UTC on 1 December is 08:30 on 2 December in Tokyo.
	at := time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC)
	pk := CampaignStatsPartition("second-purchase-nudge")
	sk := CampaignStatsKey(at, tokyo, "")
	if sk != "DAY#2026-12-02#-" {
		t.Fatalf("CampaignStatsKey = %q, want the shop-zone day and variant -", sk)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := s.AddCounts(ctx, pk, sk, at, Counts{"sent": 1, "revenue": 4300, "unused": 0}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	many := Counts{}
	for i := range 130 {
		many[fmt.Sprintf("second30_2026-%02d-%02d", i/28+1, i%28+1)] = int64(i + 1)
	}
	if err := s.AddCounts(ctx, pk, CampaignStatsKey(at, tokyo, "B"), at, many); err != nil {
		t.Fatalf("AddCounts of 130 counters: %v", err)
	}
	if err := s.AddCounts(ctx, pk, "DAY#2026-12-05#-", at, Counts{"sent": 7}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to string
		want     map[string]Counts
	}{
		{"one day, both variants", "DAY#2026-12-02", "DAY#2026-12-02~", map[string]Counts{
			"DAY#2026-12-02#-": {"sent": 20, "revenue": 86000},
			"DAY#2026-12-02#B": many,
		}},
		{"a later day only", "DAY#2026-12-03", "DAY#2026-12-31~", map[string]Counts{"DAY#2026-12-05#-": {"sent": 7}}},
		{"nothing in the period", "DAY#2026-11-01", "DAY#2026-11-30~", map[string]Counts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.StatsBetween(ctx, pk, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("StatsBetween = %d items, want %d: %v", len(got), len(tt.want), got)
			}
			for sk, want := range tt.want {
				if len(got[sk]) != len(want) {
					t.Errorf("%s: %d counters, want %d: %v", sk, len(got[sk]), len(want), got[sk])
				}
				for name, n := range want {
					if got[sk][name] != n {
						t.Errorf("%s %s = %d, want %d", sk, name, got[sk][name], n)
					}
				}
			}
		})
	}
}

func TestMessageKeepsItsVariant(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	for _, tt := range []struct{ name, key, variant string }{{"A/B variant", "m-variant", "B"}, {"no variants", "m-plain", ""}} {
		t.Run(tt.name, func(t *testing.T) {
			rec := MessageRecord{Key: tt.key, CampaignID: "winback", Variant: tt.variant, Channel: "email", CustomerID: "c-1"}
			if ok, _, err := s.ClaimMessage(ctx, rec, t0); err != nil || !ok {
				t.Fatalf("ClaimMessage = %v, %v", ok, err)
			}
			got, err := s.GetMessage(ctx, tt.key)
			if err != nil || got.Variant != tt.variant {
				t.Fatalf("GetMessage variant = %q, %v; want %q", got.Variant, err, tt.variant)
			}
		})
	}
}
