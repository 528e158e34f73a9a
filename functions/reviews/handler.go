package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

// Route keys this function serves (template.yaml declares them).
const (
	genericRoute = "POST /webhooks/reviews"
	judgemeRoute = "POST /webhooks/reviews/judgeme"
)

// errNoJudgemeSecret refuses Judge.me's webhooks when the shop set no
// secret for them.
var errNoJudgemeSecret = errors.New("JUDGEME_WEBHOOK_SECRET is not configured")

// retryAfter is what a 503 asks the sender to wait.
const retryAfter = 30 * time.Second

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	GetOrder(ctx context.Context, id string) (store.OrderState, error)
	SaveReview(ctx context.Context, r review.Review, at time.Time) (store.StoredReview, error)
	PublishReview(ctx context.Context, reviewKey string, at time.Time) (bool, error)
	CountReview(ctx context.Context, r review.Review, at time.Time) (bool, error)
	MarkReviewCounted(ctx context.Context, reviewKey string, at time.Time) error
	RecordReview(ctx context.Context, customerID, sku, reviewKey string, at time.Time) error
	FinishReview(ctx context.Context, reviewKey string, at time.Time) (bool, error)
	PutMovement(ctx context.Context, m loyalty.Movement) (bool, error)
}

// Handler takes reviews in: from the shop (tsunagu's review webhook,
// X-Tsunagu-Signature) and from Judge.me (its review webhooks as Judge.me
// sends them, JUDGEME-HMAC-SHA256). Each review is stored once (a later
// delivery may only publish it), counted in its product's rating once
// published, and stops further review requests for that product to its
// author. Every step is idempotent, so a retry
// finishes what a failed delivery left and a redelivery changes nothing.
type Handler struct {
	Store         Store
	WebhookSecret signature.Keys // X-Tsunagu-Signature (any key while it rotates)
	// JudgemeSecret verifies JUDGEME-HMAC-SHA256; without keys the
	// Judge.me route refuses every request.
	JudgemeSecret signature.Keys
	// Cases opens a support case for a one-or-two-star review of a known
	// customer (shared/support).
	Cases CaseOpener
	// Forms opens the links of tsunagu's own review form; Shop names the
	// shop on its page.
	Forms FormOpener
	Shop  string
	// ReviewPoints is what a review of an order's product by the customer
	// who ordered it earns, whatever its rating (loyalty.yaml reviews:);
	// 0 gives none.
	ReviewPoints int64
	Now          func() time.Time
}

// FormOpener opens review form links (a *review.FormSealer).
type FormOpener interface {
	Open(token string) (review.FormAsk, error)
}

// CaseOpener opens a support case (a *support.Opener).
type CaseOpener interface {
	Open(ctx context.Context, c store.Case) error
}

// answer is the JSON body of an accepted request.
type answer struct {
	Accepted  bool   `json:"accepted"`
	Duplicate bool   `json:"duplicate"`
	Review    string `json:"review,omitempty"`
	// Counted: the review is in its product's rating (published).
	Counted bool `json:"counted"`
	// StopsRequests: the author is known, so no more review requests for
	// the product go to them.
	StopsRequests bool `json:"stops_requests"`
	// Points: what the review earned its author (points for reviews).
	Points  int64  `json:"points,omitempty"`
	Ignored string `json:"ignored,omitempty"`
}

// Handle answers one API Gateway request: 200 once the review is stored
// (or was already), 4xx for a request that must not be retried as is,
// 503 when the store failed, so the sender retries.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := h.Now()
	if req.RouteKey == formPage || req.RouteKey == formPost {
		return h.form(ctx, req, now), nil
	}
	body, refusal := httpapi.WebhookBody(req)
	if refusal != nil {
		return *refusal, nil
	}
	var (
		r   review.Review
		err error
	)
	switch req.RouteKey {
	case genericRoute:
		if err := h.WebhookSecret.VerifyTsunagu(httpapi.Header(req, "X-Tsunagu-Signature"), body, now); err != nil {
			return httpapi.Unauthorized(ctx, "X-Tsunagu-Signature", err), nil
		}
		r, err = review.DecodeGeneric(body, now)
	case judgemeRoute:
		if len(h.JudgemeSecret) == 0 {
			return httpapi.Unauthorized(ctx, review.JudgemeSignatureHeader, errNoJudgemeSecret), nil
		}
		if err := h.JudgemeSecret.VerifyJudgeme(httpapi.Header(req, review.JudgemeSignatureHeader), body); err != nil {
			return httpapi.Unauthorized(ctx, review.JudgemeSignatureHeader, err), nil
		}
		r, err = review.DecodeJudgeme(body)
	default:
		return httpapi.Error(http.StatusNotFound, "no such route"), nil
	}
	var bad *order.InvalidError
	switch {
	case errors.Is(err, review.ErrNotProductReview):
		slog.InfoContext(ctx, "review ignored", "route", req.RouteKey, "reason", "not_a_product_review")
		return httpapi.JSON(http.StatusOK, answer{Accepted: true, Ignored: "not a product review"}), nil
	case errors.As(err, &bad):
		slog.InfoContext(ctx, "review rejected", "route", req.RouteKey, "bad_fields", len(bad.Fields))
		return httpapi.Invalid(bad.Fields), nil
	case err != nil:
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	a, err := h.take(ctx, r, now)
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	slog.InfoContext(ctx, "review taken", "route", req.RouteKey, "source", r.Source, "sku", r.SKU, "rating", r.Rating,
		"published", r.Published, "duplicate", a.Duplicate, "counted", a.Counted, "stops_requests", a.StopsRequests)
	return httpapi.JSON(http.StatusOK, a), nil
}

