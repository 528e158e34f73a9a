package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/apigateway"
	"github.com/tsunagu-dev/tsunagu/infra/local/project"
	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// sampleRequest is one sample HTTP request, turned into the Lambda event
// the function receives, for `sam local invoke -e`.
type sampleRequest struct {
	name    string // events/<name>.json
	method  string
	path    string
	query   func() string // the query string, or nil
	body    string        // file under events/bodies, or ""
	headers func(body []byte, now time.Time) map[string]string
}

func orderSig(orderID string) func() string {
	return func() string {
		return "sig=" + signature.SignOrder(envOr("THANKYOU_SIGNING_SECRET", devSecret), orderID)
	}
}

// lineSigned signs a LINE webhook body as the LINE platform does: base64
// HMAC-SHA256 of the raw body with the channel secret.
func lineSigned(body []byte, _ time.Time) map[string]string {
	return map[string]string{"Content-Type": "application/json; charset=utf-8", "User-Agent": "LineBotWebhook/2.0",
		"X-Line-Signature": signature.SignShopify(envOr("LINE_CHANNEL_SECRET", devSecret), body)}
}

// judgemeSigned signs a review webhook body as Judge.me does: hex
// HMAC-SHA256 of the raw body with the secret of the shop's Judge.me app.
func judgemeSigned(body []byte, _ time.Time) map[string]string {
	return map[string]string{"Content-Type": "application/json", "JUDGEME-HMAC-SHA256": signature.SignJudgeme(envOr("JUDGEME_WEBHOOK_SECRET", devSecret), body)}
}

// sampleLinkToken is a link token as LINE issues them.
const sampleLinkToken = "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"

// lineLinkQuery is the shop's redirect to the account-link page for
// customer c-1, signed for that link token.
func lineLinkQuery() string {
	sig := signature.SignLineLink(envOr("THANKYOU_SIGNING_SECRET", devSecret), sampleLinkToken, "c-1")
	return "linkToken=" + sampleLinkToken + "&customer=c-1&sig=" + sig
}

func unsubscribeToken() string {
	sealer, _ := unsubscribe.NewSealer(envOr("UNSUBSCRIBE_SECRET", devSecret))
	return "token=" + url.QueryEscape(sealer.Token("c-1", "email"))
}

// clickPath is the tracked link of customer c-1's post-purchase message
// to the shop's tea collection, as the runner makes them.
func clickPath() string {
	links, _ := clicks.NewSealer("", envOr("CLICK_SECRET", devSecret))
	return links.URL(clicks.Link{Message: clicks.Message{Key: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", CampaignID: "post-purchase-thanks", CustomerID: "c-1",
		SentAt: time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)}, Index: 0, URL: "https://tsubaki-chaen.example.jp/collections/sencha"})
}

// referralPath is customer c-1's referral link, its code derived with
// COUPON_SECRET (dev-secret unless set), as the purchase webhook derives it.
func referralPath() string {
	coder, _ := referral.NewCoder(envOr("COUPON_SECRET", devSecret))
	return "/r/ref/" + coder.Code("c-1")
}

// reviewFormPath is the review form of customer c-1's request about
// order 1001's yokan, sealed with CLICK_SECRET (dev-secret unless set) as
// the runner seals it, sent now: a form takes a review for 60 days.
func reviewFormPath() string {
	forms, _ := review.NewFormSealer("", envOr("CLICK_SECRET", devSecret))
	return review.FormRoutePrefix + forms.Token(review.FormAsk{MessageKey: "6f5e4d3c2b1a0f9e8d7c6b5a49382716", CustomerID: "c-1", OrderID: "1001",
		SKU: "SWEET-YOKAN", Name: "本練羊羹", SentAt: time.Now().Truncate(time.Second).UTC()})
}

