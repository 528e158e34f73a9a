package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/review"
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

// TestCountReviewKeepsBest: the aggregate keeps the newest verified
// reviews of four or five stars to quote, newest first and at most
// BestReviewsKept, whatever order they are counted in; a retried count
// changes nothing, and concurrent counts lose none.
func TestCountReviewKeepsBest(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	written := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rv := func(id string, rating int, verified bool, day int) review.Review {
		return review.Review{Source: review.SourceGeneric, ID: id, SKU: "TEA-SENCHA", Rating: rating, Title: "t-" + id, Text: "<b>" + id + "</b>",
			Author: "a-" + id, Verified: verified, Published: true, CreatedAt: written.AddDate(0, 0, day)}
	}
	reviews := []review.Review{
		rv("r-1", 5, true, 1),
		rv("r-2", 4, true, 5),
		rv("r-3", 3, true, 9),  // under four stars
		rv("r-4", 5, false, 8), // not verified
		rv("r-5", 4, true, 2),
		rv("r-6", 5, true, 7),
		rv("r-7", 5, true, 3), // written before r-2 and r-6: falls out
	}
	var wg sync.WaitGroup
	for _, r := range reviews[:4] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.CountReview(ctx, r, written.AddDate(0, 0, 10)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, r := range append(reviews[4:], reviews[0], reviews[5]) { // r-1 and r-6 retried
		if _, err := st.CountReview(ctx, r, written.AddDate(0, 0, 10)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := st.GetProductReviews(ctx, "TEA-SENCHA")
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != 7 || p.RatingSum != 31 {
		t.Errorf("count %d, sum %d; want 7, 31", p.Count, p.RatingSum)
	}
	var got []string
	for _, q := range p.Best {
		got = append(got, fmt.Sprintf("%s %d %s %s %s %s", q.Key, q.Rating, q.Title, q.Text, q.Author, q.CreatedAt.Format(time.DateOnly)))
	}
	want := []string{
		"generic#r-6 5 t-r-6 <b>r-6</b> a-r-6 2026-11-08",
		"generic#r-2 4 t-r-2 <b>r-2</b> a-r-2 2026-11-06",
		"generic#r-7 5 t-r-7 <b>r-7</b> a-r-7 2026-11-04",
	}
	if !slices.Equal(got, want) {
		t.Errorf("best %q, want %q", got, want)
	}
}
