package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
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
	Now   func() time.Time
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
	StopsRequests bool   `json:"stops_requests"`
	Ignored       string `json:"ignored,omitempty"`
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
	if r.CustomerID == "" && r.OrderID != "" {
		o, err := h.Store.GetOrder(ctx, r.OrderID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// An order tsunagu never heard of: the review is kept, its
			// author unknown.
		case err != nil:
			return answer{}, err
		case o.Order.Customer != nil:
			r.CustomerID = o.Order.Customer.ID
		}
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
	}
	first, err := h.Store.FinishReview(ctx, rv.Key(), now)
	if err != nil {
		return answer{}, err
	}
	a.Duplicate = !first && !changed
	return a, nil
}
