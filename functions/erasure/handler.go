package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/dataexport"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Route keys this function serves (template.yaml declares them).
const (
	genericRoute = "POST /webhooks/customers/erase"
	// complianceRoute takes all three of Shopify's compliance topics: the
	// one address README tells the shop to configure.
	complianceRoute = "POST /webhooks/shopify/compliance"
	// redactRoute is the earlier address, for customers/redact only.
	redactRoute = "POST /webhooks/shopify/customers/redact"
)

// complianceSource names the delivery markers of compliance webhooks.
const complianceSource = "shopify-compliance"

// bodyMarkerRetention is how long a compliance request's topic + body is
// remembered: its body carries no time and only the body is signed, so a
// captured request replayed years later (a shop/redact after a
// reinstall, a redact of a customer who came back) must still be known.
const bodyMarkerRetention = 10 * 365 * 24 * time.Hour

// markerRetention is how long a delivery key is kept: a webhook id as
// long as any delivery, a body for bodyMarkerRetention.
func markerRetention(key string) time.Duration {
	if strings.HasPrefix(key, bodyKeyPrefix) {
		return bodyMarkerRetention
	}
	return store.DeliveryRetention
}

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	dataexport.Reader
	EraseCustomer(ctx context.Context, customerID string, at time.Time) (store.Erasure, error)
	DeliveryDone(ctx context.Context, source, id string, now time.Time) (bool, error)
	MarkDeliveredFor(ctx context.Context, source, id, eventType, orderID string, now time.Time, retention time.Duration) (bool, error)
	SaveExport(ctx context.Context, rec store.ExportRecord) (store.ExportRecord, error)
	ClaimExportNotice(ctx context.Context, requestID string, at time.Time) (bool, error)
	ReleaseExportNotice(ctx context.Context, requestID string, at time.Time) error
	RecordShopRedaction(ctx context.Context, r store.ShopRedaction) (bool, error)
}

// Mailer sends the shop its notices.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// Handler answers the shop's privacy webhooks: its own deletion webhook
// (generic, X-Tsunagu-Signature) and Shopify's mandatory compliance
// webhooks (X-Shopify-Hmac-Sha256): customers/redact erases the customer,
// customers/data_request keeps the customer's data export for the shop,
// shop/redact records the request for the shop redaction job. Every
// request is idempotent, so a redelivery answers the same and changes
// nothing more.
type Handler struct {
	Store         Store
	WebhookSecret signature.Keys // X-Tsunagu-Signature (any key while it rotates)
	ShopifySecret signature.Keys // X-Shopify-Hmac-Sha256 (any key while it rotates)
	// Compliance decodes Shopify's compliance webhooks for the configured
	// shop.
	Compliance shopify.Compliance
	// Mailer tells the shop's contact address (ShopContact) that a data
	// export is ready; nil sends no notice.
	Mailer      Mailer
	ShopContact string
	Now         func() time.Time
}

// answer is the JSON body of an accepted request.
type answer struct {
	Accepted  bool   `json:"accepted"`
	Duplicate bool   `json:"duplicate"`
	Topic     string `json:"topic,omitempty"`
	*store.Erasure
	// DataRequest and ExportExpiresAt answer a customers/data_request.
	DataRequest     string     `json:"data_request,omitempty"`
	ExportExpiresAt *time.Time `json:"export_expires_at,omitempty"`
	// ShopRedaction answers a shop/redact: "pending" until the job ran.
	ShopRedaction string `json:"shop_redaction,omitempty"`
}

