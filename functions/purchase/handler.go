package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"

	"github.com/tsunagu-dev/tsunagu/shared/attribution"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rank"
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
	ReviseOrder(ctx context.Context, o order.Order) (store.OrderState, bool, error)
	RecordRefund(ctx context.Context, orderID string, r order.Refund) (store.OrderState, error)
	ClaimLearning(ctx context.Context, orderID string, at time.Time) (bool, error)
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

// Measure counts what orders and refunds did: attributions, the
// conversions of lift groups and the shop's counters. It never fails a
// delivery.
type Measure interface {
	OrderApplied(ctx context.Context, d attribution.Delivery)
	Refunded(ctx context.Context, orderID string, r order.Refund)
}

// Watch arms the delivery check of a fulfilled order (a *support.Watch).
type Watch interface {
	Fulfilled(ctx context.Context, o order.Order, status order.EventType, at time.Time) error
}

// Points writes what an order delivery does to its customer's points.
type Points interface {
	Order(ctx context.Context, d loyalty.OrderDelivery) error
	// Movements reads a customer's ledger (member ranks by approved
	// points).
	Movements(ctx context.Context, customerID string) ([]loyalty.Movement, error)
}

// Handler turns order webhooks into stored orders, updated customer
// profiles and campaign messages. Each step is idempotent, keyed by the
// delivery, order and message ids, so any retry converges.
type Handler struct {
	Store     Store
	Campaigns Campaigns
	Measure   Measure
	Points    Points
	Referrals Referrals
	// Watch arms the check that a shipped order arrived (support).
	Watch         Watch
	Rules         *rules.Set
	WebhookSecret signature.Keys // X-Tsunagu-Signature (any key while it rotates)
	ShopifySecret signature.Keys // X-Shopify-Hmac-Sha256 (any key while it rotates)
	// Shopify decodes Shopify's webhooks for the configured shop.
	Shopify shopify.Decoder
	Now     func() time.Time
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
	// Test and Ignored answer a test delivery: what it was, and why
	// nothing of it was kept but the record of its delivery.
	Test    order.TestKind `json:"test,omitempty"`
	Ignored string         `json:"ignored,omitempty"`
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
	var keys []string
	var err error
	switch req.RouteKey {
	case genericRoute:
		if err := h.WebhookSecret.VerifyTsunagu(httpapi.Header(req, "X-Tsunagu-Signature"), body, start); err != nil {
			return httpapi.Unauthorized(ctx, "X-Tsunagu-Signature", err), nil
		}
		if ev, err = order.DecodeGeneric(body); err == nil {
			err = ev.Order.CheckLines("order.items")
		}
		keys = []string{ev.DeliveryID}
	case shopifyRoute:
		if err := h.ShopifySecret.VerifyShopify(httpapi.Header(req, "X-Shopify-Hmac-Sha256"), body); err != nil {
			return httpapi.Unauthorized(ctx, "X-Shopify-Hmac-Sha256", err), nil
		}
		topic := httpapi.Header(req, "X-Shopify-Topic")
		ev, err = h.Shopify.Decode(shopify.Delivery{
			Topic:      topic,
			WebhookID:  httpapi.Header(req, "X-Shopify-Webhook-Id"),
			ShopDomain: httpapi.Header(req, shopify.ShopDomainHeader),
			Test:       httpapi.Header(req, "X-Shopify-Test"),
		}, body, start)
		if err == nil {
			err = ev.Order.CheckLines("line_items")
		}
		keys = []string{ev.DeliveryID, bodyKey(topic, body)}
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
	a, err := h.process(ctx, ev, keys, start)
	if store.IsPermanent(err) {
		return h.refuse(ctx, ev, err, start), nil
	}
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter), nil
	}
	slog.InfoContext(ctx, "webhook processed", "source", ev.Source, "delivery_id", ev.DeliveryID, "order_id", ev.Order.ID,
		"event", ev.Type, "test", ev.Test, "duplicate", a.Duplicate, "messages", len(a.Messages), "duration_ms", h.Now().Sub(start).Milliseconds())
	return httpapi.JSON(http.StatusOK, a), nil
}

// bodyKey is the delivery key of a Shopify body under its topic: Shopify
// signs the body only, so a captured delivery replayed under a new
// X-Shopify-Webhook-Id is known by what it carries.
func bodyKey(topic string, body []byte) string {
	sum := sha256.Sum256(append([]byte(topic+"\n"), body...))
	return "body:" + hex.EncodeToString(sum[:])
}

