package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// BenchmarkProfileSize gives one customer 1,000 orders through the store,
// as the purchase webhook applies them (each a different product, 300
// brands), and reports the profile item's size after 100 and after 1,000
// orders (DynamoDB refuses items over 400 KB; a profile write costs one
// write unit per KB). Each iteration reads the profile's size once.
func BenchmarkProfileSize(b *testing.B) {
	ctx := context.Background()
	s := New(testenv.DynamoDB(), testenv.NewTable(b))
	var at100 int
	for i := range 1000 {
		id := fmt.Sprintf("B%04d", i)
		placed := t0.Add(time.Duration(i) * time.Hour)
		ev := order.Event{DeliveryID: "d-" + id, Source: "generic", Type: order.Created, OccurredAt: placed, Order: order.Order{
			ID: id, Currency: "JPY", Total: 2150, PlacedAt: placed, Customer: &order.Customer{ID: "c-1000", Email: "misaki@example.jp"},
			Items: []order.Item{{SKU: fmt.Sprintf("SKU-%04d", i), Name: "本練羊羹", Category: "sweets", Brand: fmt.Sprintf("brand-%d", i%300), UnitPrice: 2150, Quantity: 1}},
		}}
		if err := deliver(ctx, s, ev); err != nil {
			b.Fatal(err)
		}
		if i+1 == 100 {
			size, err := s.ProfileSize(ctx, "c-1000")
			if err != nil {
				b.Fatal(err)
			}
			at100 = size
		}
	}
	var size int
	b.ResetTimer()
	for b.Loop() {
		var err error
		if size, err = s.ProfileSize(ctx, "c-1000"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(at100), "bytes-after-100-orders")
	b.ReportMetric(float64(size), "bytes-after-1000-orders")
}
