package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/review"
)

// reviewItem is a review as stored: REVIEWITEM#<source>#<id> / REVIEW.
type reviewItem struct {
	Source     string    `dynamodbav:"source"`
	ReviewID   string    `dynamodbav:"review_id"`
	OrderID    string    `dynamodbav:"order_id,omitempty"`
	CustomerID string    `dynamodbav:"customer_id,omitempty"`
	SKU        string    `dynamodbav:"sku"`
	Rating     int       `dynamodbav:"rating"`
	Title      string    `dynamodbav:"title,omitempty"`
	Text       string    `dynamodbav:"text,omitempty"`
	Author     string    `dynamodbav:"author,omitempty"`
	Verified   bool      `dynamodbav:"verified"`
	Published  bool      `dynamodbav:"published"`
	CreatedAt  time.Time `dynamodbav:"created_at"`
	ReceivedAt time.Time `dynamodbav:"received_at"`
	// PublishedAt is when a later delivery published the review.
	PublishedAt time.Time `dynamodbav:"published_at,omitempty"`
	// CountedAt marks the review counted in its product's aggregate.
	CountedAt time.Time `dynamodbav:"counted_at,omitempty"`
	// DoneAt marks every step of the review's first delivery done.
	DoneAt time.Time `dynamodbav:"done_at,omitempty"`
	// RejectedAt is when the shop rejected a review of its own form.
	RejectedAt time.Time `dynamodbav:"rejected_at,omitempty"`
}

// StoredReview is a review as stored, with how far its steps went.
type StoredReview struct {
	Review review.Review
	// Counted: in its product's aggregate (MarkReviewCounted).
	Counted bool
	// Done: its first delivery finished (FinishReview).
	Done bool
	// Rejected: the shop rejected it (RejectReview); it is never published.
	Rejected bool
}

func reviewItemPK(reviewKey string) string { return "REVIEWITEM#" + reviewKey }

// productReviewsPK is the partition of a product's review aggregate,
// beside its catalog item (PRODUCT#<sku> / PRODUCT).
func productReviewsPK(sku string) string { return "PRODUCT#" + sku }

// SaveReview stores a review once (a PutItem conditioned on its key being
// new): the first delivery's content is kept, later ones change nothing
// (but PublishReview). It returns the review as stored (the earlier one
// when there was one) and how far its steps went.
func (s *Store) SaveReview(ctx context.Context, r review.Review, at time.Time) (StoredReview, error) {
	item, err := marshalMap(reviewItem{Source: r.Source, ReviewID: r.ID, OrderID: r.OrderID, CustomerID: r.CustomerID, SKU: r.SKU,
		Rating: r.Rating, Title: r.Title, Text: r.Text, Author: r.Author, Verified: r.Verified, Published: r.Published,
		CreatedAt: r.CreatedAt.UTC(), ReceivedAt: at.UTC()})
	if err != nil {
		return StoredReview{}, err
	}
	for k, v := range key(reviewItemPK(r.Key()), "REVIEW") {
		item[k] = v
	}
	if r.Source == review.SourceForm && !r.Published {
		// Awaiting the shop's approval: listed by ListPendingReviews
		// until approved or rejected.
		item["gsi1pk"] = &types.AttributeValueMemberS{Value: pendingReviewsPartition}
		item["gsi1sk"] = &types.AttributeValueMemberS{Value: r.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + r.Key()}
	}
	wrote, err := s.putNew(ctx, item)
	if err != nil {
		return StoredReview{}, fmt.Errorf("save review %s: %w", r.Key(), err)
	}
	if wrote {
		return StoredReview{Review: r}, nil
	}
	return s.GetReview(ctx, r.Key())
}

// review is the review an item holds.
func (it reviewItem) review() review.Review {
	return review.Review{Source: it.Source, ID: it.ReviewID, OrderID: it.OrderID, CustomerID: it.CustomerID, SKU: it.SKU,
		Rating: it.Rating, Title: it.Title, Text: it.Text, Author: it.Author, Verified: it.Verified,
		Published: it.Published, CreatedAt: it.CreatedAt}
}

