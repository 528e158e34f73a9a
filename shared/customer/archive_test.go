package customer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// manyOrders applies n orders a day apart, order i costing 1000+i yen, the
// first one alone with a "tea" product.
func manyOrders(n int) (*Profile, []order.Order) {
	p := &Profile{ID: "c-1"}
	var orders []order.Order
	for i := range n {
		o := yokanOrder(fmt.Sprintf("o-%04d", i), day(i), int64(1000+i))
		if i == 0 {
			o.Items[0].SKU, o.Items[0].Category = "TEA-SENCHA", "tea"
		}
		orders = append(orders, o)
		p.ApplyDeliveryChange(nil, o, order.Created, o.PlacedAt, Transition{Key: fmt.Sprintf("d-%d", i)}, testThresholds)
	}
	return p, orders
}

func TestArchiveKeepsTotalsExact(t *testing.T) {
	const n = 1000
	p, orders := manyOrders(n)
	var spent int64
	for _, o := range orders {
		spent += o.Total
	}
	if len(p.Orders) != MaxRecentOrders {
		t.Errorf("recent orders = %d, want %d", len(p.Orders), MaxRecentOrders)
	}
	if p.OrderCount != n || p.TotalSpent != spent || p.AverageOrder != spent/n {
		t.Errorf("count %d spent %d average %d, want %d %d %d", p.OrderCount, p.TotalSpent, p.AverageOrder, n, spent, spent/n)
	}
	if !p.FirstOrderAt.Equal(day(0)) || !p.LastOrderAt.Equal(day(n-1)) {
		t.Errorf("first %v last %v, want %v %v", p.FirstOrderAt, p.LastOrderAt, day(0), day(n-1))
	}
	if p.CategoryCounts["tea"] != 2 || p.CategoryCounts["sweets"] != 2*(n-1) {
		t.Errorf("categories = %v", p.CategoryCounts)
	}
	if got := p.DaysSinceBought("TEA-SENCHA", day(n)); got != n {
		t.Errorf("days since the folded tea order = %d, want %d", got, n)
	}
	if got := p.RecentSKUs(day(n), 5); len(got) != 1 || got[0] != "SWEET-YOKAN" {
		t.Errorf("recent SKUs = %v", got)
	}
}

func TestArchivedOrderChanges(t *testing.T) {
	const n = 300
	old := func(p *Profile, orders []order.Order) order.Order { return orders[5] }
	tests := []struct {
		name      string
		change    func(p *Profile, o order.Order) bool
		wantCount int
		wantSpent func(spent int64, o order.Order) int64
	}{
		{"cancelled once", func(p *Profile, o order.Order) bool {
			return p.ApplyDeliveryChange(nil, o, order.Cancelled, day(n), Transition{Key: "cancel", From: order.Created}, testThresholds)
		}, n - 1, func(s int64, o order.Order) int64 { return s - o.Total }},
		{"cancellation retried", func(p *Profile, o order.Order) bool {
			p.ApplyDeliveryChange(nil, o, order.Cancelled, day(n), Transition{Key: "cancel", From: order.Created}, testThresholds)
			return p.ApplyDeliveryChange(nil, o, order.Cancelled, day(n), Transition{Key: "cancel", From: order.Created}, testThresholds)
		}, n - 1, func(s int64, o order.Order) int64 { return s - o.Total }},
		{"a delivery that moved nothing", func(p *Profile, o order.Order) bool {
			return p.ApplyDeliveryChange(nil, o, order.Cancelled, day(n), Transition{}, testThresholds)
		}, n, func(s int64, o order.Order) int64 { return s }},
		{"fulfilled counts the same", func(p *Profile, o order.Order) bool {
			return p.ApplyDeliveryChange(nil, o, order.Delivered, day(n), Transition{Key: "deliver", From: order.Created}, testThresholds)
		}, n, func(s int64, o order.Order) int64 { return s }},
		{"an old order the store had never seen", func(p *Profile, o order.Order) bool {
			late := yokanOrder("late", o.PlacedAt.Add(time.Hour), 777)
			return p.ApplyDeliveryChange(nil, late, order.Created, day(n), Transition{Key: "late", From: ""}, testThresholds)
		}, n + 1, func(s int64, o order.Order) int64 { return s + 777 }},
		{"an old order cancelled before it was counted", func(p *Profile, o order.Order) bool {
			late := yokanOrder("late", o.PlacedAt.Add(time.Hour), 777)
			return p.ApplyDeliveryChange(nil, late, order.Cancelled, day(n), Transition{Key: "late", From: ""}, testThresholds)
		}, n, func(s int64, o order.Order) int64 { return s }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, orders := manyOrders(n)
			spent := p.TotalSpent
			o := old(p, orders)
			if _, listed := p.Orders[o.ID]; listed {
				t.Fatalf("order %s should have been folded", o.ID)
			}
			tt.change(p, o)
			if want := tt.wantSpent(spent, o); p.OrderCount != tt.wantCount || p.TotalSpent != want {
				t.Errorf("count %d spent %d, want %d %d", p.OrderCount, p.TotalSpent, tt.wantCount, want)
			}
			if len(p.Orders) != MaxRecentOrders || len(p.Applied) > maxAppliedChanges {
				t.Errorf("recent orders %d, applied keys %d: not bounded", len(p.Orders), len(p.Applied))
			}
		})
	}
}