// process runs the idempotent steps for one valid delivery, known by its
// keys (its id, and for Shopify its topic and body as well): a delivery
// done under any of them is a duplicate.
func (h *Handler) process(ctx context.Context, ev order.Event, keys []string, now time.Time) (answer, error) {
	a := answer{Accepted: true, Delivery: ev.DeliveryID, OrderID: ev.Order.ID, Event: ev.Type, Messages: []campaign.Outcome{}, Test: ev.Test}
	for _, k := range keys {
		done, err := h.Store.DeliveryDone(ctx, ev.Source, k, now)
		if err != nil {
			return a, err
		}
		if done {
			a.Duplicate = true
			return a, nil
		}
	}
	if reason := h.ignoredTest(ev); reason != "" {
		// Recorded as delivered (the marker says what it was), so the
		// shop's retries are duplicates; nothing else is kept.
		a.Ignored = reason
		slog.InfoContext(ctx, "test delivery ignored", "source", ev.Source, "delivery_id", ev.DeliveryID, "test", ev.Test, "event", ev.Type)
		return a, h.markDelivered(ctx, ev, keys, string(ev.Test), now, &a)
	}
	var err error
	if ev.Type == order.Refunded {
		err = h.refund(ctx, ev, now, &a)
	} else {
		err = h.orderEvent(ctx, ev, now, &a)
	}
	if err != nil {
		return a, err
	}
	return a, h.markDelivered(ctx, ev, keys, string(ev.Type), now, &a)
}

// ignoredTest says why a test delivery is ignored, or "" to process it: a
// test notification always is, a test order unless the rules say to
// process test orders.
func (h *Handler) ignoredTest(ev order.Event) string {
	switch {
	case ev.Test == order.TestNotification:
		return "a test notification from the shop's admin: a sample, not an order"
	case ev.Test == order.TestOrder && !h.Rules.Settings.Shopify.ProcessTestOrders:
		return "a test order; settings.yaml shopify.test_orders is ignore"
	}
	return ""
}

// markDelivered records the delivery as done under each of its keys, last;
// the answer is a duplicate's when another copy recorded it first.
func (h *Handler) markDelivered(ctx context.Context, ev order.Event, keys []string, kind string, now time.Time, a *answer) error {
	first := false
	for _, k := range keys {
		marked, err := h.Store.MarkDelivered(ctx, ev.Source, k, kind, ev.Order.ID, now)
		if err != nil {
			return err
		}
		first = first || marked
	}
	a.Duplicate = !first
	return nil
}

// refund records a refund of an order once (by its id), takes it out of
// the spend of the profile that counts the order and takes back the
// points of the merchandise it gave back; a refund of an order
// not stored yet waits on the order's item and counts when the order
// arrives. No campaign runs but those of a rank the refund lowered.
func (h *Handler) refund(ctx context.Context, ev order.Event, now time.Time, a *answer) error {
	st, err := h.recordRefunds(ctx, ev)
	if err != nil {
		return err
	}
	a.Status = st.Status
	if !st.Known() {
		return nil
	}
	ledger, err := h.rankLedger(ctx, st.Order.Customer.ID)
	if err != nil {
		return err
	}
	profile, err := h.Store.UpdateProfile(ctx, st.Order.Customer.ID, func(p *customer.Profile) bool {
		changed := p.ApplyDeliveryChange(nil, st.Order, st.Status, ev.OccurredAt, customer.Transition{}, h.Rules.Settings.Thresholds)
		// A refund may lower the member rank, in the same write.
		_, _, ranked := rank.Apply(h.Rules.Ranks(), h.Rules.Settings.Shop.Currency, p, ledger, now, h.Rules.Settings.Location, st.Order.ID)
		return changed || ranked
	})
	if err != nil {
		return err
	}
	ranked, err := h.rankChanged(ctx, profile, st.Order, now)
	a.Messages = append(a.Messages, ranked...)
	if err != nil {
		return err
	}
	if _, err := h.referralStep(ctx, ev, st, customer.Profile{}); err != nil {
		return err
	}
	return h.Points.Order(ctx, loyalty.OrderDelivery{Event: ev.Type, Order: st.Order, Status: st.Status, Refunds: ev.Refunds, At: ev.OccurredAt})
}

