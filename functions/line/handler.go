package main

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Route keys this function serves (template.yaml declares them).
const (
	webhookRoute = "POST /line/webhook"
	linkRoute    = "GET /line/link"
)

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	LineEventDone(ctx context.Context, eventID string, now time.Time) (bool, error)
	MarkLineEventDone(ctx context.Context, eventID, eventType string, now time.Time) (bool, error)
	GetLineLink(ctx context.Context, userID string) (store.LineLink, error)
	LinkLineUser(ctx context.Context, userID, customerID string, at time.Time) (bool, error)
	RecordLineFollow(ctx context.Context, userID string, following bool, at time.Time) (store.LineLink, bool, error)
	IssueLinkNonce(ctx context.Context, n store.LinkNonce) error
	SpendLinkNonce(ctx context.Context, nonce, userID string, at time.Time) (store.LinkNonce, error)
	GetOrder(ctx context.Context, id string) (store.OrderState, error)
	GetProfile(ctx context.Context, id string) (customer.Profile, error)
	UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error)
}

// LINE is what the handler needs of the Messaging API: line.Client, or
// line.DryRun when no channel access token is configured.
type LINE interface {
	Reply(ctx context.Context, replyToken string, messages []messaging_api.MessageInterface) error
	IssueLinkToken(ctx context.Context, userID string) (string, error)
}

// Handler serves LINE's webhook (follow, unfollow, account link,
// postback) and the shop-facing step of LINE's account link.
type Handler struct {
	Store Store
	LINE  LINE
	// ChannelSecret verifies X-Line-Signature (LINE_CHANNEL_SECRET; any
	// of its keys, while it rotates).
	ChannelSecret signature.Keys
	// SigningSecret verifies the shop's word for who a customer is: the
	// thank-you signature of an order, or a customer signature bound to
	// the link token (THANKYOU_SIGNING_SECRET; any of its keys).
	SigningSecret signature.Keys
	// LoginURL is the shop's page where a customer proves who they are
	// before linking LINE; the chat's link button opens it with
	// ?linkToken=. Empty: the chat offers no account link.
	LoginURL string
	// Points answers points postbacks; nil ignores them.
	Points *PointsDesk
	// Surveys records LINE surveys' quick-reply answers; nil ignores them.
	Surveys *Surveys
	Now     func() time.Time
}

// Handle answers one API Gateway request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch req.RouteKey {
	case webhookRoute:
		return h.webhook(ctx, req), nil
	case linkRoute:
		return h.link(ctx, req), nil
	}
	return httpapi.Error(http.StatusNotFound, "no such route"), nil
}

// retryAfter is the wait suggested to LINE before it redelivers after a
// failure on tsunagu's side.
const retryAfter = 5 * time.Second
