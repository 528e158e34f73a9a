package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/recommend"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Route keys this function serves (template.yaml declares them).
const (
	genericRoute = "POST /webhooks/orders"
	shopifyRoute = "POST /webhooks/shopify/orders"
)

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	DeliveryDone(ctx context.Context, source, id string, now time.Time) (bool, error)
	MarkDelivered(ctx context.Context, source, id, eventType, orderID string, now time.Time) (bool, error)
	ApplyOrderEvent(ctx context.Context, ev order.Event, recommend []string) (store.OrderState, error)
	ReadCatalog(ctx context.Context, q store.CatalogQuery) (store.Catalog, error)
	LearnAffinity(ctx context.Context, pairs map[string][]string) error
	LinkLineUser(ctx context.Context, userID, customerID string, at time.Time) (bool, error)
	UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error)
	RedeemCoupon(ctx context.Context, code, orderID, customerID string, at time.Time) (store.Coupon, bool, error)
	RecordRejection(ctx context.Context, r store.Rejection) error
}

// Campaigns runs the campaigns an order event triggers.
type Campaigns interface {
	Run(ctx context.Context, t campaign.Trigger) ([]campaign.Outcome, error)
	CancelOrderTimers(ctx context.Context, o order.Order) error
	ArmLifecycle(ctx context.Context, p customer.Profile, o order.Order, now time.Time) error
}

// Handler turns order webhooks into stored orders, updated customer
// profiles and campaign messages. Each step is idempotent, keyed by the
// delivery, order and message ids, so any retry converges.
type Handler struct {
	Store         Store
	Campaigns     Campaigns
	Rules         *rules.Set
	WebhookSecret signature.Keys // X-Tsunagu-Signature (any key while it rotates)
	ShopifySecret signature.Keys // X-Shopify-Hmac-Sha256 (any key while it rotates)
	Now           func() time.Time
}

// recentOrdersLearntFrom is how many of a customer's earlier orders count
// as "bought before" when learning what is bought next.
const recentOrdersLearntFrom = 5

// answer is the JSON body of an accepted delivery.
type answer struct {
	Accepted  bool               `json:"accepted"`
	Duplicate bool               `json:"duplicate"`
	Delivery  string             `json:"delivery_id"`
	OrderID   string             `json:"order_id"`
	Event     order.EventType    `json:"event"`
	Status    order.EventType    `json:"order_status,omitempty"`
	Messages  []campaign.Outcome `json:"messages"`
	Coupons   []couponUse        `json:"coupons,omitempty"`
}

// couponUse reports a coupon code the order used.
type couponUse struct {
	Code     string `json:"code"`
	Redeemed bool   `json:"redeemed"`
	Campaign string `json:"campaign,omitempty"`
}

// Handle answers one API Gateway request. Client mistakes are answers
// (4xx); only a failure to reach the store or the mail service is a 5xx,
// so the shop retries, and a retry finishes what this one started.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := h.Now()
	body, refusal := httpapi.WebhookBody(req)
	if refusal != nil {
		return *refusal, nil
	}
	var ev order.Event
	var err error
	switch req.RouteKey {
	case genericRoute:
		if err := h.WebhookSecret.VerifyTsunagu(httpapi.Header(req, "X-Tsunagu-Signature"), body, start); err != nil {
			return httpapi.Unauthorized(ctx, "X-Tsunagu-Signature", err), nil
		}
		if ev, err = order.DecodeGeneric(body); err == nil {
			err = ev.Order.CheckLines("order.items")
		}
	case shopifyRoute:
		if err := h.ShopifySecret.VerifyShopify(httpapi.Header(req, "X-Shopify-Hmac-Sha256"), body); err != nil {
			return httpapi.Unauthorized(ctx, "X-Shopify-Hmac-Sha256", err), nil
		}
		ev, err = shopify.Decode(shopify.Delivery{
			Topic:       httpapi.Header(req, "X-Shopify-Topic"),
			WebhookID:   httpapi.Header(req, "X-Shopify-Webhook-Id"),
			TriggeredAt: httpapi.Header(req, "X-Shopify-Triggered-At"),
		}, body)
		if err == nil {
			err = ev.Order.CheckLines("line_items")
		}
	default:
		return httpapi.Error(http.StatusNotFound, "no such route"), nil
	}
	var bad *order.InvalidError
	if errors.As(err, &bad) {
		slog.InfoContext(ctx, "webhook rejected", "route", req.RouteKey, "bad_fields", len(bad.Fields))
		return httpapi.Invalid(bad.Fields), nil
	}
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	a, err := h.process(ctx, ev, start)
	if store.IsPermanent(err) {
		return h.refuse(ctx, ev, err, start), nil
	}
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	slog.InfoContext(ctx, "webhook processed", "source", ev.Source, "delivery_id", ev.DeliveryID, "order_id", ev.Order.ID,
		"event", ev.Type, "duplicate", a.Duplicate, "messages", len(a.Messages), "duration_ms", h.Now().Sub(start).Milliseconds())
	return httpapi.JSON(http.StatusOK, a), nil
}

