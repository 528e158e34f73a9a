package customer

import (
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// TestOrderAmountsAndLineKinds: refunds and order edits reach the
// profile's spend through the order's revision (the latest wins, in any
// arrival order), and lines that are not products count in spend but not
// in categories, brands or products.
func TestOrderAmountsAndLineKinds(t *testing.T) {
	placed := yokanOrder("1", day(0), 4300)
	placed.Items = append(placed.Items,
		order.Item{Name: "のし紙", UnitPrice: 300, Quantity: 1, Kind: order.CustomLine},
		order.Item{Name: "ギフト券", UnitPrice: 1000, Quantity: 1, Kind: order.GiftCardLine})
	placed.Total = 5600
	refunded := placed
	refunded.Refunded, refunded.Revision = 2150, 1
	edited := refunded
	edited.Total, edited.Revision = 5900, 2
	tests := []struct {
		name   string
		orders []order.Order
		spent  int64
	}{
		{name: "as placed", orders: []order.Order{placed}, spent: 5600},
		{name: "refunded", orders: []order.Order{placed, refunded}, spent: 3450},
		{name: "refunded twice is one refund", orders: []order.Order{placed, refunded, refunded}, spent: 3450},
		{name: "edited after the refund", orders: []order.Order{placed, refunded, edited}, spent: 3750},
		{name: "out of order: the latest revision wins", orders: []order.Order{edited, placed, refunded}, spent: 3750},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Profile
			for i, o := range tt.orders {
				p.ApplyDelivery(nil, o, order.Created, day(i), testThresholds)
			}
			if p.TotalSpent != tt.spent || p.OrderCount != 1 {
				t.Errorf("spent %d over %d orders, want %d over 1", p.TotalSpent, p.OrderCount, tt.spent)
			}
			if p.CategoryCounts["sweets"] != 2 || len(p.CategoryCounts) != 1 || len(p.BrandCounts) != 1 {
				t.Errorf("categories %v, brands %v; want the yokan's only", p.CategoryCounts, p.BrandCounts)
			}
			if s := p.Orders["1"]; len(s.SKUs) != 1 || s.SKUs[0] != "SWEET-YOKAN" {
				t.Errorf("products %v; want the yokan only", s.SKUs)
			}
		})
	}
}
