package loyalty

import (
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// TestEarnMultiplier: an order earns floor(merchandise / amount_per_point
// × multiplier_percent / 100), the member rank's multiplier applying to
// the fraction too; without ranks, the plain rate.
func TestEarnMultiplier(t *testing.T) {
	p := &rules.Loyalty{AmountPerPoint: 100}
	o := order.Order{ID: "1001", Currency: "JPY", Customer: &order.Customer{ID: "c-1"}}
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		merchandise int64
		rank        rules.Rank
		want        int64
		earns       bool
	}{
		{name: "no ranks", merchandise: 4350, want: 43, earns: true},
		{name: "first rank, 100 %", merchandise: 4350, rank: rules.Rank{ID: "regular", MultiplierPercent: 100}, want: 43, earns: true},
		{name: "silver, 120 %", merchandise: 35000, rank: rules.Rank{ID: "silver", MultiplierPercent: 120}, want: 420, earns: true},
		{name: "gold, 150 % of the fraction too", merchandise: 4350, rank: rules.Rank{ID: "gold", MultiplierPercent: 150}, want: 65, earns: true},
		{name: "under one point even multiplied", merchandise: 60, rank: rules.Rank{ID: "gold", MultiplierPercent: 150}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Earn(p, "JPY", o, tt.merchandise, tt.rank, at)
			if ok != tt.earns || m.Points != tt.want {
				t.Errorf("Earn = %d %v, want %d %v", m.Points, ok, tt.want, tt.earns)
			}
		})
	}
}