// Handle answers one API Gateway request: 200 once the request is done
// (or, for shop/redact, recorded for the job), 4xx for a request that must
// not be retried as is, 503 when the store failed, so the shop retries.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := h.Now()
	body, refusal := httpapi.WebhookBody(req)
	if refusal != nil {
		return *refusal, nil
	}
	switch req.RouteKey {
	case genericRoute:
		if err := h.WebhookSecret.VerifyTsunagu(httpapi.Header(req, "X-Tsunagu-Signature"), body, now); err != nil {
			return httpapi.Unauthorized(ctx, "X-Tsunagu-Signature", err), nil
		}
		customerID, err := order.DecodeErasure(body)
		if refusal := h.refused(ctx, req.RouteKey, err); refusal != nil {
			return *refusal, nil
		}
		e, err := h.Store.EraseCustomer(ctx, customerID, now)
		if err != nil {
			return httpapi.Unavailable(ctx, err, retryAfter), nil
		}
		slog.InfoContext(ctx, "customer erased", "route", req.RouteKey, "known", e.Known, "profile_erased", e.Profile, "line_links_removed", e.LineLinks, "data_exports_removed", e.Exports)
		return httpapi.JSON(http.StatusOK, answer{Accepted: true, Erasure: &e}), nil
	case complianceRoute, redactRoute:
		if err := h.ShopifySecret.VerifyShopify(httpapi.Header(req, "X-Shopify-Hmac-Sha256"), body); err != nil {
			return httpapi.Unauthorized(ctx, "X-Shopify-Hmac-Sha256", err), nil
		}
		c := h.Compliance
		if req.RouteKey == redactRoute {
			c.Topics = []string{shopify.RedactTopic}
		}
		r, err := c.Decode(httpapi.Header(req, "X-Shopify-Topic"), httpapi.Header(req, shopify.ShopDomainHeader), body)
		if refusal := h.refused(ctx, req.RouteKey, err); refusal != nil {
			return *refusal, nil
		}
		a, err := h.compliance(ctx, r, deliveryKeys(httpapi.Header(req, "X-Shopify-Webhook-Id"), r.Topic, body), now)
		if err != nil {
			return httpapi.Unavailable(ctx, err, retryAfter), nil
		}
		slog.InfoContext(ctx, "compliance request done", "route", req.RouteKey, "topic", r.Topic, "duplicate", a.Duplicate, "shop_redaction", a.ShopRedaction)
		return httpapi.JSON(http.StatusOK, a), nil
	}
	return httpapi.Error(http.StatusNotFound, "no such route"), nil
}

// refused is the answer to a request that did not decode: 400 naming every
// bad field, or 503 for anything else.
func (h *Handler) refused(ctx context.Context, route string, err error) *events.APIGatewayV2HTTPResponse {
	if err == nil {
		return nil
	}
	var bad *order.InvalidError
	if !errors.As(err, &bad) {
		resp := httpapi.Unavailable(ctx, err, retryAfter)
		return &resp
	}
	slog.InfoContext(ctx, "erasure request rejected", "route", route, "bad_fields", len(bad.Fields))
	resp := httpapi.Invalid(bad.Fields)
	return &resp
}

// bodyKeyPrefix starts the delivery key of a compliance request's topic
// and body.
const bodyKeyPrefix = "body:"

// deliveryKeys are the markers a compliance delivery is known by: Shopify's
// webhook id, and its topic and body (a body replayed under a new webhook
// id is the same request). Hashed, so any header fits a key.
func deliveryKeys(webhookID, topic string, body []byte) []string {
	bodySum := sha256.Sum256(append([]byte(topic+"\n"), body...))
	keys := []string{bodyKeyPrefix + hex.EncodeToString(bodySum[:])}
	if webhookID != "" {
		idSum := sha256.Sum256([]byte(webhookID))
		keys = append(keys, "id:"+hex.EncodeToString(idSum[:]))
	}
	return keys
}

