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
	WebhookSecret string // X-Tsunagu-Signature
	ShopifySecret string // X-Shopify-Hmac-Sha256
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
	body, ok := httpapi.Body(req)
	switch {
	case !ok:
		return invalid(&order.InvalidError{Fields: []order.FieldError{{Field: "body", Message: "is not valid base64"}}}), nil
	case len(body) > httpapi.MaxBody:
		return httpapi.Error(http.StatusRequestEntityTooLarge, "body is larger than 256 KiB"), nil
	}
	var customerID string
	var err error
	switch req.RouteKey {
	case genericRoute:
		if err := signature.VerifyTsunagu(h.WebhookSecret, httpapi.Header(req, "X-Tsunagu-Signature"), body, now); err != nil {
			return unauthorized(ctx, "X-Tsunagu-Signature", err), nil
		}
		customerID, err = order.DecodeErasure(body)
	case shopifyRoute:
		if err := signature.VerifyShopify(h.ShopifySecret, httpapi.Header(req, "X-Shopify-Hmac-Sha256"), body); err != nil {
			return unauthorized(ctx, "X-Shopify-Hmac-Sha256", err), nil
		}
		customerID, err = shopify.DecodeRedact(httpapi.Header(req, "X-Shopify-Topic"), body)
	default:
		return httpapi.Error(http.StatusNotFound, "no such route"), nil
	}
	var bad *order.InvalidError
	if errors.As(err, &bad) {
		slog.InfoContext(ctx, "erasure request rejected", "route", req.RouteKey, "bad_fields", len(bad.Fields))
		return invalid(bad), nil
	}
	if err != nil {
		return unavailable(ctx, err), nil
	}
	e, err := h.Store.EraseCustomer(ctx, customerID, now)
	if err != nil {
		return unavailable(ctx, err), nil
	}
	slog.InfoContext(ctx, "customer erased", "route", req.RouteKey, "known", e.Known, "profile_erased", e.Profile, "line_links_removed", e.LineLinks)
	return httpapi.JSON(http.StatusOK, answer{Accepted: true, Erasure: e}), nil
}

func invalid(bad *order.InvalidError) events.APIGatewayV2HTTPResponse {
	return httpapi.JSON(http.StatusBadRequest, map[string]any{"error": "invalid request", "fields": bad.Fields})
}

func unauthorized(ctx context.Context, header string, err error) events.APIGatewayV2HTTPResponse {
	slog.InfoContext(ctx, "erasure signature refused", "header", header, "reason", err.Error())
	return httpapi.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid signature", "header": header, "reason": err.Error()})
}

func unavailable(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	slog.ErrorContext(ctx, "erasure failed", "error", err)
	resp := httpapi.Error(http.StatusServiceUnavailable, "temporarily unavailable; retry later")
	resp.Headers["Retry-After"] = "30"
	return resp
}
