package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
)

// shopifyFixture reads one of the Shopify order fixtures (a consenting
// buyer, misaki@example.jp), with the buyer's address replaced by to.
func shopifyFixture(t *testing.T, name, to string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "misaki@example.jp", to))
}

// onlyDeliveryMarkers fails unless every item of the table is a delivery
// marker: no order, profile, message, timer or coupon.
func onlyDeliveryMarkers(t *testing.T, e *env) {
	t.Helper()
	for _, item := range testenv.Snapshot(t, e.table) {
		if !strings.Contains(item, `"pk":"DELIVERY#`) {
			t.Errorf("the table holds %.200s", item)
		}
	}
}

// TestShopifyTestNotificationsLeaveNothing: "Send test notification" in
// the Shopify admin posts a sample order (X-Shopify-Test: true, the sample
// order id, test: true). It used to mail the sample's buyer and arm a
// 21-day nudge; it is answered 200, recorded as a test delivery, and
// nothing else.
func TestShopifyTestNotificationsLeaveNothing(t *testing.T) {
	to := testenv.UniqueEmail(t, "sample")
	create := shopifyFixture(t, "orders-create.json", to)
	tests := []struct {
		name string
		req  func() []byte
		test string
	}{
		{name: "X-Shopify-Test header", req: func() []byte { return create }, test: "true"},
		{name: "the sample order marked test", req: func() []byte { return []byte(strings.Replace(string(create), `"test": false`, `"test": true`, 1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			req := shopifyRequest("orders/create", "wh-sample", tt.req())
			if tt.test != "" {
				req = testenv.WithHeader(req, "x-shopify-test", tt.test)
			}
			status, a := e.do(t, req)
			if status != http.StatusOK || !a.Accepted || len(a.Messages) != 0 {
				t.Fatalf("test notification = %d %+v; want 200 and no message", status, a)
			}
			if n := len(testenv.SentEmails(t, to)); n != 0 {
				t.Errorf("a test notification sent %d emails", n)
			}
			onlyDeliveryMarkers(t, e)
			if done, err := e.store.DeliveryDone(context.Background(), shopify.Source, "wh-sample", fixedNow); err != nil || !done {
				t.Errorf("the test delivery is not recorded: %v, %v", done, err)
			}
			if _, a := e.do(t, req); !a.Duplicate {
				t.Errorf("the same test delivery again: %+v; want a duplicate", a)
			}
		})
	}
}

// TestShopifyTestOrdersFollowSettings: an order Shopify marks test: true
// (a development store's) is ignored by default and taken as an order when
// settings.yaml says shopify.test_orders: process.
func TestShopifyTestOrdersFollowSettings(t *testing.T) {
	for _, process := range []bool{false, true} {
		t.Run(map[bool]string{false: "ignore", true: "process"}[process], func(t *testing.T) {
			e := newEnv(t)
			e.h.Rules.Settings.Shopify.ProcessTestOrders = process
			defer func() { e.h.Rules.Settings.Shopify.ProcessTestOrders = false }()
			to := testenv.UniqueEmail(t, "testorder")
			body := realBody(t, "bag-server-orders-create-test-order-aud.json", to)
			status, a := e.do(t, shopifyRequest("orders/create", "wh-test-order", body))
			if status != http.StatusOK || a.Test != string(order.TestOrder) {
				t.Fatalf("test order = %d %+v", status, a)
			}
			_, err := e.store.GetOrder(context.Background(), "2998557704341")
			if stored := err == nil; stored != process {
				t.Errorf("order stored = %v (%v), want %v", stored, err, process)
			}
			if !process {
				onlyDeliveryMarkers(t, e)
			}
		})
	}
}

// TestShopifyReplaysHaveNoEffect: Shopify signs the body only. A captured
// delivery replayed under another X-Shopify-Webhook-Id is the same
// delivery; replayed under another topic it must be of that topic's kind
// (a create posted as orders/cancelled used to cancel the order); and a
// forged X-Shopify-Triggered-At moves no clock (9999-12-31 used to move
// the profile's to the year 9999).
func TestShopifyReplaysHaveNoEffect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	to := testenv.UniqueEmail(t, "replay")
	create := shopifyFixture(t, "orders-create.json", to)
	forged := testenv.WithHeader(shopifyRequest("orders/create", "wh-original", create), "x-shopify-triggered-at", "9999-12-31T00:00:00Z")
	if status, a := e.do(t, forged); status != http.StatusOK || a.Duplicate {
		t.Fatalf("original delivery = %d %+v", status, a)
	}
	placed := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	if p, err := e.store.GetProfile(ctx, "115310627314723954"); err != nil || !p.AsOf.Equal(placed) {
		t.Errorf("profile clock at %s (%v); want the order's created_at %s, not the header's year 9999", p.AsOf, err, placed)
	}
	tests := []struct {
		name   string
		topic  string
		status int
	}{
		{name: "under a new webhook id", topic: "orders/create", status: http.StatusOK},
		{name: "as a cancellation", topic: "orders/cancelled", status: http.StatusBadRequest},
		{name: "as a fulfilment", topic: "orders/fulfilled", status: http.StatusBadRequest},
		{name: "as a refund", topic: "refunds/create", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, a := e.do(t, shopifyRequest(tt.topic, "wh-replay-"+tt.topic, create))
			if status != tt.status || (status == http.StatusOK && !a.Duplicate) {
				t.Fatalf("replay = %d %+v; want %d (a duplicate when accepted)", status, a, tt.status)
			}
			st, err := e.store.GetOrder(ctx, "820982911946154508")
			if err != nil || st.Status != order.Created {
				t.Errorf("order after the replay: %s, %v; want still created", st.Status, err)
			}
		})
	}
	if n := len(testenv.SentEmails(t, to)); n != 1 {
		t.Errorf("%d emails after the replays, want the original's 1", n)
	}
}