// PublishReview publishes a stored review that was not (moderation
// passed at the source), and reports whether this call did.
func (s *Store) PublishReview(ctx context.Context, reviewKey string, at time.Time) (bool, error) {
	return s.setReview(ctx, reviewKey, "SET published = :true, published_at = :at REMOVE gsi1pk, gsi1sk", "attribute_exists(pk) AND published = :false AND attribute_not_exists(rejected_at)", at)
}

// pendingReviewsPartition is the sparse gsi1 partition of the reviews of
// tsunagu's own form awaiting the shop's approval.
const pendingReviewsPartition = "REVIEWS#PENDING"

// RejectReview keeps an unpublished review from ever being published (the
// shop rejected it) and takes it off the pending list; it reports whether
// this call did.
func (s *Store) RejectReview(ctx context.Context, reviewKey string, at time.Time) (bool, error) {
	return s.setReview(ctx, reviewKey, "SET rejected_at = :at REMOVE gsi1pk, gsi1sk", "attribute_exists(pk) AND published = :false AND attribute_not_exists(rejected_at)", at)
}

// ListPendingReviews lists the reviews of tsunagu's own form awaiting the
// shop's approval, oldest first: one Query of the sparse pending index.
func (s *Store) ListPendingReviews(ctx context.Context) ([]review.Review, error) {
	items, err := queryAll[reviewItem](ctx, s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pendingReviewsPartition}},
	})
	if err != nil {
		return nil, fmt.Errorf("list pending reviews: %w", err)
	}
	out := make([]review.Review, len(items))
	for i, it := range items {
		out[i] = it.review()
	}
	return out, nil
}

// GetReview reads a stored review; ErrNotFound when there is none.
func (s *Store) GetReview(ctx context.Context, reviewKey string) (StoredReview, error) {
	it, err := getDecoded[reviewItem](ctx, s, reviewItemPK(reviewKey), "REVIEW")
	if err != nil {
		return StoredReview{}, fmt.Errorf("get review %s: %w", reviewKey, err)
	}
	return StoredReview{Review: it.review(), Counted: !it.CountedAt.IsZero(), Done: !it.DoneAt.IsZero(), Rejected: !it.RejectedAt.IsZero()}, nil
}

// MarkReviewCounted notes that a review is in its product's aggregate, so
// later deliveries do not count it again.
func (s *Store) MarkReviewCounted(ctx context.Context, reviewKey string, at time.Time) error {
	_, err := s.setReview(ctx, reviewKey, "SET counted_at = :at", "attribute_exists(pk) AND attribute_not_exists(counted_at)", at)
	return err
}

// setReview is a conditional UpdateItem of a review item; it reports
// whether the condition held.
func (s *Store) setReview(ctx context.Context, reviewKey, update, condition string, at time.Time) (bool, error) {
	values := map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}}
	for name, v := range map[string]bool{":true": true, ":false": false} {
		if strings.Contains(update+condition, name) {
			values[name] = &types.AttributeValueMemberBOOL{Value: v}
		}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(reviewItemPK(reviewKey), "REVIEW"),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(condition), ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("update review %s: %w", reviewKey, err)
	}
	return true, nil
}

// FinishReview marks a review's delivery done, and reports whether this
// call did (the first copy of a delivery to finish; the others are
// duplicates).
func (s *Store) FinishReview(ctx context.Context, reviewKey string, at time.Time) (bool, error) {
	return s.setReview(ctx, reviewKey, "SET done_at = :at", "attribute_exists(pk) AND attribute_not_exists(done_at)", at)
}

// RecentReviewsKept is how many reviews a product's aggregate remembers
// having counted: a review retried after more than this many others of
// the same product were counted in between would be counted twice.
const RecentReviewsKept = 100

// ProductReviews is a product's review aggregate: its published reviews'
// count and rating sum, and its best recent reviews to quote, kept as
// reviews arrive, so a message needs one GetItem, never a Query over the
// reviews.
type ProductReviews struct {
	SKU       string    `dynamodbav:"sku"`
	Count     int64     `dynamodbav:"count"`
	RatingSum int64     `dynamodbav:"rating_sum"`
	UpdatedAt time.Time `dynamodbav:"updated_at"`
	// Version guards the read-modify-write; Recent are the keys of the
	// last RecentReviewsKept reviews counted, oldest first.
	Version int64    `dynamodbav:"version"`
	Recent  []string `dynamodbav:"recent"`
	// Best are the newest published reviews worth quoting in messages
	// (Quotable), newest first, at most BestReviewsKept.
	Best []ReviewQuote `dynamodbav:"best,omitempty"`
}

