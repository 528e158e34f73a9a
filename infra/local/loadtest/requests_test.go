package loadtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// Secrets the builder tests sign with, each different, so that a request
// signed with the wrong one fails.
const (
	testWebhookSecret = "dev-secret"
	testShopifySecret = "shp-secret"
	testLineSecret    = "line-channel-secret"
)

// paths are the request paths of the route keys.
var paths = map[string]string{
	GenericRoute: "/webhooks/orders", ShopifyRoute: "/webhooks/shopify/orders", LineRoute: "/line/webhook",
	EraseRoute: "/webhooks/customers/erase", RedactRoute: "/webhooks/shopify/customers/redact",
}

// ulidPattern is a ULID, as LINE's webhookEventIds are.
var ulidPattern = regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`)

// built is what the builder test learnt of a run's requests.
type built struct {
	// created maps the customers the run's orders create to the first
	// request that created them.
	created map[string]int
	// erased counts erasures of customers the run created, and of
	// customers no one has, per route.
	known, unknown map[string]int
	lineTypes      map[string]int
	lineUsers      map[string]bool
	// shopifyCustomers is the first Shopify customer id of the run.
	shopifyCustomers int64
}

// TestRequestsAreSignedValidWebhooks builds 1,500 requests of a run for
// several route selections and checks each as its function would: the
// route is the selection's in turn; the signature verifies with the
// route's secret (LINE's with the LINE SDK's own check, the others with
// shared/signature) and not with another one; the body decodes as the
// function decodes it; and every delivery, order, LINE event and
// erasure is its own. Erasures name either a customer an order of the run
// created at least eraseLag requests earlier, or one no one has.
func TestRequestsAreSignedValidWebhooks(t *testing.T) {
	tests := []struct {
		name   string
		routes []string
		// wantKnown is whether erasures should name customers the run
		// created.
		wantKnown bool
	}{
		{name: "every route", routes: AllRoutes(), wantKnown: true},
		{name: "orders", routes: []string{GenericRoute, ShopifyRoute}},
		{name: "line", routes: []string{LineRoute}},
		{name: "erasures without orders", routes: []string{EraseRoute, RedactRoute}},
		{name: "erasures after orders, reordered", routes: []string{RedactRoute, ShopifyRoute, LineRoute, GenericRoute, EraseRoute}, wantKnown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &generator{run: "t1", routes: tt.routes, webhookSecret: testWebhookSecret, shopifySecret: testShopifySecret, lineSecret: testLineSecret}
			now := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
			b := built{created: map[string]int{}, known: map[string]int{}, unknown: map[string]int{}, lineTypes: map[string]int{}, lineUsers: map[string]bool{}, shopifyCustomers: g.number() / 1000}
			seen := map[string]bool{}
			for i := range 1500 {
				route, req, err := g.request(context.Background(), "http://127.0.0.1:1", i, now)
				if err != nil {
					t.Fatal(err)
				}
				if want := tt.routes[i%len(tt.routes)]; route != want || req.Method != http.MethodPost || req.URL.Path != paths[route] {
					t.Fatalf("request %d: %s %s as %s, want %s", i, req.Method, req.URL.Path, route, want)
				}
				body, err := io.ReadAll(req.Body)
				if err != nil {
					t.Fatal(err)
				}
				req.Body = io.NopCloser(bytes.NewReader(body))
				for _, id := range b.check(t, i, route, req, body, now) {
					if seen[route+" "+id] {
						t.Fatalf("request %d (%s) repeats %s", i, route, id)
					}
					seen[route+" "+id] = true
				}
			}
			for _, route := range []string{EraseRoute, RedactRoute} {
				if !strings.Contains(strings.Join(tt.routes, ","), route) {
					continue
				}
				if b.unknown[route] == 0 || (b.known[route] > 0) != tt.wantKnown {
					t.Errorf("%s: %d erasures of the run's customers, %d of customers no one has; want some of the run's: %v", route, b.known[route], b.unknown[route], tt.wantKnown)
				}
			}
			if strings.Contains(strings.Join(tt.routes, ","), LineRoute) {
				if len(b.lineTypes) != len(lineEventTypes) || len(b.lineUsers) < 100 || len(b.lineUsers) > lineUsers {
					t.Errorf("LINE events %v from %d users; want each of %v, from 100 to %d users", b.lineTypes, len(b.lineUsers), lineEventTypes, lineUsers)
				}
			}
		})
	}
}

// check verifies and decodes request i, records what it created or
// erased, and returns the ids that must be the run's only ones.
func (b *built) check(t *testing.T, i int, route string, req *http.Request, body []byte, now time.Time) []string {
	t.Helper()
	switch route {
	case GenericRoute, ShopifyRoute:
		var ev order.Event
		var err error
		if route == GenericRoute {
			if err := signature.VerifyTsunagu(testWebhookSecret, req.Header.Get("X-Tsunagu-Signature"), body, now); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			ev, err = order.DecodeGeneric(body)
		} else {
			if err := signature.VerifyShopify(testShopifySecret, req.Header.Get("X-Shopify-Hmac-Sha256"), body); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			ev, err = (shopify.Decoder{}).Decode(shopify.Delivery{Topic: req.Header.Get("X-Shopify-Topic"), WebhookID: req.Header.Get("X-Shopify-Webhook-Id"),
				ShopDomain: req.Header.Get(shopify.ShopDomainHeader)}, body, now)
		}
		if err != nil {
			t.Fatalf("request %d (%s) does not decode: %v\n%s", i, route, err, body)
		}
		if ev.Type != order.Created || ev.Order.Total <= 0 || len(ev.Order.Items) == 0 || ev.Order.Customer == nil || ev.Order.Customer.Email == "" {
			t.Fatalf("request %d: %+v", i, ev)
		}
		if _, ok := b.created[ev.Order.Customer.ID]; !ok {
			b.created[ev.Order.Customer.ID] = i
		}
		return []string{"delivery " + ev.Source + ev.DeliveryID, "order " + ev.Order.ID}

	case LineRoute:
		sig := req.Header.Get("X-Line-Signature")
		if !webhook.ValidateSignature(testLineSecret, sig, body) {
			t.Fatalf("request %d: X-Line-Signature %q does not verify with the LINE SDK", i, sig)
		}
		if webhook.ValidateSignature(testWebhookSecret, sig, body) || webhook.ValidateSignature(testLineSecret, sig, append(bytes.Clone(body), ' ')) {
			t.Fatalf("request %d: X-Line-Signature verifies with another secret or body", i)
		}
		cb, err := webhook.ParseRequest(testLineSecret, req)
		if err != nil || len(cb.Events) != 1 || !line.ValidUserID(cb.Destination) {
			t.Fatalf("request %d: the LINE SDK parses %+v, %v; want one event for a bot\n%s", i, cb, err, body)
		}
		var id, userID string
		var src webhook.SourceInterface
		switch e := cb.Events[0].(type) {
		case webhook.FollowEvent:
			id, src = e.WebhookEventId, e.Source
			if e.ReplyToken == "" || e.Follow == nil || e.Mode != webhook.EventMode_ACTIVE {
				t.Fatalf("request %d: follow event %+v", i, e)
			}
		case webhook.UnfollowEvent:
			id, src = e.WebhookEventId, e.Source
		case webhook.MessageEvent:
			id, src = e.WebhookEventId, e.Source
			if m, ok := e.Message.(webhook.TextMessageContent); !ok || m.Id == "" || m.QuoteToken == "" || m.Text == "" || e.ReplyToken == "" {
				t.Fatalf("request %d: message event %+v", i, e)
			}
		default:
			t.Fatalf("request %d: LINE event %T, want follow, unfollow or message", i, e)
		}
		if u, ok := src.(webhook.UserSource); ok {
			userID = u.UserId
		}
		if !line.ValidUserID(userID) || !ulidPattern.MatchString(id) {
			t.Fatalf("request %d: user %q, webhookEventId %q; want U and 32 hex digits, and a ULID", i, userID, id)
		}
		b.lineTypes[cb.Events[0].GetType()]++
		b.lineUsers[userID] = true
		return []string{"event " + id}

	case EraseRoute:
		if err := signature.VerifyTsunagu(testWebhookSecret, req.Header.Get("X-Tsunagu-Signature"), body, now); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if signature.VerifyTsunagu(testShopifySecret, req.Header.Get("X-Tsunagu-Signature"), body, now) == nil {
			t.Fatalf("request %d: X-Tsunagu-Signature verifies with another secret", i)
		}
		id, err := order.DecodeErasure(body)
		if err != nil {
			t.Fatalf("request %d does not decode: %v\n%s", i, err, body)
		}
		b.erasure(t, i, route, id)
		return nil

	case RedactRoute:
		if err := signature.VerifyShopify(testShopifySecret, req.Header.Get("X-Shopify-Hmac-Sha256"), body); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if signature.VerifyShopify(testWebhookSecret, req.Header.Get("X-Shopify-Hmac-Sha256"), body) == nil {
			t.Fatalf("request %d: X-Shopify-Hmac-Sha256 verifies with another secret", i)
		}
		r, err := (shopify.Compliance{}).Decode(req.Header.Get("X-Shopify-Topic"), req.Header.Get(shopify.ShopDomainHeader), body)
		if err != nil {
			t.Fatalf("request %d does not decode: %v\n%s", i, err, body)
		}
		b.erasure(t, i, route, r.CustomerID)
		return []string{"delivery " + req.Header.Get("X-Shopify-Webhook-Id")}
	}
	t.Fatalf("request %d: route %q", i, route)
	return nil
}

// erasure records request i's erasure of customer id: one an order of the
// run created at least eraseLag requests before, or one no order of the
// run can name.
func (b *built) erasure(t *testing.T, i int, route, id string) {
	t.Helper()
	if first, ok := b.created[id]; ok {
		if first > i-eraseLag {
			t.Fatalf("request %d erases customer %s, created by request %d, less than %d requests before", i, id, first, eraseLag)
		}
		b.known[route]++
		return
	}
	if n, err := strconv.ParseInt(id, 10, 64); runCustomer.MatchString(id) || err == nil && n >= b.shopifyCustomers && n < b.shopifyCustomers+customers {
		t.Fatalf("request %d erases %s, a customer an order of the run may create later", i, id)
	}
	b.unknown[route]++
}

// runCustomer matches the generic customer ids the run "t1" creates.
var runCustomer = regexp.MustCompile(`^lc-t1-[0-9]+$`)