// take runs a review's steps, each idempotent: find its author through
// the order when the body does not name them, store it (the first
// delivery's content wins, except that a later one may publish a review
// that was not), count it in its product's rating once it is published,
// note that its author reviewed the product, and mark it done. A delivery
// that changes nothing answers duplicate.
func (h *Handler) take(ctx context.Context, r review.Review, now time.Time) (answer, error) {
	var ordered *order.Order
	if r.OrderID != "" && (r.CustomerID == "" || h.ReviewPoints > 0) {
		o, err := h.Store.GetOrder(ctx, r.OrderID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// An order tsunagu never heard of: the review is kept, its
			// author unknown (and earns no points).
		case err != nil:
			return answer{}, err
		default:
			ordered = &o.Order
		}
	}
	if r.CustomerID == "" && ordered != nil && ordered.Customer != nil {
		r.CustomerID = ordered.Customer.ID
	}
	stored, err := h.Store.SaveReview(ctx, r, now)
	if err != nil {
		return answer{}, err
	}
	rv, changed := stored.Review, false
	if r.Published && !rv.Published {
		// Published since it was first delivered (moderation passed):
		// by this call, or by a copy of this delivery at the same time.
		if changed, err = h.Store.PublishReview(ctx, rv.Key(), now); err != nil {
			return answer{}, err
		}
		rv.Published = true
	}
	if rv.Published && !stored.Counted {
		counted, err := h.Store.CountReview(ctx, rv, now)
		if err != nil {
			return answer{}, err
		}
		if err := h.Store.MarkReviewCounted(ctx, rv.Key(), now); err != nil {
			return answer{}, err
		}
		changed = changed || counted && stored.Done
	}
	a := answer{Accepted: true, Review: rv.Key(), Counted: rv.Published, StopsRequests: rv.CustomerID != ""}
	if stored.Done {
		a.Duplicate = !changed
		return a, nil
	}
	if rv.CustomerID != "" {
		if err := h.Store.RecordReview(ctx, rv.CustomerID, rv.SKU, rv.Key(), rv.CreatedAt); err != nil {
			return answer{}, err
		}
		if rv.Rating <= support.LowRating {
			// Whatever the rating's fate in the shop's moderation, the
			// shop hears of it first.
			c := store.Case{ID: support.LowReview + "#" + rv.Key(), Cause: support.LowReview, CustomerID: rv.CustomerID, OrderID: rv.OrderID,
				About: fmt.Sprintf("★%d %s", rv.Rating, rv.SKU), Said: strings.TrimSpace(rv.Title + "\n" + rv.Text), At: now}
			if err := h.Cases.Open(ctx, c); err != nil {
				return answer{}, err
			}
		}
		if h.ReviewPoints > 0 && orderedBy(ordered, rv) {
			if err := h.credit(ctx, rv, now); err != nil {
				return answer{}, err
			}
			a.Points = h.ReviewPoints
		}
	}
	first, err := h.Store.FinishReview(ctx, rv.Key(), now)
	if err != nil {
		return answer{}, err
	}
	a.Duplicate = !first && !changed
	return a, nil
}

// ReasonReview is the reason of the points a review earned.
const ReasonReview = "review"

// orderedBy reports whether rv is a review, by the customer who placed
// it, of a product of the order o (under its sku or another key the
// product is known by): only such a review earns points.
func orderedBy(o *order.Order, rv review.Review) bool {
	if o == nil || o.ID != rv.OrderID || o.Customer == nil || rv.CustomerID == "" || o.Customer.ID != rv.CustomerID {
		return false
	}
	return slices.ContainsFunc(o.Items, func(it order.Item) bool { return it.SKU == rv.SKU || slices.Contains(it.OtherKeys(), rv.SKU) })
}

// credit gives rv's author the points for a review, once per review (the
// movement's id is the review's key), whatever its rating: the points
// never depend on what the review says.
func (h *Handler) credit(ctx context.Context, rv review.Review, now time.Time) error {
	m := loyalty.Movement{CustomerID: rv.CustomerID, Kind: loyalty.Adjusted, Reason: ReasonReview, Ref: "review:" + rv.Key(), Points: h.ReviewPoints, At: now.UTC()}
	written, err := h.Store.PutMovement(ctx, m)
	if err != nil {
		return fmt.Errorf("credit points for review %s: %w", rv.Key(), err)
	}
	if written {
		slog.InfoContext(ctx, "points movement", "kind", m.Kind, "reason", m.Reason, "points", m.Points)
	}
	return nil
}
