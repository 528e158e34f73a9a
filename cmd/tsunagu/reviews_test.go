package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestReviewsModeration: the shop lists the form's reviews awaiting
// approval, approves one (published and counted once, however often it is
// approved) and rejects another (never published, off the list).
func TestReviewsModeration(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	st, ctx := store.New(testenv.DynamoDB(), table), context.Background()
	t0 := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC) // 10:00 JST
	for i, r := range []review.Review{
		{ID: "m-1#SWEET-YOKAN", SKU: "SWEET-YOKAN", Rating: 5, Title: "上品な甘さ", Text: "お茶に合います\n家族にも好評", Author: "みさき", CustomerID: "c-1", OrderID: "1001"},
		{ID: "m-2#SWEET-YOKAN", SKU: "SWEET-YOKAN", Rating: 2, Text: "少し甘すぎました", CustomerID: "c-2", OrderID: "1002"},
	} {
		r.Source, r.Verified, r.CreatedAt = review.SourceForm, true, t0.Add(time.Duration(i)*time.Hour)
		if _, err := st.SaveReview(ctx, r, r.CreatedAt); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := capture(t, reviewsCommand, append(args, "--table", table)...)
		if err != nil {
			t.Fatalf("reviews %v: %v", args, err)
		}
		return out
	}
	out, err := capture(t, reviewsCommand, "list", "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"form#m-1#SWEET-YOKAN", "2026-11-20 10:00", "★★★★★", "上品な甘さ", "家族にも好評", "form#m-2#SWEET-YOKAN", "★★☆☆☆", "2 awaiting approval"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	for range 2 {
		if out := run("approve", "form#m-1#SWEET-YOKAN"); !strings.Contains(out, "SWEET-YOKAN now has 1 reviews, 5.0 stars") {
			t.Errorf("approve: %s", out)
		}
	}
	run("reject", "form#m-2#SWEET-YOKAN")
	if _, err := capture(t, reviewsCommand, "approve", "form#m-2#SWEET-YOKAN", "--table", table); !errors.Is(err, errUsage) {
		t.Errorf("approving a rejected review: %v", err)
	}
	if out, _ := capture(t, reviewsCommand, "list", "--table", table, "--rules", rulesDir()); !strings.Contains(out, "no reviews awaiting approval") {
		t.Errorf("list after moderation:\n%s", out)
	}
	if p, err := st.GetProductReviews(ctx, "SWEET-YOKAN"); err != nil || p.Count != 1 || p.RatingSum != 5 {
		t.Errorf("SWEET-YOKAN aggregate %+v, %v", p, err)
	}
}