// A retry of a delivery whose order was folded in between is not applied
// again: the recent order's change is remembered by its delivery.
func TestRetryAfterFold(t *testing.T) {
	p, orders := manyOrders(MaxRecentOrders)
	first := orders[0]
	cancel := Transition{Key: "cancel-first", From: order.Created}
	p.ApplyDeliveryChange(nil, first, order.Cancelled, day(MaxRecentOrders), cancel, testThresholds)
	newer := yokanOrder("newest", day(MaxRecentOrders+1), 5000)
	p.ApplyDeliveryChange(nil, newer, order.Created, newer.PlacedAt, Transition{Key: "newest"}, testThresholds)
	if _, listed := p.Orders[first.ID]; listed {
		t.Fatal("the cancelled first order should have been folded")
	}
	count, spent := p.OrderCount, p.TotalSpent
	p.ApplyDeliveryChange(nil, first, order.Cancelled, day(MaxRecentOrders+2), cancel, testThresholds)
	if p.OrderCount != count || p.TotalSpent != spent {
		t.Errorf("retry changed count %d -> %d, spent %d -> %d", count, p.OrderCount, spent, p.TotalSpent)
	}
}

func TestArchiveKeysBounded(t *testing.T) {
	p := &Profile{ID: "c-1"}
	for i := range 1000 {
		o := yokanOrder(fmt.Sprintf("o-%d", i), day(i), 100)
		o.Items[0].SKU, o.Items[0].Brand, o.Items[0].Category = fmt.Sprintf("SKU-%d", i), fmt.Sprintf("brand-%d", i), fmt.Sprintf("cat-%d", i%3)
		p.ApplyDeliveryChange(nil, o, order.Created, o.PlacedAt, Transition{Key: o.ID}, testThresholds)
	}
	a := p.Archive
	if len(a.Brands) > maxArchivedKeys || len(a.LastBought) > maxArchivedKeys || len(a.Categories) != 3 {
		t.Errorf("archive keys: %d brands, %d products, %d categories", len(a.Brands), len(a.LastBought), len(a.Categories))
	}
	if _, kept := a.LastBought["SKU-899"]; !kept {
		t.Error("the most recently bought folded products are kept")
	}
	if p.OrderCount != 1000 {
		t.Errorf("count = %d", p.OrderCount)
	}
}

// Orders of a thousand long product codes each (a wholesale buyer) keep
// the recent orders within their byte budget: the count alone would let
// 100 such orders reach megabytes.
func TestRecentOrdersBoundedBySize(t *testing.T) {
	p := &Profile{ID: "c-wholesale"}
	long := strings.Repeat("W", 190)
	for i := range 30 {
		o := yokanOrder(fmt.Sprintf("w-%d", i), day(i), 100000)
		o.Items = nil
		for j := range 1000 {
			o.Items = append(o.Items, order.Item{SKU: fmt.Sprintf("%s-%04d", long, j), Name: "煎茶", Category: fmt.Sprintf("cat-%d", j), Brand: fmt.Sprintf("brand-%d", j), UnitPrice: 100, Quantity: 1})
		}
		p.ApplyDeliveryChange(nil, o, order.Created, o.PlacedAt, Transition{Key: o.ID}, testThresholds)
	}
	size := 0
	for id, s := range p.Orders {
		size += s.size(id)
		if len(s.SKUs) > maxSummaryKeys || len(s.Categories) > maxSummaryKeys || len(s.Brands) > maxSummaryKeys {
			t.Errorf("order %s keeps %d products, %d categories, %d brands", id, len(s.SKUs), len(s.Categories), len(s.Brands))
		}
	}
	if size > maxRecentBytes {
		t.Errorf("recent orders take about %d bytes, budget %d", size, maxRecentBytes)
	}
	if p.OrderCount != 30 || p.TotalSpent != 30*100000 {
		t.Errorf("count %d spent %d", p.OrderCount, p.TotalSpent)
	}
}