// recordRefunds records the refunds a delivery tells of and returns the
// order as then stored (the zero state when it told of none). A refund
// that gave no money back (a restock only) changes no amount and is not
// recorded.
func (h *Handler) recordRefunds(ctx context.Context, ev order.Event) (store.OrderState, error) {
	var st store.OrderState
	for _, r := range ev.Refunds {
		if r.Amount == 0 {
			continue
		}
		var err error
		st, err = h.Store.RecordRefund(ctx, ev.Order.ID, r)
		if errors.Is(err, store.ErrRefundCurrency) {
			slog.WarnContext(ctx, "refund in another currency not taken out of spend", "order_id", ev.Order.ID, "refund_id", r.ID, "currency", r.Currency)
			continue
		}
		if err != nil {
			return st, err
		}
		if st.NewRefund {
			h.Measure.Refunded(ctx, ev.Order.ID, r)
		}
	}
	return st, nil
}

// orderEvent runs an order's lifecycle and update events: the order, its
// refunds and revision, the profile, co-purchase learning, coupons, timers
// and, for lifecycle events, the campaigns they trigger.
func (h *Handler) orderEvent(ctx context.Context, ev order.Event, now time.Time, a *answer) error {
	var recs []string
	if ev.Order.HasDetails() {
		// One read of the catalog: the order's products (to fill in
		// categories and brands, and what others bought with them) and the
		// categories the marketer's relations point to.
		cat, err := h.Store.ReadCatalog(ctx, recommend.Targets(h.Rules, ev.Order))
		if err != nil {
			return err
		}
		recommend.FillFromCatalog(&ev.Order, cat.Products)
		recs = recommend.Candidates(h.Rules, ev.Order, cat)
	}
	st, err := h.Store.ApplyOrderEvent(ctx, ev, recs)
	if err != nil {
		return err
	}
	if st, err = h.amend(ctx, ev, st); err != nil {
		return err
	}
	a.Status = st.Status
	if !st.Known() && st.HasDetails() && st.Change.Key != "" && st.Status != order.Cancelled {
		// No customer (a draft or point-of-sale order): no profile tells
		// whether the order was learnt from, so a claim on the order does.
		if err := h.learnOnce(ctx, st.Order, now); err != nil {
			return err
		}
	}
	if ev.Type == order.Created && st.Status != order.Cancelled && st.HasDetails() {
		if a.Coupons, err = h.redeemCoupons(ctx, st.Order); err != nil {
			return err
		}
	}
	if st.Known() {
		var learn map[string][]string
		var counts customer.Counts
		ledger, err := h.rankLedger(ctx, st.Order.Customer.ID)
		if err != nil {
			return err
		}
		profile, err := h.Store.UpdateProfile(ctx, st.Order.Customer.ID, func(p *customer.Profile) bool {
			before, seen := p.Orders[st.Order.ID]
			learn = nil
			if (!seen || !before.HasDetails) && st.Status != order.Cancelled {
				learn = recommend.Pairs(st.Order, p.RecentSKUs(st.Order.PlacedAt, recentOrdersLearntFrom))
			}
			was := p.Before()
			changed := p.ApplyDeliveryChange(ev.Order.Customer, st.Order, st.Status, ev.OccurredAt, st.Change, h.Rules.Settings.Thresholds)
			counts = p.OrderCounts(was, st.Order.ID, h.Rules.Settings.Shop.Currency, len(st.Order.CouponCodes) > 0, ev.OccurredAt, h.Rules.Settings.Location)
			// The member rank, in the same write.
			_, _, ranked := rank.Apply(h.Rules.Ranks(), h.Rules.Settings.Shop.Currency, p, ledger, now, h.Rules.Settings.Location, st.Order.ID)
			return changed || ranked
		})
		if err != nil {
			return err
		}
		h.Measure.OrderApplied(ctx, attribution.Delivery{Order: st.Order, Status: st.Status, Created: ev.Type == order.Created, At: ev.OccurredAt, Counts: counts})
		if buyer := ev.Order.Customer; buyer != nil && buyer.LineUserID != "" && profile.LineUserID == buyer.LineUserID {
			// The shop knows the customer's LINE user: index it, so that
			// the user's follow and unfollow events reach this profile.
			if _, err := h.Store.LinkLineUser(ctx, buyer.LineUserID, profile.ID, ev.OccurredAt); err != nil {
				return err
			}
		}
		// The delivery that brought the order's details (or its retry)
		// earns its points; a cancellation and refunds take them back.
		if err := h.Points.Order(ctx, loyalty.OrderDelivery{Event: ev.Type, Order: st.Order, Status: st.Status,
			BroughtDetails: st.Change.Key != "" && st.Change.From == "" && ev.Order.HasDetails(), Merchandise: ev.Order.Merchandise,
			Refunds: ev.Refunds, At: ev.OccurredAt, HeardAt: now, Rank: h.rankOf(profile)}); err != nil {
			return err
		}
		// A shipped order is watched: not reported delivered some days
		// on, it is a support case. Only orders of the generic webhook,
		// which reports deliveries: Shopify's order topics never do, and
		// every Shopify order would look lost.
		if ev.Type == order.Fulfilled && ev.Source == order.SourceGeneric {
			if err := h.Watch.Fulfilled(ctx, st.Order, st.Status, ev.OccurredAt); err != nil {
				return err
			}
		}
		// A friend's order with an advocate's code is recorded with its
		// checks; every buyer's own code is indexed.
		referred, err := h.referralStep(ctx, ev, st, profile)
		if err != nil {
			return err
		}
		if len(learn) > 0 {
			// Learnt once per order: this delivery is the one that added
			// the order to the profile. A crash between the two writes
			// loses one order's co-purchase counts rather than counting
			// them twice.
			if err := h.Store.LearnAffinity(ctx, learn); err != nil {
				return err
			}
		}
		if st.Status == order.Cancelled {
			if err := h.Campaigns.CancelOrderTimers(ctx, st.Order); err != nil {
				return err
			}
		} else if ev.Type == order.Created {
			if err := h.Campaigns.ArmLifecycle(ctx, profile, st.Order, now); err != nil {
				return err
			}
		}
		// A cancelled order triggers only cancellation campaigns, whatever
		// order its events arrived in; an update triggers none.
		if ev.Type.Valid() && (st.Status != order.Cancelled || ev.Type == order.Cancelled) {
			a.Messages, err = h.Campaigns.Run(ctx, campaign.Trigger{
				Event: rules.Trigger(ev.Type), Key: "order:" + st.Order.ID + ":" + string(ev.Type), At: now, Profile: profile, Order: st.Order,
			})
			if err != nil {
				return err
			}
		}
		// After the order's own campaigns, which come first under the
		// caps.
		ranked, err := h.rankChanged(ctx, profile, st.Order, now)
		a.Messages = append(a.Messages, ranked...)
		if err != nil {
			return err
		}
		friend, err := h.friendOrdered(ctx, referred, profile, st.Order, now)
		a.Messages = append(a.Messages, friend...)
		if err != nil {
			return err
		}
	}
	return nil
}

