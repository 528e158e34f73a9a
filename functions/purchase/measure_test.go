package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// wantCounts checks one stats item's counters.
func (e *env) wantCounts(t *testing.T, pk, sk string, want store.Counts) {
	t.Helper()
	got, err := e.store.StatsBetween(context.Background(), pk, sk, sk)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got[sk]) != fmt.Sprint(want) {
		t.Errorf("%s %s = %v, want %v", pk, sk, got[sk], want)
	}
}

// orderAt is a generic order.created delivery of one line, for customer
// c-<customer>, placed at (shop time, RFC 3339), handled and signed a
// minute later, as a shop delivers it.
func orderAt(deliveryID, orderID, customer, at, category string, total int, codes ...string) events.APIGatewayV2HTTPRequest {
	quoted := make([]string, len(codes))
	for i, c := range codes {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	body := fmt.Sprintf(`{"id": %q, "type": "order.created", "occurred_at": %q,
 "order": {"id": %q, "currency": "JPY", "total": %d,
   "customer": {"id": "c-%s", "email": "%s@example.jp", "name": "高橋 美咲", "accepts_marketing": true},
   "items": [{"sku": "SKU-%s", "name": "品", "category": %q, "price": %d, "quantity": 1}],
   "coupon_codes": [%s]}}`, deliveryID, at, orderID, total, customer, customer, category, category, total, strings.Join(quoted, ", "))
	return signedAt([]byte(body), minuteAfter(at))
}

// minuteAfter is a minute after at (RFC 3339): when a delivery of an
// event at at is signed and handled.
func minuteAfter(at string) time.Time {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return t.Add(time.Minute)
}

// doAt handles a request as if a minute after at.
func (e *env) doAt(t *testing.T, req events.APIGatewayV2HTTPRequest, at string) answerBody {
	t.Helper()
	e.h.Now = func() time.Time { return minuteAfter(at) }
	status, a := e.do(t, req)
	if status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, a)
	}
	return a
}

// TestShopCountersOncePerOrder: a first order, a second one 14 days later
// in a category not bought before and with a code, and its cancellation,
// each delivered twice and retried under another delivery id, count the
// shop's figures once, on the day they happened.
func TestShopCountersOncePerOrder(t *testing.T) {
	e := newEnv(t)
	first, second := "2026-11-01T10:00:00+09:00", "2026-11-15T10:00:00+09:00"
	for _, id := range []string{"evt-m1", "evt-m1", "evt-m1-retry"} {
		e.doAt(t, orderAt(id, "m-1", "m", first, "sweets", 4300), first)
	}
	for _, id := range []string{"evt-m2", "evt-m2", "evt-m2-retry"} {
		e.doAt(t, orderAt(id, "m-2", "m", second, "tea", 3000, "SHOP10"), second)
	}
	cancel := "2026-11-20T12:00:00+09:00"
	for _, id := range []string{"evt-m2-cancel", "evt-m2-cancel", "evt-m2-cancel-again"} {
		body := fmt.Sprintf(`{"id": %q, "type": "order.cancelled", "occurred_at": %q, "order": {"id": "m-2"}}`, id, cancel)
		e.doAt(t, signedAt([]byte(body), minuteAfter(cancel)), cancel)
	}
	shop := store.ShopStatsPartition
	e.wantCounts(t, shop, "DAY#2026-11-01", store.Counts{"orders": 1, "revenue": 4300, "first_orders": 1, "active_2026-11": 1})
	e.wantCounts(t, shop, "DAY#2026-11-15", store.Counts{"orders": 1, "revenue": 3000, "repeat_orders": 1, "cross_sell_orders": 1, "coupon_orders": 1,
		"second30_2026-11-01": 1, "second60_2026-11-01": 1, "second90_2026-11-01": 1})
	e.wantCounts(t, shop, "DAY#2026-11-20", store.Counts{"cancelled": 1})
	// A first order in a new month counts the cohort as active again.
	dec := "2026-12-03T10:00:00+09:00"
	e.doAt(t, orderAt("evt-m3", "m-3", "m", dec, "sweets", 2000), dec)
	e.wantCounts(t, shop, "DAY#2026-12-03", store.Counts{"orders": 1, "revenue": 2000, "repeat_orders": 1, "active_2026-11": 1})
}

