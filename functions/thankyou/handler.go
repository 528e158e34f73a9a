package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/recommend"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// Route keys this function serves (template.yaml declares them).
const (
	widgetRoute = "GET /thankyou/widget.js"
	viewRoute   = "GET /thankyou/{orderId}"
	optinRoute  = "POST /thankyou/{orderId}/optin"
)

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	GetOrder(ctx context.Context, id string) (store.OrderState, error)
	ReadCatalog(ctx context.Context, q store.CatalogQuery) (store.Catalog, error)
	RecordThankyouView(ctx context.Context, v store.ThankyouView) (bool, error)
	FinishThankyouView(ctx context.Context, v store.ThankyouView) error
	UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error)
	SuppressionOf(ctx context.Context, email string) (store.Suppression, error)
	ClaimMessage(ctx context.Context, rec store.MessageRecord, now time.Time) (bool, store.MessageRecord, error)
	FinishMessage(ctx context.Context, rec store.MessageRecord, status store.MessageStatus, reason, providerID string, now time.Time) error
}

// Mailer sends the opt-in confirmation email (email.Sender).
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// Confirmations makes the link of an opt-in confirmation email
// (unsubscribe.Sealer).
type Confirmations interface {
	ConfirmationURL(baseURL string, c unsubscribe.Confirmation) string
}

// Campaigns runs the campaigns a thank-you page view triggers.
type Campaigns interface {
	Run(ctx context.Context, t campaign.Trigger) ([]campaign.Outcome, error)
}

// CouponCodes derives the code of a coupon for a trigger and customer.
type CouponCodes interface {
	Code(campaignID, triggerKey, customerID string) string
}

// Handler answers the thank-you page widget: what to show for an order,
// the opt-in, and the widget script itself.
type Handler struct {
	Store     Store
	Campaigns Campaigns
	Coupons   CouponCodes
	Rules     *rules.Set
	// Secret verifies the signed order ids: sig = hex HMAC-SHA256(secret,
	// orderId), with any of its keys while it rotates.
	Secret signature.Keys
	// PublicURL is the API's base URL, for the opt-in link and the
	// opt-in confirmation link.
	PublicURL string
	// Mailer and Confirmations send the confirmation email of an opt-in
	// that would lift an unsubscribe or follow an erasure.
	Mailer        Mailer
	Confirmations Confirmations
	Widget        []byte
	Now           func() time.Time
	// Points, Redeemer and Referrals show the customer's points, exchange
	// them for rewards and show their referral link; nil Points shows
	// none (a shop without a programme).
	Points    Points
	Redeemer  Redeemer
	Referrals ReferralCodes
}

// couponCampaign names the thank-you coupon in the coupon records, so its
// redemptions are reported like a campaign's.
const couponCampaign = "thankyou-coupon"

var orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:#\-]{1,200}$`)

// Handle answers one API Gateway request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if req.RouteKey == widgetRoute {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: string(h.Widget),
			Headers: map[string]string{"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}}, nil
	}
	resp := h.handleOrder(ctx, req)
	h.cors(req, &resp)
	return resp, nil
}

