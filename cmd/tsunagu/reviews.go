package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/store"
)

const reviewsUsage = `usage:
  tsunagu reviews list [--aws] [--table NAME] [--rules DIR]
  tsunagu reviews approve KEY [--aws] [--table NAME]
  tsunagu reviews reject KEY [--aws] [--table NAME]`

// reviewsCommand dispatches `tsunagu reviews <subcommand>`: the shop's
// moderation of the reviews its customers sent on tsunagu's own form.
func reviewsCommand(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return listReviews(ctx, args[1:])
		case "approve", "reject":
			return moderateReview(ctx, args[0], args[1:])
		}
	}
	fmt.Fprintln(os.Stderr, reviewsUsage)
	return errUsage
}

// listReviews prints the reviews awaiting approval, oldest first, whole:
// the shop reads them before deciding. One Query of the pending index.
func listReviews(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reviews list", flag.ContinueOnError)
	var data dataFlags
	data.register(fs)
	rulesDir := fs.String("rules", "rules", "rule directory (for the shop's time zone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(fs.Output(), reviewsUsage)
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	pending, err := st.ListPendingReviews(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		fmt.Fprintln(stdout, "no reviews awaiting approval")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tWRITTEN\tPRODUCT\tRATING\tORDER\tCUSTOMER\tAUTHOR")
	for _, r := range pending {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Key(), r.CreatedAt.In(set.Settings.Location).Format("2006-01-02 15:04"), r.SKU,
			strings.Repeat("★", r.Rating)+strings.Repeat("☆", 5-r.Rating), r.OrderID, r.CustomerID, r.Author)
		if r.Title != "" {
			fmt.Fprintf(w, "\t%s\n", r.Title)
		}
		for _, line := range strings.Split(r.Text, "\n") {
			fmt.Fprintf(w, "\t%s\n", line)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d awaiting approval: tsunagu reviews approve KEY | reject KEY\n", len(pending))
	return nil
}

// moderateReview publishes a pending review and counts it in its
// product's rating (approve), or keeps it from ever being published
// (reject). Each step is idempotent: approving twice counts it once.
func moderateReview(ctx context.Context, verb string, args []string) error {
	var data dataFlags
	key, err := oneArgument("reviews "+verb, args, reviewsUsage, &data)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	stored, err := st.GetReview(ctx, key)
	if err != nil {
		return err
	}
	switch {
	case verb == "reject" && stored.Review.Published:
		return fmt.Errorf("review %s is published already; it cannot be rejected here: %w", key, errUsage)
	case verb == "reject":
		if _, err := st.RejectReview(ctx, key, now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "review %s: rejected (never published)\n", key)
		return nil
	case stored.Rejected:
		return fmt.Errorf("review %s was rejected; it cannot be approved: %w", key, errUsage)
	}
	if _, err := st.PublishReview(ctx, key, now); err != nil {
		return err
	}
	if !stored.Counted {
		if err := countReview(ctx, st, stored, now); err != nil {
			return err
		}
	}
	p, err := st.GetProductReviews(ctx, stored.Review.SKU)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "review %s: published; %s now has %d reviews, %.1f stars on average\n", key, stored.Review.SKU, p.Count, p.Average())
	return nil
}

// countReview adds a published review to its product's rating, once.
func countReview(ctx context.Context, st *store.Store, stored store.StoredReview, now time.Time) error {
	r := stored.Review
	if _, err := st.CountReview(ctx, r, now); err != nil {
		return err
	}
	return st.MarkReviewCounted(ctx, r.Key(), now)
}