// surveyPath is the answer page of customer c-1's satisfaction survey,
// sealed with CLICK_SECRET (dev-secret unless set) as the runner seals it,
// sent now: a survey takes answers for 30 days, so regenerate the samples
// to use them later.
func surveyPath() string {
	links, _ := survey.NewSealer("", envOr("CLICK_SECRET", devSecret))
	return survey.RoutePrefix + links.Token(survey.Ask{MessageKey: "5e4d3c2b1a0f9e8d7c6b5a4938271605", CampaignID: "satisfaction-survey", CustomerID: "c-1",
		OrderID: "1001", Scale: "nps", SentAt: time.Now().Truncate(time.Second).UTC()})
}

// pointsPath is the points page of c-1, as an email sent now links to it.
func pointsPath() string {
	links, _ := redeem.NewLinks("", envOr("CLICK_SECRET", devSecret))
	return links.URL("c-1", time.Now().Truncate(time.Second))
}

// browserHeaders are what a phone's browser sends when a link is tapped.
func browserHeaders([]byte, time.Time) map[string]string {
	return map[string]string{"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"}
}

// optinConfirmToken is the link of the confirmation email of customer
// c-1's opt-in on order 1001's thank-you page, made now: it works for a
// week (unsubscribe.ConfirmationValidFor), so regenerate the samples to use
// it later.
func optinConfirmToken() string {
	sealer, _ := unsubscribe.NewSealer(envOr("UNSUBSCRIBE_SECRET", devSecret))
	return "token=" + url.QueryEscape(sealer.ConfirmationToken(unsubscribe.Confirmation{CustomerID: "c-1", OrderID: "1001", At: time.Now().Truncate(time.Second)}))
}

func pageHeaders(contentType string) func([]byte, time.Time) map[string]string {
	return func([]byte, time.Time) map[string]string {
		h := map[string]string{"Origin": "https://tsubaki-chaen.example.jp", "Referer": "https://tsubaki-chaen.example.jp/checkout/thank-you"}
		if contentType != "" {
			h["Content-Type"] = contentType
		}
		return h
	}
}

func tsunaguSigned(body []byte, now time.Time) map[string]string {
	return map[string]string{"Content-Type": "application/json", "X-Tsunagu-Signature": signature.SignTsunagu(envOr("TSUNAGU_WEBHOOK_SECRET", devSecret), now, body)}
}

func shopifySigned(topic, webhookID string) func([]byte, time.Time) map[string]string {
	return func(body []byte, now time.Time) map[string]string {
		return map[string]string{"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhookID,
			"X-Shopify-Shop-Domain": "tsubaki-chaen.myshopify.com", "X-Shopify-Api-Version": "2025-10",
			"X-Shopify-Triggered-At": now.UTC().Format(time.RFC3339Nano), "X-Shopify-Hmac-Sha256": signature.SignShopify(envOr("SHOPIFY_WEBHOOK_SECRET", devSecret), body)}
	}
}

