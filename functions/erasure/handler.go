package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Route keys this function serves (template.yaml declares them).
const (
	genericRoute = "POST /webhooks/customers/erase"
	shopifyRoute = "POST /webhooks/shopify/customers/redact"
)

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	EraseCustomer(ctx context.Context, customerID string, at time.Time) (store.Erasure, error)
}

// Handler erases a customer's personal data when the shop asks: its own
// deletion webhook (generic, X-Tsunagu-Signature) or Shopify's mandatory
// customers/redact webhook (X-Shopify-Hmac-Sha256). Erasing is idempotent,
// so a redelivered request answers the same and changes nothing more.
type Handler struct {
	Store         Store
	WebhookSecret signature.Keys // X-Tsunagu-Signature (any key while it rotates)
	ShopifySecret signature.Keys // X-Shopify-Hmac-Sha256 (any key while it rotates)
	Now           func() time.Time
}

// answer is the JSON body of an accepted request.
type answer struct {
	Accepted bool `json:"accepted"`
	store.Erasure
}

// Handle answers one API Gateway request: 200 once the data is erased
// (or was never stored), 4xx for a request that must not be retried as
// is, 503 when the store failed, so the shop retries.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := h.Now()
	body, refusal := httpapi.WebhookBody(req)
	if refusal != nil {
		return *refusal, nil
	}
	var customerID string
	var err error
	switch req.RouteKey {
	case genericRoute:
		if err := h.WebhookSecret.VerifyTsunagu(httpapi.Header(req, "X-Tsunagu-Signature"), body, now); err != nil {
			return httpapi.Unauthorized(ctx, "X-Tsunagu-Signature", err), nil
		}
		customerID, err = order.DecodeErasure(body)
	case shopifyRoute:
		if err := h.ShopifySecret.VerifyShopify(httpapi.Header(req, "X-Shopify-Hmac-Sha256"), body); err != nil {
			return httpapi.Unauthorized(ctx, "X-Shopify-Hmac-Sha256", err), nil
		}
		customerID, err = shopify.DecodeRedact(httpapi.Header(req, "X-Shopify-Topic"), body)
	default:
		return httpapi.Error(http.StatusNotFound, "no such route"), nil
	}
	var bad *order.InvalidError
	if errors.As(err, &bad) {
		slog.InfoContext(ctx, "erasure request rejected", "route", req.RouteKey, "bad_fields", len(bad.Fields))
		return httpapi.Invalid(bad.Fields), nil
	}
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	e, err := h.Store.EraseCustomer(ctx, customerID, now)
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	slog.InfoContext(ctx, "customer erased", "route", req.RouteKey, "known", e.Known, "profile_erased", e.Profile, "line_links_removed", e.LineLinks)
	return httpapi.JSON(http.StatusOK, answer{Accepted: true, Erasure: e}), nil
}

// retryAfter is how long a shop should wait before re-sending a request
// that failed on tsunagu's side.
const retryAfter = 30 * time.Second
