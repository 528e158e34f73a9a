package campaign

import (
	"context"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// reviewsData fills, for templates that show them, each recommendation's
// product rating and best recent reviews from the product's review
// aggregate: one GetItem per recommended product that names one
// (crosssell.yaml reviews_of), never a Query over its reviews.
func (r *Runner) reviewsData(ctx context.Context, a rules.Action, data *rules.MessageData) error {
	if r.ProductReviews == nil || !r.Rules.Templates[a.Template].UsesProductReviews {
		return nil
	}
	for i := range data.Recommendations {
		rec := &data.Recommendations[i]
		if rec.SKU == "" {
			continue
		}
		p, err := r.ProductReviews.GetProductReviews(ctx, rec.SKU)
		if err != nil {
			return err
		}
		rec.Rating, rec.RatingCount = p.Average(), p.Count
		for _, q := range p.Best {
			rec.Reviews = append(rec.Reviews, rules.ReviewQuote{Rating: q.Rating, Stars: rules.Stars(q.Rating), Title: q.Title, Text: q.Text, Author: q.Author})
		}
	}
	return nil
}