// samples are the sample events, at least one per route of template.yaml
// (a test keeps it so).
var samples = []sampleRequest{
	{name: "generic-order-created", method: "POST", path: "/webhooks/orders", body: "generic-order-created.json", headers: tsunaguSigned},
	{name: "generic-order-fulfilled", method: "POST", path: "/webhooks/orders", body: "generic-order-fulfilled.json", headers: tsunaguSigned},
	{name: "generic-order-delivered", method: "POST", path: "/webhooks/orders", body: "generic-order-delivered.json", headers: tsunaguSigned},
	{name: "generic-order-cancelled", method: "POST", path: "/webhooks/orders", body: "generic-order-cancelled.json", headers: tsunaguSigned},
	{name: "shopify-orders-create", method: "POST", path: "/webhooks/shopify/orders", body: "shopify-orders-create.json", headers: shopifySigned("orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")},
	{name: "shopify-orders-fulfilled", method: "POST", path: "/webhooks/shopify/orders", body: "shopify-orders-fulfilled.json", headers: shopifySigned("orders/fulfilled", "0c4b1d5e-5d2b-4f0a-9c55-8f3e6a1d2b7c")},
	{name: "shopify-orders-cancelled", method: "POST", path: "/webhooks/shopify/orders", body: "shopify-orders-cancelled.json", headers: shopifySigned("orders/cancelled", "7e2f9a31-6c4d-4e8b-a1f0-3d5c7b9e2a64")},
	{name: "reviews-generic", method: "POST", path: "/webhooks/reviews", body: "reviews-generic.json", headers: tsunaguSigned},
	{name: "reviews-judgeme", method: "POST", path: "/webhooks/reviews/judgeme", body: "reviews-judgeme.json", headers: judgemeSigned},
	{name: "generic-customer-erase", method: "POST", path: "/webhooks/customers/erase", body: "generic-customer-erase.json", headers: tsunaguSigned},
	{name: "shopify-compliance-data-request", method: "POST", path: "/webhooks/shopify/compliance", body: "shopify-customers-data-request.json", headers: shopifySigned("customers/data_request", "3f6c2a9e-8d14-4b7a-9e02-6a1c5d7f4b21")},
	{name: "shopify-compliance-redact", method: "POST", path: "/webhooks/shopify/compliance", body: "shopify-customers-redact.json", headers: shopifySigned("customers/redact", "9b0e4d7c-2a61-4f38-b5c9-1e7a3d6f8c04")},
	{name: "shopify-compliance-shop-redact", method: "POST", path: "/webhooks/shopify/compliance", body: "shopify-shop-redact.json", headers: shopifySigned("shop/redact", "c8a15f3e-7b92-4d06-a4e1-5f2b9c0d7e63")},
	{name: "shopify-customers-redact", method: "POST", path: "/webhooks/shopify/customers/redact", body: "shopify-customers-redact.json", headers: shopifySigned("customers/redact", "5d1a8e62-3f7b-4c09-b2e4-9a6c1f0d7e35")},
	{name: "line-follow", method: "POST", path: "/line/webhook", body: "line-follow.json", headers: lineSigned},
	{name: "line-follow-redelivery", method: "POST", path: "/line/webhook", body: "line-follow-redelivery.json", headers: lineSigned},
	{name: "line-unfollow", method: "POST", path: "/line/webhook", body: "line-unfollow.json", headers: lineSigned},
	{name: "line-account-link", method: "POST", path: "/line/webhook", body: "line-account-link.json", headers: lineSigned},
	{name: "line-postback-optin", method: "POST", path: "/line/webhook", body: "line-postback-optin.json", headers: lineSigned},
	{name: "line-link", method: "GET", path: "/line/link", query: lineLinkQuery, headers: pageHeaders("")},
	{name: "unsubscribe-page", method: "GET", path: "/unsubscribe", query: unsubscribeToken, headers: pageHeaders("")},
	{name: "unsubscribe-one-click", method: "POST", path: "/unsubscribe", query: unsubscribeToken, body: "unsubscribe-one-click.txt", headers: pageHeaders("application/x-www-form-urlencoded")},
	{name: "optin-confirm-page", method: "GET", path: "/optin/confirm", query: optinConfirmToken, headers: pageHeaders("")},
	{name: "optin-confirm", method: "POST", path: "/optin/confirm", query: optinConfirmToken, headers: pageHeaders("application/x-www-form-urlencoded")},
	{name: "redirect-click", method: "GET", path: clickPath(), headers: browserHeaders},
	{name: "redirect-check", method: "HEAD", path: clickPath(), headers: browserHeaders},
	{name: "redirect-referral", method: "GET", path: referralPath(), headers: browserHeaders},
	{name: "review-form-page", method: "GET", path: reviewFormPath(), query: func() string { return "rating=5" }, headers: browserHeaders},
	{name: "review-form-post", method: "POST", path: reviewFormPath(), body: "review-form.txt", headers: pageHeaders("application/x-www-form-urlencoded")},
	{name: "survey-tap", method: "GET", path: surveyPath(), query: func() string { return "score=9" }, headers: browserHeaders},
	{name: "survey-answer", method: "POST", path: surveyPath(), body: "survey-answer.txt", headers: pageHeaders("application/x-www-form-urlencoded")},
	{name: "points-page", method: "GET", path: pointsPath(), headers: browserHeaders},
	{name: "points-exchange", method: "POST", path: pointsPath(), body: "points-exchange.txt", headers: pageHeaders("application/x-www-form-urlencoded")},
	{name: "thankyou-widget", method: "GET", path: "/thankyou/widget.js", headers: pageHeaders("")},
	{name: "thankyou-view", method: "GET", path: "/thankyou/1001", query: orderSig("1001"), headers: pageHeaders("")},
	{name: "thankyou-optin", method: "POST", path: "/thankyou/1001/optin", query: orderSig("1001"), body: "thankyou-optin.json", headers: pageHeaders("text/plain;charset=UTF-8")},
	{name: "thankyou-points", method: "POST", path: "/thankyou/1001/points", query: orderSig("1001"), body: "thankyou-points.json", headers: pageHeaders("text/plain;charset=UTF-8")},
}