// compliance runs one compliance request once: a delivery seen before (by
// either key) answers duplicate; otherwise the request's steps run, each
// idempotent, and the delivery is marked done last.
func (h *Handler) compliance(ctx context.Context, r shopify.ComplianceRequest, keys []string, now time.Time) (answer, error) {
	a := answer{Accepted: true, Topic: r.Topic}
	for _, k := range keys {
		done, err := h.Store.DeliveryDone(ctx, complianceSource, k, now)
		if err != nil {
			return a, err
		}
		if done {
			a.Duplicate = true
			return a, nil
		}
	}
	switch r.Topic {
	case shopify.RedactTopic:
		e, err := h.Store.EraseCustomer(ctx, r.CustomerID, now)
		if err != nil {
			return a, err
		}
		// A guest kept by an earlier version under the unkeyed id is
		// erased there too.
		if legacy, err := h.legacyGuest(ctx, r); err != nil {
			return a, err
		} else if legacy {
			if e, err = h.Store.EraseCustomer(ctx, r.LegacyCustomerID, now); err != nil {
				return a, err
			}
		}
		a.Erasure = &e
	case shopify.DataRequestTopic:
		rec, err := h.export(ctx, r, now)
		if err != nil {
			return a, err
		}
		a.DataRequest, a.ExportExpiresAt = rec.RequestID, &rec.ExpiresAt
	case shopify.ShopRedactTopic:
		if _, err := h.Store.RecordShopRedaction(ctx, store.ShopRedaction{ShopID: r.ShopID, ShopDomain: r.ShopDomain, RequestedAt: now}); err != nil {
			return a, err
		}
		a.ShopRedaction = "pending"
	}
	first := false
	for _, k := range keys {
		marked, err := h.Store.MarkDeliveredFor(ctx, complianceSource, k, r.Topic, "", now, markerRetention(k))
		if err != nil {
			return a, err
		}
		first = first || marked
	}
	a.Duplicate = !first
	return a, nil
}

// legacyGuest reports whether a guest has a profile under the unkeyed id
// an earlier version gave them.
func (h *Handler) legacyGuest(ctx context.Context, r shopify.ComplianceRequest) (bool, error) {
	if r.LegacyCustomerID == "" {
		return false, nil
	}
	_, err := h.Store.GetProfile(ctx, r.LegacyCustomerID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// export keeps the customer's data export for the data request (the first
// one stays) and tells the shop it is ready. The telling is claimed first,
// so of several copies of a request only one sends; a send that failed
// gives the claim back for the retry.
func (h *Handler) export(ctx context.Context, r shopify.ComplianceRequest, now time.Time) (store.ExportRecord, error) {
	id := r.CustomerID
	if _, err := h.Store.GetProfile(ctx, id); errors.Is(err, store.ErrNotFound) {
		if legacy, err := h.legacyGuest(ctx, r); err != nil {
			return store.ExportRecord{}, err
		} else if legacy {
			id = r.LegacyCustomerID
		}
	} else if err != nil {
		return store.ExportRecord{}, err
	}
	e, err := dataexport.Collect(ctx, h.Store, id)
	if err != nil {
		return store.ExportRecord{}, err
	}
	content, err := dataexport.Marshal(e)
	if err != nil {
		return store.ExportRecord{}, err
	}
	rec, err := h.Store.SaveExport(ctx, store.ExportRecord{RequestID: r.DataRequestID, CustomerID: r.CustomerID, RequestedAt: now, Content: content})
	if err != nil || h.Mailer == nil {
		return rec, err
	}
	claimed, err := h.Store.ClaimExportNotice(ctx, rec.RequestID, now)
	if err != nil || !claimed {
		return rec, err
	}
	_, err = h.Mailer.Send(ctx, exportNotice(h.ShopContact, rec))
	if errors.Is(err, email.ErrRejected) {
		// SES will never take it (an unverified contact address, say):
		// the export is kept all the same, and the shop fetches it.
		// (SES's message may name the address: not logged.)
		slog.WarnContext(ctx, "export notice rejected", "data_request", rec.RequestID)
		return rec, nil
	}
	if err != nil {
		return rec, errors.Join(err, h.Store.ReleaseExportNotice(ctx, rec.RequestID, now))
	}
	return rec, nil
}

// retryAfter is how long a shop should wait before re-sending a request
// that failed on tsunagu's side.
const retryAfter = 30 * time.Second