// ReviewQuote is a published review as messages quote it: its words as
// written (stored as text, escaped wherever shown).
type ReviewQuote struct {
	Key       string    `dynamodbav:"key"`
	Rating    int       `dynamodbav:"rating"`
	Title     string    `dynamodbav:"title,omitempty"`
	Text      string    `dynamodbav:"text,omitempty"`
	Author    string    `dynamodbav:"author,omitempty"`
	CreatedAt time.Time `dynamodbav:"created_at"`
}

// BestReviewsKept is how many reviews a product's aggregate keeps to
// quote; QuoteMinRating the least rating of one.
const (
	BestReviewsKept = 3
	QuoteMinRating  = 4
)

// Quotable reports whether a published review may be quoted in messages:
// rated QuoteMinRating or more, and verified (its author bought the
// product).
func Quotable(r review.Review) bool { return r.Rating >= QuoteMinRating && r.Verified }

// withBest is best with r added when it is quotable: newest first (by
// when it was written, then key), at most BestReviewsKept.
func withBest(best []ReviewQuote, r review.Review) []ReviewQuote {
	if !Quotable(r) {
		return best
	}
	q := ReviewQuote{Key: r.Key(), Rating: r.Rating, Title: r.Title, Text: r.Text, Author: r.Author, CreatedAt: r.CreatedAt.UTC()}
	out := append(slices.DeleteFunc(slices.Clone(best), func(b ReviewQuote) bool { return b.Key == q.Key }), q)
	slices.SortFunc(out, func(a, b ReviewQuote) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(out) > BestReviewsKept {
		out = out[:BestReviewsKept]
	}
	return out
}

// Average is the mean rating, 0 without reviews.
func (p ProductReviews) Average() float64 {
	if p.Count == 0 {
		return 0
	}
	return float64(p.RatingSum) / float64(p.Count)
}

// GetProductReviews reads a product's review aggregate; a product without
// counted reviews has a zero one.
func (s *Store) GetProductReviews(ctx context.Context, sku string) (ProductReviews, error) {
	p, err := getDecoded[ProductReviews](ctx, s, productReviewsPK(sku), "REVIEWS")
	if errors.Is(err, ErrNotFound) {
		return ProductReviews{SKU: sku}, nil
	}
	if err != nil {
		return ProductReviews{}, fmt.Errorf("get reviews of %s: %w", sku, err)
	}
	return p, nil
}

// maxAggregateAttempts bounds the optimistic retries of CountReview when
// other reviews of the product are counted at the same moment.
const maxAggregateAttempts = 20

// CountReview adds a published review's rating to its product's
// aggregate, and the review to the product's Best when it is quotable,
// once: a strongly consistent GetItem, then a PutItem conditioned on the
// version read, retried on conflict. A review already among the
// aggregate's Recent is not added again (a retried delivery), and
// reports false.
func (s *Store) CountReview(ctx context.Context, r review.Review, at time.Time) (bool, error) {
	sku, reviewKey, rating := r.SKU, r.Key(), r.Rating
	for range maxAggregateAttempts {
		p, err := s.GetProductReviews(ctx, sku)
		if err != nil {
			return false, err
		}
		if slices.Contains(p.Recent, reviewKey) {
			return false, nil
		}
		read := p.Version
		p.Count++
		p.RatingSum += int64(rating)
		p.Version++
		p.UpdatedAt = at.UTC()
		p.Recent = append(p.Recent, reviewKey)
		p.Best = withBest(p.Best, r)
		if n := len(p.Recent); n > RecentReviewsKept {
			p.Recent = p.Recent[n-RecentReviewsKept:]
		}
		item, err := attributevalue.MarshalMap(p)
		if err != nil {
			return false, fmt.Errorf("marshal reviews of %s: %w", sku, err)
		}
		for k, v := range key(productReviewsPK(sku), "REVIEWS") {
			item[k] = v
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR version = :read"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":read": &types.AttributeValueMemberN{Value: fmt.Sprint(read)}},
		})
		if isConditionFailed(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("count review %s of %s: %w", reviewKey, sku, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("count review %s of %s: %d conflicting writes in a row", reviewKey, sku, maxAggregateAttempts)
}
