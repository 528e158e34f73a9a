package main

import (
	"strings"
	"testing"
)

// TestReportSection: the report benchmark's figures against their goals,
// and what the counters cost per order and per message.
func TestReportSection(t *testing.T) {
	purchase := map[string]benchResult{
		"PurchaseWebhookNoCampaigns": {Metrics: map[string]float64{"counter-writes/order": 1}},
		"PurchaseWebhook":            {Metrics: map[string]float64{"counter-writes/order": 2}},
	}
	tests := []struct {
		name    string
		metrics map[string]float64
		want    []string
	}{
		{"within the goals", map[string]float64{"counters-s": 0.044, "counters-req": 10, "recompute-s": 8.4, "recompute-req": 50, "customers": 100000},
			[]string{"100000 customers", "| 0.044 s | 10 | under 5 s and 2,000 requests: met |", "| 8.400 s | 50 |", "1.0 write per order", "1.0 per campaign message", "goal at most 1 each: met"}},
		{"too slow", map[string]float64{"counters-s": 6, "counters-req": 10, "customers": 100000}, []string{"requests: NOT met"}},
		{"too many requests", map[string]float64{"counters-s": 1, "counters-req": 2500, "customers": 100000}, []string{"requests: NOT met"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reportSection(benchResult{Name: "Report90Days", Iters: 1, Metrics: tt.metrics}, purchase)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
