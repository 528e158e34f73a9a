package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/recommend"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
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
	// PublicURL is the API's base URL, for the opt-in link.
	PublicURL string
	Widget    []byte
	Now       func() time.Time
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
// the opt-in. Nothing is read or written before both check out.
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
	switch req.RouteKey {
	case viewRoute:
		return h.view(ctx, st, query.Get("sig"))
	case optinRoute:
		return h.optin(ctx, req, st)
	}
	return httpapi.Error(http.StatusNotFound, "no such route")
}

// view is the widget's JSON. It costs three DynamoDB requests: the order,
// then at once the catalog with the profile (one BatchGetItem) and the
// view's record with its coupon (one conditional PutItem).
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
// wording shown as evidence.
func (h *Handler) optin(ctx context.Context, req events.APIGatewayV2HTTPRequest, st store.OrderState) events.APIGatewayV2HTTPResponse {
	text := h.Rules.Settings.Thankyou.OptinText
	if text == "" {
		return httpapi.Error(http.StatusNotFound, "this shop offers no opt-in here")
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
	_, err := h.Store.UpdateProfile(ctx, st.Order.Customer.ID, func(p *customer.Profile) bool {
		return p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: "thankyou:optin", At: now, Shown: text})
	})
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	slog.InfoContext(ctx, "opt-in recorded", "order_id", st.Order.ID)
	return httpapi.JSON(http.StatusOK, map[string]string{"optin": "recorded"})
}

// cors lets the shop's configured page origins read the answers.
func (h *Handler) cors(req events.APIGatewayV2HTTPRequest, resp *events.APIGatewayV2HTTPResponse) {
	origin := httpapi.Header(req, "Origin")
	if origin == "" || !slices.Contains(h.Rules.Settings.Thankyou.AllowedOrigins, origin) {
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
	OrderID         string     `json:"order_id"`
	Recommendations []product  `json:"recommendations"`
	Coupon          *couponOut `json:"coupon"`
	Line            *lineOut   `json:"line"`
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