// handleOrder checks the order id and signature, then serves the view or
// the opt-in. Nothing is read or written before both check out, and
// nothing is written for a link older than thankyou.link_valid_for: the
// signature never changes (the shop's page computes it), so its expiry is
// the stored order's placed time, which only a signed webhook sets.
func (h *Handler) handleOrder(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	orderID := req.PathParameters["orderId"]
	if len(req.RawQueryString) > 1024 {
		return httpapi.Error(http.StatusBadRequest, "query string too long")
	}
	query, err := url.ParseQuery(req.RawQueryString)
	switch {
	case err != nil:
		return httpapi.Error(http.StatusBadRequest, "malformed query string")
	case !orderIDPattern.MatchString(orderID):
		return httpapi.Error(http.StatusBadRequest, "malformed order id")
	case len(query["sig"]) != 1:
		return httpapi.Error(http.StatusUnauthorized, "sig is required, once")
	case h.Secret.VerifyOrder(orderID, query.Get("sig")) != nil:
		return httpapi.Error(http.StatusUnauthorized, "signature does not match the order")
	}
	st, err := h.Store.GetOrder(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !st.Known() {
		return httpapi.Error(http.StatusNotFound, "no such order")
	}
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	if h.Now().Sub(st.Order.PlacedAt) > h.Rules.Settings.Thankyou.LinkValidFor {
		return httpapi.Error(http.StatusUnauthorized, "this link has expired")
	}
	switch req.RouteKey {
	case viewRoute:
		return h.view(ctx, st, query.Get("sig"))
	case optinRoute:
		return h.optin(ctx, req, st)
	case pointsRoute:
		return h.redeemPoints(ctx, req, st)
	}
	return httpapi.Error(http.StatusNotFound, "no such route")
}

// view is the widget's JSON. It costs three DynamoDB requests: the order,
// then at once the catalog with the profile (one BatchGetItem) and the
// view's record with its coupon (one conditional PutItem); and, for a shop
// with a points programme, the customer's ledger (one Query) with them.
func (h *Handler) view(ctx context.Context, st store.OrderState, sig string) events.APIGatewayV2HTTPResponse {
	now := h.Now()
	settings := h.Rules.Settings.Thankyou
	cid := st.Order.Customer.ID
	v := store.ThankyouView{OrderID: st.Order.ID, At: now, NoCampaigns: !h.Rules.Listens(rules.TriggerThankyouViewed, now)}
	if c := settings.Coupon; c != nil {
		v.Coupon = store.Coupon{
			Code: h.Coupons.Code(couponCampaign, "order:"+st.Order.ID, cid), Campaign: couponCampaign, CustomerID: cid, TriggerKey: "order:" + st.Order.ID,
			Name: c.Name, PercentOff: c.PercentOff, AmountOff: c.AmountOff, Currency: h.Rules.Settings.Shop.Currency, MinOrder: c.MinOrder,
			IssuedAt: st.Order.PlacedAt.UTC(), ExpiresAt: st.Order.PlacedAt.Add(c.ExpiresIn).UTC(),
		}
	}
	var cat store.Catalog
	var first bool
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		cat, err = h.Store.ReadCatalog(gctx, store.CatalogQuery{Products: st.Recommend, Customer: cid})
		return err
	})
	g.Go(func() (err error) {
		first, err = h.Store.RecordThankyouView(gctx, v)
		return err
	})
	var ledger []loyalty.Movement
	if h.Points != nil && h.Rules.Loyalty != nil {
		g.Go(func() (err error) {
			ledger, err = h.Points.Ledger(gctx, cid)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	if first && !v.NoCampaigns {
		h.runViewCampaigns(ctx, st, cat.Profile, v, now)
	}
	a := viewAnswer{OrderID: st.Order.ID, Recommendations: []product{}}
	for _, p := range recommend.Pick(st.Recommend, cat.Products, settings.Recommendations) {
		a.Recommendations = append(a.Recommendations, product{SKU: p.SKU, Name: p.Name, Price: p.Price, Currency: p.Currency,
			PriceLabel: rules.Money(p.Price, p.Currency), URL: p.URL, ImageURL: p.ImageURL})
	}
	if v.Coupon.Code != "" {
		c := v.Coupon
		a.Coupon = &couponOut{Code: c.Code, Name: c.Name, Discount: h.Rules.Discount(c.PercentOff, c.AmountOff), ExpiresAt: c.ExpiresAt,
			ExpiresLabel: c.ExpiresAt.In(h.Rules.Settings.Location).Format("2006年1月2日") + "まで有効"}
		if c.MinOrder > 0 {
			a.Coupon.MinOrderLabel = rules.Money(c.MinOrder, c.Currency) + "以上のご注文で"
		}
	}
	if h.Points != nil {
		a.Points = h.pointsView(st, cat.Profile, ledger, sig)
	}
	a.Referral = h.referralView(cid)
	if settings.LineAddFriendURL != "" {
		a.Line = &lineOut{AddFriendURL: settings.LineAddFriendURL}
	}
	a.Optin.Offered = settings.OptinText != "" && (cat.Profile == nil || cat.Profile.Consent.State != order.ConsentGranted)
	if a.Optin.Offered {
		a.Optin.Text = settings.OptinText
		a.Optin.URL = h.PublicURL + "/thankyou/" + url.PathEscape(st.Order.ID) + "/optin?sig=" + sig
	}
	return httpapi.JSON(http.StatusOK, a)
}

// runViewCampaigns runs the thankyou.viewed campaigns once per order. A
// failure is logged and left for the next view to retry; the page still
// gets its answer.
func (h *Handler) runViewCampaigns(ctx context.Context, st store.OrderState, p *customer.Profile, v store.ThankyouView, now time.Time) {
	if p == nil {
		return
	}
	_, err := h.Campaigns.Run(ctx, campaign.Trigger{Event: rules.TriggerThankyouViewed, Key: "order:" + st.Order.ID + ":thankyou.viewed", At: now, Profile: *p, Order: st.Order})
	if err == nil {
		err = h.Store.FinishThankyouView(ctx, v)
	}
	if err != nil {
		slog.ErrorContext(ctx, "thank-you view campaigns failed; the next view retries", "order_id", st.Order.ID, "error", err)
	}
}

// optin records the customer's consent to marketing email, with the
// wording shown as evidence. It is taken only from the shop's own pages
// (Origin in thankyou.allowed_origins). An opt-in that would lift an
// unsubscribe, or come after an erasure, is not taken from the page: the
// customer gets a confirmation email instead, and only its link records
// the consent (double opt-in, GET|POST /optin/confirm).
func (h *Handler) optin(ctx context.Context, req events.APIGatewayV2HTTPRequest, st store.OrderState) events.APIGatewayV2HTTPResponse {
	settings := h.Rules.Settings.Thankyou
	if settings.OptinText == "" {
		return httpapi.Error(http.StatusNotFound, "this shop offers no opt-in here")
	}
	if origin := httpapi.Header(req, "Origin"); !httpapi.OriginAllowed(settings.AllowedOrigins, origin) {
		slog.WarnContext(ctx, "opt-in refused: origin not allowed", "order_id", st.Order.ID, "origin_present", origin != "")
		return httpapi.Error(http.StatusForbidden, "opt-in accepted only from the shop's pages (Origin)")
	}
	body, ok := httpapi.Body(req)
	var in struct {
		Consent *bool `json:"consent"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	// One JSON object and nothing after it.
	if !ok || len(body) > 1024 || dec.Decode(&in) != nil || dec.Decode(&struct{}{}) != io.EOF || in.Consent == nil || !*in.Consent {
		return httpapi.Invalid([]order.FieldError{{Field: "consent", Message: `must be true: send {"consent": true}`}})
	}
	now := h.Now()
	confirm := false
	p, err := h.Store.UpdateProfile(ctx, st.Order.Customer.ID, func(p *customer.Profile) bool {
		if confirm = needsConfirmation(p); confirm {
			return false
		}
		return p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: "thankyou:optin", At: now, Shown: settings.OptinText})
	})
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	if confirm {
		return h.requestConfirmation(ctx, st, p, now)
	}
	slog.InfoContext(ctx, "opt-in recorded", "order_id", st.Order.ID)
	return httpapi.JSON(http.StatusOK, map[string]string{"optin": "recorded"})
}

// needsConfirmation reports whether an opt-in from the thank-you page
// must be confirmed by email before it counts: the customer unsubscribed
// from email (and gave no fresh consent since), or their data was erased
// (and they consented to nothing since).
func needsConfirmation(p *customer.Profile) bool {
	erased := !p.ErasedAt.IsZero() && !(p.Consent.State == order.ConsentGranted && p.Consent.At.After(p.ErasedAt))
	return erased || !p.Reachable("email")
}

// confirmationCampaign names the opt-in confirmation email in the message
// log; one is sent per order, however often the opt-in is posted.
const confirmationCampaign = "optin-confirmation"

// requestConfirmation emails the customer a link that confirms the opt-in
// (valid unsubscribe.ConfirmationValidFor), once per order: the message
// key is claimed first, so a repeated or concurrent opt-in sends nothing
// more. 202 when the email is sent or was already; 409 when there is no
// address that may receive it.
func (h *Handler) requestConfirmation(ctx context.Context, st store.OrderState, p customer.Profile, now time.Time) events.APIGatewayV2HTTPResponse {
	unreachable := httpapi.Error(http.StatusConflict, "the opt-in needs a confirmation email, which cannot be sent to this customer")
	if p.Email == "" {
		slog.InfoContext(ctx, "opt-in confirmation impossible: no address", "order_id", st.Order.ID)
		return unreachable
	}
	sup, err := h.Store.SuppressionOf(ctx, p.Email)
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	if sup.Suppressed {
		slog.InfoContext(ctx, "opt-in confirmation impossible: address suppressed", "order_id", st.Order.ID)
		return unreachable
	}
	sent := httpapi.JSON(http.StatusAccepted, map[string]string{"optin": "confirmation_sent"})
	rec := store.MessageRecord{Key: "optin-confirm:" + st.Order.ID, CampaignID: confirmationCampaign, Channel: "email", CustomerID: p.ID, ClaimedAt: now.UTC()}
	claimed, existing, err := h.Store.ClaimMessage(ctx, rec, now)
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	if !claimed {
		if existing.Status == store.MessageRejected {
			return unreachable
		}
		return sent // sent already, or being sent by another request
	}
	link := h.Confirmations.ConfirmationURL(h.PublicURL, unsubscribe.Confirmation{CustomerID: p.ID, OrderID: st.Order.ID, At: now})
	msg, err := confirmationEmail(h.Rules.Settings.Shop, p.Email, link)
	if err == nil {
		msg.Key, msg.Campaign = rec.Key, confirmationCampaign
		var id string
		if id, err = h.Mailer.Send(ctx, msg); err == nil {
			err = h.Store.FinishMessage(ctx, rec, store.MessageSent, "", id, now)
			if err != nil {
				return httpapi.Unavailable(ctx, err, retryAfter)
			}
			slog.InfoContext(ctx, "opt-in confirmation sent", "order_id", st.Order.ID)
			return sent
		}
	}
	status, reason := store.MessageFailed, "send_failed"
	if errors.Is(err, email.ErrRejected) {
		status, reason = store.MessageRejected, "rejected"
	}
	if ferr := h.Store.FinishMessage(ctx, rec, status, reason, "", now); ferr != nil {
		return httpapi.Unavailable(ctx, errors.Join(err, ferr), retryAfter)
	}
	if status == store.MessageRejected {
		slog.WarnContext(ctx, "opt-in confirmation rejected by the mail service", "order_id", st.Order.ID, "error", err)
		return unreachable
	}
	return httpapi.Unavailable(ctx, fmt.Errorf("send opt-in confirmation for order %s: %w", st.Order.ID, err), retryAfter)
}

// cors lets the shop's configured page origins read the answers.
func (h *Handler) cors(req events.APIGatewayV2HTTPRequest, resp *events.APIGatewayV2HTTPResponse) {
	origin := httpapi.Header(req, "Origin")
	if !httpapi.OriginAllowed(h.Rules.Settings.Thankyou.AllowedOrigins, origin) {
		return
	}
	resp.Headers["Access-Control-Allow-Origin"] = origin
	resp.Headers["Vary"] = "Origin"
}

// retryAfter is how long the widget should wait before asking again after
// a failure on tsunagu's side.
const retryAfter = 5 * time.Second

// viewAnswer is the widget's JSON (the contract the widget reads).
type viewAnswer struct {
	OrderID         string       `json:"order_id"`
	Recommendations []product    `json:"recommendations"`
	Coupon          *couponOut   `json:"coupon"`
	Points          *pointsOut   `json:"points"`
	Referral        *referralOut `json:"referral"`
	Line            *lineOut     `json:"line"`
	Optin           struct {
		Offered bool   `json:"offered"`
		Text    string `json:"text,omitempty"`
		URL     string `json:"url,omitempty"`
	} `json:"optin"`
}

type product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Price      int64  `json:"price"`
	Currency   string `json:"currency"`
	PriceLabel string `json:"price_label"`
	URL        string `json:"url"`
	ImageURL   string `json:"image_url,omitempty"`
}

type couponOut struct {
	Code          string    `json:"code"`
	Name          string    `json:"name"`
	Discount      string    `json:"discount"`
	MinOrderLabel string    `json:"min_order_label,omitempty"`
	ExpiresAt     time.Time `json:"expires_at"`
	ExpiresLabel  string    `json:"expires_label"`
}

type lineOut struct {
	AddFriendURL string  `json:"add_friend_url"`
	LinkURL      *string `json:"link_url"`
}