// process runs the idempotent steps for one valid delivery.
func (h *Handler) process(ctx context.Context, ev order.Event, now time.Time) (answer, error) {
	a := answer{Accepted: true, Delivery: ev.DeliveryID, OrderID: ev.Order.ID, Event: ev.Type, Messages: []campaign.Outcome{}}
	done, err := h.Store.DeliveryDone(ctx, ev.Source, ev.DeliveryID, now)
	if err != nil {
		return a, err
	}
	if done {
		a.Duplicate = true
		return a, nil
	}
	var recs []string
	if ev.Order.HasDetails() {
		// One read of the catalog: the order's products (to fill in
		// categories and brands, and what others bought with them) and the
		// categories the marketer's relations point to.
		cat, err := h.Store.ReadCatalog(ctx, recommend.Targets(h.Rules, ev.Order))
		if err != nil {
			return a, err
		}
		recommend.FillFromCatalog(&ev.Order, cat.Products)
		recs = recommend.Candidates(h.Rules, ev.Order, cat)
	}
	st, err := h.Store.ApplyOrderEvent(ctx, ev, recs)
	if err != nil {
		return a, err
	}
	a.Status = st.Status
	if st.Known() {
		var learn map[string][]string
		profile, err := h.Store.UpdateProfile(ctx, st.Order.Customer.ID, func(p *customer.Profile) bool {
			before, seen := p.Orders[st.Order.ID]
			learn = nil
			if (!seen || !before.HasDetails) && st.Status != order.Cancelled {
				learn = recommend.Pairs(st.Order, p.RecentSKUs(st.Order.PlacedAt, recentOrdersLearntFrom))
			}
			return p.ApplyDeliveryChange(ev.Order.Customer, st.Order, st.Status, ev.OccurredAt, st.Change, h.Rules.Settings.Thresholds)
		})
		if err != nil {
			return a, err
		}
		if buyer := ev.Order.Customer; buyer != nil && buyer.LineUserID != "" && profile.LineUserID == buyer.LineUserID {
			// The shop knows the customer's LINE user: index it, so that
			// the user's follow and unfollow events reach this profile.
			if _, err := h.Store.LinkLineUser(ctx, buyer.LineUserID, profile.ID, ev.OccurredAt); err != nil {
				return a, err
			}
		}
		if len(learn) > 0 {
			// Learnt once per order: this delivery is the one that added
			// the order to the profile. A crash between the two writes
			// loses one order's co-purchase counts rather than counting
			// them twice.
			if err := h.Store.LearnAffinity(ctx, learn); err != nil {
				return a, err
			}
		}
		if ev.Type == order.Created && st.Status != order.Cancelled {
			if a.Coupons, err = h.redeemCoupons(ctx, st.Order); err != nil {
				return a, err
			}
		}
		if st.Status == order.Cancelled {
			if err := h.Campaigns.CancelOrderTimers(ctx, st.Order); err != nil {
				return a, err
			}
		} else if ev.Type == order.Created {
			if err := h.Campaigns.ArmLifecycle(ctx, profile, st.Order, now); err != nil {
				return a, err
			}
		}
		// A cancelled order triggers only cancellation campaigns, whatever
		// order its events arrived in.
		if st.Status != order.Cancelled || ev.Type == order.Cancelled {
			a.Messages, err = h.Campaigns.Run(ctx, campaign.Trigger{
				Event: rules.Trigger(ev.Type), Key: "order:" + st.Order.ID + ":" + string(ev.Type), At: now, Profile: profile, Order: st.Order,
			})
			if err != nil {
				return a, err
			}
		}
	}
	first, err := h.Store.MarkDelivered(ctx, ev.Source, ev.DeliveryID, string(ev.Type), ev.Order.ID, now)
	if err != nil {
		return a, err
	}
	a.Duplicate = !first
	return a, nil
}

// refuse answers a signed delivery that DynamoDB refused for what it is
// (too large, malformed): a retry would fail the same way, so the shop
// gets a 400 it can see instead of a 503 it would retry for days, and the
// refusal is recorded (REJECTIONS#<day>) and logged to be looked into.
func (h *Handler) refuse(ctx context.Context, ev order.Event, cause error, at time.Time) events.APIGatewayV2HTTPResponse {
	reason := "refused by the database"
	var api smithy.APIError
	if errors.As(cause, &api) {
		reason = api.ErrorCode() + ": " + api.ErrorMessage()
	}
	r := store.Rejection{Source: ev.Source, DeliveryID: ev.DeliveryID, OrderID: ev.Order.ID, Reason: reason, At: at}
	if err := h.Store.RecordRejection(ctx, r); err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	slog.ErrorContext(ctx, "webhook refused for good", "source", ev.Source, "delivery_id", ev.DeliveryID, "order_id", ev.Order.ID, "reason", reason)
	return httpapi.Invalid([]order.FieldError{{Field: "order", Message: "cannot be stored (" + reason + "); sending it again will not help, the refusal is recorded for the shop's operator"}})
}

// redeemCoupons records the order's use of coupons tsunagu issued, with
// the campaign each came from. Codes tsunagu did not issue are reported as
// not redeemed; the shop's own codes are none of its business.
func (h *Handler) redeemCoupons(ctx context.Context, o order.Order) ([]couponUse, error) {
	var uses []couponUse
	for _, raw := range o.CouponCodes {
		code := coupon.Normalize(raw)
		c, ok, err := h.Store.RedeemCoupon(ctx, code, o.ID, o.Customer.ID, o.PlacedAt)
		if err != nil {
			return nil, err
		}
		uses = append(uses, couponUse{Code: code, Redeemed: ok, Campaign: c.Campaign})
	}
	return uses, nil
}

// retryAfter is how long a shop should wait before re-sending a delivery
// that failed on tsunagu's side.
const retryAfter = 30 * time.Second
