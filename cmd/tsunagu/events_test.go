package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// TestEveryRouteHasASample keeps events/ complete as routes are added.
func TestEveryRouteHasASample(t *testing.T) {
	tmpl, err := sam.Load(filepath.Join(testenv.Root(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tmpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if missing := missingSamples(routes); len(missing) > 0 {
		t.Errorf("routes without a sample event in cmd/tsunagu/events.go: %v", missing)
	}
}

// TestSampleEventsDecode decodes every file in events/: each event as the
// API Gateway payload 2.0 its function receives, signed with dev-secret,
// with a body the function accepts; each raw body in events/bodies too.
func TestSampleEventsDecode(t *testing.T) {
	dir := filepath.Join(testenv.Root(), "events")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) < len(samples)+6 {
		t.Fatalf("%d sample events (%v), want %d", len(files), err, len(samples))
	}
	for _, f := range files {
		if decodeOtherEvent(t, f) {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var ev events.APIGatewayV2HTTPRequest
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("not an API Gateway v2 event: %v", err)
			}
			if ev.Version != "2.0" || ev.RouteKey != ev.RequestContext.RouteKey || ev.RequestContext.HTTP.Method == "" {
				t.Errorf("event header fields: version %q routeKey %q/%q", ev.Version, ev.RouteKey, ev.RequestContext.RouteKey)
			}
			body, ok := httpapi.Body(ev)
			if !ok {
				t.Fatal("body is not valid base64")
			}
			switch ev.RouteKey {
			case "POST /webhooks/orders", "POST /webhooks/customers/erase":
				sig := ev.Headers["x-tsunagu-signature"]
				ts, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(sig, ",")[0], "t="), 10, 64)
				if err := signature.VerifyTsunagu(devSecret, sig, body, time.Unix(ts, 0)); err != nil {
					t.Errorf("signature with dev-secret: %v", err)
				}
				var err error
				if ev.RouteKey == "POST /webhooks/customers/erase" {
					_, err = order.DecodeErasure(body)
				} else {
					_, err = order.DecodeGeneric(body)
				}
				if err != nil {
					t.Errorf("body: %v", err)
				}
			case "POST /webhooks/reviews":
				sig := ev.Headers["x-tsunagu-signature"]
				ts, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(sig, ",")[0], "t="), 10, 64)
				if err := signature.VerifyTsunagu(devSecret, sig, body, time.Unix(ts, 0)); err != nil {
					t.Errorf("signature with dev-secret: %v", err)
				}
				if _, err := review.DecodeGeneric(body, time.Now()); err != nil {
					t.Errorf("body: %v", err)
				}
			case "POST /webhooks/reviews/judgeme":
				if err := signature.VerifyJudgeme(devSecret, ev.Headers["judgeme-hmac-sha256"], body); err != nil {
					t.Errorf("signature with dev-secret: %v", err)
				}
				if _, err := review.DecodeJudgeme(body); err != nil {
					t.Errorf("body: %v", err)
				}
			case "POST /webhooks/shopify/customers/redact", "POST /webhooks/shopify/compliance":
				if err := signature.VerifyShopify(devSecret, ev.Headers["x-shopify-hmac-sha256"], body); err != nil {
					t.Errorf("signature with dev-secret: %v", err)
				}
				if _, err := (shopify.Compliance{}).Decode(ev.Headers["x-shopify-topic"], ev.Headers["x-shopify-shop-domain"], body); err != nil {
					t.Errorf("body: %v", err)
				}
			case "POST /webhooks/shopify/orders":
				if err := signature.VerifyShopify(devSecret, ev.Headers["x-shopify-hmac-sha256"], body); err != nil {
					t.Errorf("signature with dev-secret: %v", err)
				}
				if _, err := (shopify.Decoder{}).Decode(shopify.Delivery{Topic: ev.Headers["x-shopify-topic"], WebhookID: ev.Headers["x-shopify-webhook-id"], ShopDomain: ev.Headers["x-shopify-shop-domain"]}, body, time.Now()); err != nil {
					t.Errorf("body: %v", err)
				}
			case "POST /line/webhook":
				if !webhook.ValidateSignature(devSecret, ev.Headers["x-line-signature"], body) {
					t.Error("X-Line-Signature does not verify with dev-secret")
				}
				var cb webhook.CallbackRequest
				if err := json.Unmarshal(body, &cb); err != nil || len(cb.Events) == 0 {
					t.Errorf("body is not a LINE webhook: %v", err)
				}
			case "GET /line/link":
				q := ev.QueryStringParameters
				want := signature.SignLineLink(devSecret, q["linkToken"], q["customer"])
				if q["sig"] != want {
					t.Errorf("link sig %q, want %q", q["sig"], want)
				}
			case "GET /optin/confirm", "POST /optin/confirm":
				sealer, _ := unsubscribe.NewSealer(devSecret)
				if c, err := sealer.OpenConfirmation(ev.QueryStringParameters["token"]); err != nil || c.CustomerID != "c-1" || c.OrderID != "1001" {
					t.Errorf("opt-in confirmation token: %+v %v", c, err)
				}
			case "GET /unsubscribe", "POST /unsubscribe":
				sealer, _ := unsubscribe.NewSealer(devSecret)
				if r, err := sealer.Open(ev.QueryStringParameters["token"]); err != nil || r.CustomerID != "c-1" || r.Channel != "email" {
					t.Errorf("unsubscribe token: %+v %v", r, err)
				}
			case "GET /r/{token}", "HEAD /r/{token}":
				links, _ := clicks.NewSealer("", devSecret)
				if l, err := links.Open(ev.PathParameters["token"]); err != nil || l.CustomerID != "c-1" || l.CampaignID != "post-purchase-thanks" || l.URL == "" {
					t.Errorf("click token: %+v %v", l, err)
				}
			case "GET /r/ref/{code}":
				coder, _ := referral.NewCoder(devSecret)
				if code := ev.PathParameters["code"]; code != coder.Code("c-1") {
					t.Errorf("referral code %q, want c-1's %q", code, coder.Code("c-1"))
				}
			case "GET /review/{token}", "POST /review/{token}":
				forms, _ := review.NewFormSealer("", devSecret)
				if a, err := forms.Open(ev.PathParameters["token"]); err != nil || a.CustomerID != "c-1" || a.SKU != "SWEET-YOKAN" {
					t.Errorf("review form token: %+v %v", a, err)
				}
			case "GET /points/{token}", "POST /points/{token}":
				links, _ := redeem.NewLinks("", devSecret)
				if l, err := links.Open(ev.PathParameters["token"]); err != nil || l.CustomerID != "c-1" {
					t.Errorf("points token: %+v %v", l, err)
				}
			case "GET /survey/{token}", "POST /survey/{token}":
				links, _ := survey.NewSealer("", devSecret)
				if a, err := links.Open(ev.PathParameters["token"]); err != nil || a.CustomerID != "c-1" || a.Scale != "nps" {
					t.Errorf("survey token: %+v %v", a, err)
				}
			case "GET /thankyou/widget.js":
			case "GET /thankyou/{orderId}", "POST /thankyou/{orderId}/optin", "POST /thankyou/{orderId}/points":
				orderID := ev.PathParameters["orderId"]
				if err := signature.VerifyOrder(devSecret, orderID, ev.QueryStringParameters["sig"]); err != nil {
					t.Errorf("sig of order %q with dev-secret: %v", orderID, err)
				}
				if ev.RouteKey == "POST /thankyou/{orderId}/optin" && !strings.Contains(ev.Body, `"consent": true`) {
					t.Errorf("opt-in body = %q", ev.Body)
				}
				if ev.RouteKey == "POST /thankyou/{orderId}/points" && !strings.Contains(ev.Body, `"reward": "yen500"`) {
					t.Errorf("points body = %q", ev.Body)
				}
			default:
				t.Errorf("route %s has no check here; add one", ev.RouteKey)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			for _, s := range samples {
				if s.name == name && s.body != "" {
					want, _ := os.ReadFile(filepath.Join(dir, "bodies", s.body))
					if !bytes.Equal(want, body) {
						t.Errorf("event body differs from bodies/%s; run go run ./cmd/tsunagu events", s.body)
					}
				}
			}
		})
	}
	bodies, _ := filepath.Glob(filepath.Join(dir, "bodies", "*"))
	for _, f := range bodies {
		raw, _ := os.ReadFile(f)
		name := filepath.Base(f)
		var err error
		switch {
		case name == "reviews-generic.json":
			_, err = review.DecodeGeneric(raw, time.Now())
		case name == "reviews-judgeme.json":
			_, err = review.DecodeJudgeme(raw)
		case name == "generic-customer-erase.json":
			_, err = order.DecodeErasure(raw)
		case strings.HasPrefix(name, "generic-"):
			_, err = order.DecodeGeneric(raw)
		case name == "shopify-customers-redact.json":
			_, err = (shopify.Compliance{}).Decode(shopify.RedactTopic, "", raw)
		case name == "shopify-customers-data-request.json":
			_, err = (shopify.Compliance{}).Decode(shopify.DataRequestTopic, "", raw)
		case name == "shopify-shop-redact.json":
			_, err = (shopify.Compliance{}).Decode(shopify.ShopRedactTopic, "", raw)
		case strings.HasPrefix(name, "line-"):
			var cb webhook.CallbackRequest
			err = json.Unmarshal(raw, &cb)
		case name == "unsubscribe-one-click.txt":
		case name == "review-form.txt":
			form, perr := url.ParseQuery(string(raw))
			if _, problems := review.FromForm(review.FormAsk{}, form.Get("rating"), form.Get("title"), form.Get("text"), form.Get("author"), time.Now()); perr != nil || len(problems) > 0 {
				err = fmt.Errorf("not a review form the form takes: %v %v", perr, problems)
			}
		case name == "points-exchange.txt":
			if form, perr := url.ParseQuery(string(raw)); perr != nil || form.Get("reward") == "" || len(form.Get("nonce")) < 16 {
				err = fmt.Errorf("not an exchange form with a reward and a nonce: %v", perr)
			}
		case name == "survey-answer.txt":
			var form url.Values
			if form, err = url.ParseQuery(string(raw)); err == nil && (form.Get("score") == "" || form.Get("comment") == "") {
				err = fmt.Errorf("not a survey form with a score and a comment")
			}
		case name == "thankyou-optin.json", name == "thankyou-points.json":
			if !json.Valid(raw) {
				err = fmt.Errorf("not JSON")
			}
		case strings.HasPrefix(name, "shopify-orders-"):
			topic := "orders/" + strings.TrimSuffix(strings.TrimPrefix(name, "shopify-orders-"), ".json")
			_, err = (shopify.Decoder{}).Decode(shopify.Delivery{Topic: topic, WebhookID: "w"}, raw, time.Now())
		default:
			t.Errorf("bodies/%s: unknown kind of body; add a check", name)
		}
		if err != nil {
			t.Errorf("bodies/%s: %v", name, err)
		}
	}
}

