package rank

import (
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

var (
	now     = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	regular = rules.Rank{ID: "regular", Name: "レギュラー", MultiplierPercent: 100}
	silver  = rules.Rank{ID: "silver", Name: "シルバー", Threshold: 30000, MultiplierPercent: 120}
	gold    = rules.Rank{ID: "gold", Name: "ゴールド", Threshold: 100000, MultiplierPercent: 150}
)

func ranks(basis rules.RankBasis) *rules.Ranks {
	return &rules.Ranks{Basis: basis, WindowMonths: 12, Levels: []rules.Rank{regular, silver, gold}}
}

func placed(daysAgo int, total int64, status order.EventType) customer.OrderSummary {
	return customer.OrderSummary{PlacedAt: now.AddDate(0, 0, -daysAgo), Currency: "JPY", Total: total, Status: status, HasDetails: true}
}

func TestOf(t *testing.T) {
	tests := []struct {
		name   string
		basis  rules.RankBasis
		orders map[string]customer.OrderSummary
		ledger []loyalty.Movement
		at     time.Time
		want   string
	}{
		{name: "no orders: the first rank", basis: rules.RankBySpend, at: now, want: "regular"},
		{name: "spend at the threshold reaches it", basis: rules.RankBySpend, at: now,
			orders: map[string]customer.OrderSummary{"a": placed(10, 20000, order.Created), "b": placed(100, 10000, order.Delivered)}, want: "silver"},
		{name: "cancelled orders count nothing", basis: rules.RankBySpend, at: now,
			orders: map[string]customer.OrderSummary{"a": placed(10, 20000, order.Created), "b": placed(100, 10000, order.Cancelled)}, want: "regular"},
		{name: "orders in another currency count nothing", basis: rules.RankBySpend, at: now,
			orders: map[string]customer.OrderSummary{"a": {PlacedAt: now, Currency: "USD", Total: 500000, Status: order.Created, HasDetails: true}}, want: "regular"},
		{name: "gold", basis: rules.RankBySpend, at: now,
			orders: map[string]customer.OrderSummary{"a": placed(1, 60000, order.Created), "b": placed(300, 40000, order.Delivered)}, want: "gold"},
		{name: "drops a rank when old orders leave the window", basis: rules.RankBySpend, at: now.AddDate(0, 0, 70),
			orders: map[string]customer.OrderSummary{"a": placed(1, 60000, order.Created), "b": placed(300, 40000, order.Delivered)}, want: "silver"},
		{name: "approved points reach a rank", basis: rules.RankByApprovedPoints, at: now,
			ledger: []loyalty.Movement{
				{Kind: loyalty.Approved, OrderID: "a", Points: 20000, At: now.AddDate(0, -1, 0)},
				{Kind: loyalty.Adjusted, Ref: "review", Points: 10000, At: now.AddDate(0, -2, 0)},
			}, want: "silver"},
		{name: "spending points never lowers a rank", basis: rules.RankByApprovedPoints, at: now,
			ledger: []loyalty.Movement{
				{Kind: loyalty.Approved, OrderID: "a", Points: 30000, At: now.AddDate(0, -1, 0)},
				{Kind: loyalty.Spent, Ref: "r1", Points: -30000, At: now.AddDate(0, 0, -1)},
			}, want: "silver"},
		{name: "pending points and a duplicate count nothing more", basis: rules.RankByApprovedPoints, at: now,
			ledger: []loyalty.Movement{
				{Kind: loyalty.Earned, OrderID: "b", Points: 90000, At: now},
				{Kind: loyalty.Approved, OrderID: "a", Points: 20000, At: now.AddDate(0, -1, 0)},
				{Kind: loyalty.Approved, OrderID: "a", Points: 20000, At: now.AddDate(0, -1, 0)},
			}, want: "regular"},
		{name: "approvals leave the window too", basis: rules.RankByApprovedPoints, at: now,
			ledger: []loyalty.Movement{{Kind: loyalty.Approved, OrderID: "a", Points: 200000, At: now.AddDate(-1, 0, -1)}}, want: "regular"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &customer.Profile{ID: "c1", Orders: tt.orders}
			got, ok := Of(ranks(tt.basis), "JPY", p, tt.ledger, tt.at)
			if !ok || got.ID != tt.want {
				t.Errorf("Of = %q %v, want %q", got.ID, ok, tt.want)
			}
		})
	}
	if _, ok := Of(nil, "JPY", &customer.Profile{}, nil, now); ok {
		t.Error("Of without ranks = true, want false")
	}
}

func TestRecompute(t *testing.T) {
	tests := []struct {
		name   string
		rank   string
		orders map[string]customer.OrderSummary
		at     time.Time
		want   string
		change *Change
	}{
		{name: "a new customer gets the first rank, no change", at: now, want: "regular"},
		{name: "unchanged", rank: "silver", orders: map[string]customer.OrderSummary{"a": placed(1, 30000, order.Created)}, at: now, want: "silver"},
		{name: "rank up", rank: "regular", orders: map[string]customer.OrderSummary{"a": placed(1, 100000, order.Created)}, at: now, want: "gold",
			change: &Change{From: regular, To: gold, Up: true}},
		{name: "first ranking above the first rank is a rank up", orders: map[string]customer.OrderSummary{"a": placed(1, 30000, order.Created)}, at: now, want: "silver",
			change: &Change{From: regular, To: silver, Up: true}},
		{name: "rank down as the window moves", rank: "gold", orders: map[string]customer.OrderSummary{"a": placed(200, 100000, order.Delivered)}, at: now.AddDate(0, 6, 0), want: "regular",
			change: &Change{From: gold, To: regular}},
		{name: "a rank no longer in the rules", rank: "platinum", at: now, want: "regular"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &customer.Profile{ID: "c1", Rank: tt.rank, Orders: tt.orders}
			c, changed := Recompute(ranks(rules.RankBySpend), "JPY", p, nil, tt.at)
			if p.Rank != tt.want {
				t.Errorf("Rank = %q, want %q", p.Rank, tt.want)
			}
			if changed != (tt.change != nil) || (tt.change != nil && c != *tt.change) {
				t.Errorf("change = %+v %v, want %+v", c, changed, tt.change)
			}
		})
	}
}

func TestChange(t *testing.T) {
	c := Change{From: regular, To: gold, Up: true}
	jst := time.FixedZone("JST", 9*3600)
	if got, want := c.Key("c1", time.Date(2026, 5, 31, 20, 0, 0, 0, time.UTC), jst), "rank:c1:regular->gold:2026-06-01"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if c.Trigger() != rules.TriggerRankUp || (Change{From: gold, To: regular}).Trigger() != rules.TriggerRankDown {
		t.Error("Trigger: want rank_up for up, rank_down for down")
	}
}
