package store

import (
	"context"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// TestOrderKeepsProductIDs: a line's product id is stored with the order
// and read back, so a review request sent days later still knows the
// product under the key a review app names it by.
func TestOrderKeepsProductIDs(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	placed := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	o := order.Order{ID: "1001", Currency: "JPY", Total: 3000, PlacedAt: placed, Customer: &order.Customer{ID: "c-1"},
		Items: []order.Item{{SKU: "TEA-MATCHA", Name: "抹茶", UnitPrice: 3000, Quantity: 1, ProductID: "632910392"}}}
	if _, err := st.ApplyOrderEvent(ctx, order.Event{DeliveryID: "d-1", Source: order.SourceGeneric, Type: order.Created, OccurredAt: placed, Order: o}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetOrder(ctx, "1001")
	if err != nil || len(got.Order.Items) != 1 || got.Order.Items[0].ProductID != "632910392" {
		t.Fatalf("GetOrder = %+v, %v", got.Order.Items, err)
	}
	if err := st.RecordReview(ctx, "c-1", order.ProductKey("632910392"), "judgeme#1", placed); err != nil {
		t.Fatal(err)
	}
	it := got.Order.Items[0]
	ok, reason, err := st.ClaimReviewRequest(ctx, "c-1", it.SKU, "m-1", placed.Add(time.Hour), it.OtherKeys()...)
	if err != nil || ok || reason != "already_reviewed" {
		t.Errorf("ClaimReviewRequest = %v %q %v, want already_reviewed", ok, reason, err)
	}
	if ok, _, err := st.ClaimReviewRequest(ctx, "c-2", it.SKU, "m-2", placed.Add(time.Hour), it.OtherKeys()...); err != nil || !ok {
		t.Errorf("another customer: %v %v, want asked", ok, err)
	}
}