// amend applies what an order body tells beyond its status: the refunds
// it lists (each taken out once, by its id) and, when the body is a later
// revision of the order than the one stored, its edited total and lines.
func (h *Handler) amend(ctx context.Context, ev order.Event, st store.OrderState) (store.OrderState, error) {
	if len(ev.Refunds) > 0 {
		refunded, err := h.recordRefunds(ctx, ev)
		if err != nil {
			return st, err
		}
		if refunded.Order.ID != "" {
			refunded.Change, refunded.Recommend = st.Change, st.Recommend
			st = refunded
		}
	}
	o := ev.Order
	if !st.HasDetails() || !o.HasDetails() || !o.RevisedAt.After(st.Order.RevisedAt) ||
		(o.Total == st.Order.Total && reflect.DeepEqual(o.Items, st.Order.Items)) {
		return st, nil
	}
	revised, applied, err := h.Store.ReviseOrder(ctx, o)
	if err != nil || !applied {
		return st, err
	}
	revised.Change, revised.Recommend = st.Change, st.Recommend
	return revised, nil
}

// learnOnce learns co-purchases from an order without a customer, once.
func (h *Handler) learnOnce(ctx context.Context, o order.Order, now time.Time) error {
	pairs := recommend.Pairs(o, nil)
	if len(pairs) == 0 {
		return nil
	}
	first, err := h.Store.ClaimLearning(ctx, o.ID, now)
	if err != nil || !first {
		return err
	}
	return h.Store.LearnAffinity(ctx, pairs)
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
	buyer := "" // an order without a customer redeems any customer's coupon
	if o.Customer != nil {
		buyer = o.Customer.ID
	}
	for _, raw := range o.CouponCodes {
		code := coupon.Normalize(raw)
		c, ok, err := h.Store.RedeemCoupon(ctx, code, o.ID, buyer, o.PlacedAt)
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