// decodeOtherEvent checks the sample events of functions that are not
// behind the HTTP API (they are written by hand, not by tsunagu events),
// and reports whether f was one.
func decodeOtherEvent(t *testing.T, f string) bool {
	name := filepath.Base(f)
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	switch {
	case strings.HasPrefix(name, "ses-"):
		var ev events.CloudWatchEvent
		if err := strict(&ev); err != nil || ev.Source != "aws.ses" || !json.Valid(ev.Detail) {
			t.Errorf("%s: not an SES event from EventBridge: %v", name, err)
		}
	case strings.HasPrefix(name, "scheduler-"), strings.HasPrefix(name, "segments-"), strings.HasPrefix(name, "digest-"):
		var tick struct {
			Time time.Time `json:"time"`
		}
		if err := strict(&tick); err != nil || tick.Time.IsZero() {
			t.Errorf("%s: not a schedule event with a time: %v", name, err)
		}
	case strings.HasPrefix(name, "sender-"):
		var ev events.SQSEvent
		if err := strict(&ev); err != nil || len(ev.Records) == 0 {
			t.Fatalf("%s: not an SQS event: %v", name, err)
		}
		for _, r := range ev.Records {
			if _, err := queue.Decode(r.Body); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	default:
		return false
	}
	return true
}