// TestHeldOutCustomerConvertsTheirHoldout: a customer held out of a
// campaign is counted at the decision, and their next order within the
// conversion window converts that assignment once, with its revenue and
// the revenue's square; a retried order adds nothing.
func TestHeldOutCustomerConvertsTheirHoldout(t *testing.T) {
	set := shippedRules(t, false, map[string]string{"campaigns/held.yaml": "id: held\nname: held\nkind: marketing\ntrigger: order.created\nholdout: 100\n" +
		"actions: [{type: email, template: post-purchase-thanks}]\n"})
	e := newEnv(t)
	e.h = newHandlerWith(t, set, e.h.Store.(*store.Store), testenv.SES())
	first, second := "2026-11-10T10:00:00+09:00", "2026-11-12T10:00:00+09:00"
	if a := e.doAt(t, orderAt("evt-h1", "h-1", "h", first, "sweets", 4300), first); len(a.Messages) != 1 || a.Messages[0].Status != "held_out" {
		t.Fatalf("first order: %+v, want held out", a.Messages)
	}
	for _, id := range []string{"evt-h2", "evt-h2-retry"} {
		e.doAt(t, orderAt(id, "h-2", "h", second, "tea", 5000), second)
	}
	held := store.CampaignStatsPartition("held")
	e.wantCounts(t, held, "DAY#2026-11-10#-", store.Counts{"assigned_holdout": 1, "converted_holdout": 1, "revenue_holdout": 5000, "revenue_sq_holdout": 5000 * 5000,
		"assigned_exposed": 1, "converted_exposed": 1, "revenue_exposed": 5000, "revenue_sq_exposed": 5000 * 5000})
	// The second order's own assignment comes after it: not converted by it.
	e.wantCounts(t, held, "DAY#2026-11-12#-", store.Counts{"assigned_holdout": 1, "assigned_exposed": 1})
	// A third order in the window: converted once still, the revenue sums,
	// and the square grows to the square of the customer's sum.
	third := "2026-11-13T10:00:00+09:00"
	e.doAt(t, orderAt("evt-h3", "h-3", "h", third, "tea", 1000), third)
	e.wantCounts(t, held, "DAY#2026-11-10#-", store.Counts{"assigned_holdout": 1, "converted_holdout": 1, "revenue_holdout": 6000, "revenue_sq_holdout": 6000 * 6000,
		"assigned_exposed": 1, "converted_exposed": 1, "revenue_exposed": 6000, "revenue_sq_exposed": 6000 * 6000})
	e.wantCounts(t, held, "DAY#2026-11-12#-", store.Counts{"assigned_holdout": 1, "converted_holdout": 1, "revenue_holdout": 1000, "revenue_sq_holdout": 1000 * 1000,
		"assigned_exposed": 1, "converted_exposed": 1, "revenue_exposed": 1000, "revenue_sq_exposed": 1000 * 1000})
	if len(testenv.SentEmails(t, "h@example.jp")) != 0 {
		t.Error("a held-out customer got the campaign's email")
	}
}