// writeEvents regenerates events/*.json from the sample requests, signed
// now with the secrets in force (dev-secret unless set), by passing each
// request through the local gateway and keeping the event it hands the
// function. Generic webhook signatures expire after 5 minutes, so run this
// right before `sam local invoke`.
func writeEvents(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	dir := fs.String("dir", "", "events directory (default: events/ of the project)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := project.Root()
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(root, "events")
	}
	tmpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	routes, err := tmpl.Routes()
	if err != nil {
		return err
	}
	rec := &recorder{}
	invokers := map[string]apigateway.Invoker{}
	for _, r := range routes {
		invokers[r.Function] = rec
	}
	gw, err := apigateway.New(routes, invokers, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	now := time.Now()
	for _, s := range samples {
		var body []byte
		if s.body != "" {
			if body, err = os.ReadFile(filepath.Join(*dir, "bodies", s.body)); err != nil {
				return err
			}
		}
		target := "https://api.tsubaki-chaen.example.jp" + s.path
		if s.query != nil {
			target += "?" + s.query()
		}
		req := httptest.NewRequest(s.method, target, bytes.NewReader(body))
		for k, v := range s.headers(body, now) {
			req.Header.Set(k, v)
		}
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", "tsunagu-sample/1")
		}
		rec.last = nil
		gw.ServeHTTP(httptest.NewRecorder(), req)
		if rec.last == nil {
			return fmt.Errorf("sample %s: %s %s matches no route of template.yaml", s.name, s.method, s.path)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, rec.last, "", "  "); err != nil {
			return err
		}
		pretty.WriteByte('\n')
		path := filepath.Join(*dir, s.name+".json")
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	return nil
}

// recorder is a function stand-in that keeps the event it is given.
type recorder struct{ last []byte }

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	r.last = payload
	return []byte(`{"statusCode":204}`), nil
}

// missingSamples lists the routes without a sample request.
func missingSamples(routes []sam.Route) []string {
	var out []string
	for _, r := range routes {
		found := false
		for _, s := range samples {
			if s.method == r.Method && pathMatches(r.Path, s.path) {
				found = true
			}
		}
		if !found {
			out = append(out, r.RouteKey())
		}
	}
	return out
}

// pathMatches compares a sample path with a route path with {params}.
func pathMatches(route, path string) bool {
	rp, pp := strings.Split(route, "/"), strings.Split(path, "/")
	if len(rp) != len(pp) {
		return false
	}
	for i := range rp {
		if !strings.HasPrefix(rp[i], "{") && rp[i] != pp[i] {
			return false
		}
	}
	return true
}