// TestBuyerNameCannotInjectIntoTheEmail: a name carrying a line break, a
// header and a link used to reach the text part of the shop's email as
// lines of their own; the decoder keeps the name on one line.
func TestBuyerNameCannotInjectIntoTheEmail(t *testing.T) {
	const injected = "美咲\r\nBcc: victim@example.jp\r\n\r\nお支払いの確認: https://phish.example/pay"
	tests := []struct {
		name string
		req  func(to string) []byte
	}{
		{name: "shopify", req: func(to string) []byte {
			return []byte(strings.Replace(string(shopifyFixture(t, "orders-create.json", to)), `"first_name": "美咲"`, `"first_name": `+jsonString(injected), 1))
		}},
		{name: "generic", req: func(to string) []byte {
			return []byte(strings.Replace(string(genericBody("evt-inject", "order.created", "inj-1", to, true)), `"name": "高橋 美咲"`, `"name": `+jsonString("高橋 "+injected), 1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			to := testenv.UniqueEmail(t, "inject")
			body := tt.req(to)
			req := genericRequest(body)
			if tt.name == "shopify" {
				req = shopifyRequest("orders/create", "wh-inject", body)
			}
			if status, a := e.do(t, req); status != http.StatusOK || thanks(a).Status != "sent" {
				t.Fatalf("order = %d %+v", status, a)
			}
			mails := testenv.SentEmails(t, to)
			if len(mails) != 1 {
				t.Fatalf("%d emails, want 1", len(mails))
			}
			text := mails[0].Body.Text
			if !strings.Contains(text, "美咲 Bcc: victim@example.jp お支払いの確認: https://phish.example/pay") {
				t.Errorf("the name is not on one line of the text part:\n%s", text)
			}
			for _, line := range strings.Split(text, "\n") {
				if l := strings.TrimSpace(line); strings.HasPrefix(l, "Bcc:") || strings.HasPrefix(l, "お支払いの確認") {
					t.Errorf("a line of the text part starts with the injected %q", l)
				}
			}
		})
	}
}

// jsonString writes s as a JSON string literal.
func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", `\r`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// TestShopifyOrderEditRevisesTheTotal: orders/updated after an order edit
// (a later updated_at, one yokan less) replaces the order's total and
// lines, the profile's spend follows, and no campaign runs again; an older
// orders/updated arriving late changes nothing back.
func TestShopifyOrderEditRevisesTheTotal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	to := testenv.UniqueEmail(t, "edit")
	create := string(shopifyFixture(t, "orders-create.json", to))
	if status, a := e.do(t, shopifyRequest("orders/create", "wh-edit-create", []byte(create))); status != http.StatusOK || thanks(a).Status != "sent" {
		t.Fatalf("create = %d %+v", status, a)
	}
	edited := strings.NewReplacer(`"current_total_price": "4300"`, `"current_total_price": "2150"`, `"quantity": 2`, `"quantity": 2, "current_quantity": 1`).Replace(create)
	// The order's updated_at comes first in the body (the customer's after).
	edited = strings.Replace(edited, `"updated_at": "2026-11-21T09:30:01+09:00"`, `"updated_at": "2026-11-21T09:30:40+09:00"`, 1)
	for _, d := range []struct{ id, body string }{{"wh-edit-1", edited}, {"wh-edit-stale", strings.Replace(create, `"current_total_price": "4300"`, `"current_total_price": "4299"`, 1)}} {
		status, a := e.do(t, shopifyRequest("orders/updated", d.id, []byte(d.body)))
		if status != http.StatusOK || len(a.Messages) != 0 {
			t.Fatalf("orders/updated %s = %d %+v; want 200 and no campaign", d.id, status, a)
		}
	}
	st, err := e.store.GetOrder(ctx, "820982911946154508")
	if err != nil || st.Order.Total != 2150 || st.Order.Items[0].Quantity != 1 {
		t.Errorf("order after the edit: %+v, %v; want total 2150, one yokan", st.Order, err)
	}
	p, err := e.store.GetProfile(ctx, "115310627314723954")
	if err != nil || p.TotalSpent != 2150 || p.OrderCount != 1 {
		t.Errorf("profile spent %d over %d orders (%v), want 2150 over 1", p.TotalSpent, p.OrderCount, err)
	}
	if n := len(testenv.SentEmails(t, to)); n != 1 {
		t.Errorf("%d emails, want the order's 1", n)
	}
}

// TestRefundWithoutMoneyChangesNothing: a refund that only restocks (no
// refund transaction) is answered 200 and changes no amount.
func TestRefundWithoutMoneyChangesNothing(t *testing.T) {
	e := newEnv(t)
	body := string(realBody(t, "shopify-docs-refunds-create-usd.json", testenv.UniqueEmail(t, "restock")))
	i := strings.Index(body, `"transactions": [`)
	j := strings.Index(body[i:], "\n  ]") + i + len("\n  ]")
	restock := body[:i] + `"transactions": []` + body[j:]
	if status, a := e.do(t, shopifyRequest("refunds/create", "wh-restock", []byte(restock))); status != http.StatusOK || !a.Accepted {
		t.Fatalf("restock-only refund = %d %+v", status, a)
	}
	onlyDeliveryMarkers(t, e)
}