// TestGlobalControlGetsTransactionalOnly: a customer in the global control
// gets no marketing message (recorded as held out, global_control) and
// still gets the transactional one; the campaign counts the assignment as
// the global control's.
func TestGlobalControlGetsTransactionalOnly(t *testing.T) {
	set := shippedRules(t, false, map[string]string{
		"campaigns/promo.yaml":   "id: promo\nname: promo\nkind: marketing\ntrigger: order.created\nactions: [{type: email, template: post-purchase-thanks}]\n",
		"campaigns/receipt.yaml": "id: receipt\nname: receipt\nkind: transactional\npriority: 1\ntrigger: order.created\nactions: [{type: email, template: post-purchase-thanks}]\n",
	})
	set.Settings.Measurement.GlobalControlPercent, set.Settings.Measurement.GlobalControlSalt = 100, "2026-12"
	e := newEnv(t)
	e.h = newHandlerWith(t, set, e.h.Store.(*store.Store), testenv.SES())
	at := "2026-11-20T10:00:00+09:00"
	a := e.doAt(t, orderAt("evt-g1", "g-1", "g", at, "sweets", 4300), at)
	got := map[string]campaign.Outcome{}
	for _, m := range a.Messages {
		got[m.Campaign] = m
	}
	if got["promo"].Status != "held_out" || got["promo"].Reason != campaign.ReasonGlobalControl || got["receipt"].Status != "sent" {
		t.Fatalf("messages = %+v; want promo held out (global control), receipt sent", a.Messages)
	}
	if n := len(testenv.SentEmails(t, "g@example.jp")); n != 1 {
		t.Errorf("%d emails, want the transactional one", n)
	}
	log, err := e.store.CustomerMessages(context.Background(), "c-g", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range log {
		if m.CampaignID == "promo" && (m.Reason != campaign.ReasonGlobalControl || m.Group != store.GroupControl) {
			t.Errorf("promo's log entry = %+v, want held out for the global control", m)
		}
	}
	e.wantCounts(t, store.CampaignStatsPartition("promo"), "DAY#2026-11-20#-", store.Counts{"assigned_control": 1})
	e.wantCounts(t, store.CampaignStatsPartition("receipt"), "DAY#2026-11-20#-", store.Counts{"sent": 1})
}

// errThrottled is what the failing counter store answers.
var errThrottled = errors.New("ProvisionedThroughputExceededException: counters throttled")

// TestCounterFailureDoesNotFailTheOrder: with every counter update
// refused, the order, its profile and its email go through all the same.
func TestCounterFailureDoesNotFailTheOrder(t *testing.T) {
	refuseStats := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("RefuseCounters",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok && strings.HasPrefix(fmt.Sprint(u.Key["pk"]), "&{STATS#") {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errThrottled
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
	e := newEnvWith(t, testenv.DynamoDBAs(t, "PurchaseFunction", refuseStats), testenv.SES())
	to := testenv.UniqueEmail(t, "misaki")
	status, a := e.do(t, genericRequest(genericBody("evt-nostats", "order.created", "ns-1", to, true)))
	if status != http.StatusOK || a.Duplicate || thanks(a).Status != "sent" {
		t.Fatalf("status %d: %+v; want the order accepted and its email sent", status, a)
	}
	if _, err := e.store.GetOrder(context.Background(), "ns-1"); err != nil {
		t.Errorf("order: %v", err)
	}
	if p, err := e.store.GetProfile(context.Background(), "c-ns-1"); err != nil || p.OrderCount != 1 {
		t.Errorf("profile = %+v, %v", p, err)
	}
	for _, it := range e.items(t) {
		if strings.Contains(fmt.Sprint(it["pk"]), "STATS#") {
			t.Errorf("a counter was written: %v", it)
		}
	}
}

// TestRefundsTakeAttributedRevenueBack: Shopify's documented order, first
// heard of through orders/updated with one refund listed, is attributed to
// the message its buyer received an hour before, net of that refund; the
// same refund heard of again takes nothing more, and a later refund, heard
// of twice, is taken back once, from the campaign and in the shop's day.
func TestRefundsTakeAttributedRevenueBack(t *testing.T) {
	set := *shippedRules(t, true, nil)
	set.Settings.Shop.Currency, set.Settings.Thresholds.Currency, set.Settings.Shopify.ProcessTestOrders = "USD", "USD", true
	e := newEnv(t)
	e.h = newHandlerWith(t, &set, e.h.Store.(*store.Store), testenv.SES())
	ctx, at := context.Background(), time.Date(2008, 1, 10, 15, 0, 0, 0, time.UTC) // an hour before the order
	rec := store.MessageRecord{Key: "news-207119551", CampaignID: "news", Channel: "email", CustomerID: "207119551"}
	if _, _, err := e.store.ClaimMessage(ctx, rec, at); err != nil {
		t.Fatal(err)
	}
	rec.ClaimedAt = at
	if err := e.store.FinishMessage(ctx, rec, store.MessageSent, "", "ses-1", at); err != nil {
		t.Fatal(err)
	}
	to := testenv.UniqueEmail(t, "refund")
	for i, d := range []realDelivery{{"shopify-docs-orders-updated-edited-refunded-usd.json", "orders/updated"},
		{"shopify-docs-refunds-create-usd.json", "refunds/create"}, {"shopify-docs-refunds-create-usd.json", "refunds/create"},
		{"shopify-docs-refunds-create-second-usd.json", "refunds/create"}, {"shopify-docs-refunds-create-second-usd.json", "refunds/create"}} {
		if status, a := e.do(t, shopifyRequest(d.topic, fmt.Sprintf("wh-refund-%d", i), realBody(t, d.file, to))); status != http.StatusOK {
			t.Fatalf("%s: %d %+v", d.file, status, a)
		}
	}
	// (The attribution item of a 2008 order has expired; its counters stay.)
	e.wantCounts(t, store.CampaignStatsPartition("news"), "DAY#2008-01-11#-", store.Counts{"converted": 1, "revenue": 40865 - 20900 - 4194})
	e.wantCounts(t, store.ShopStatsPartition, "DAY#2024-04-02", store.Counts{"refunded": 20900 + 4194})
}
