package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

// testReferrals is the referral step as main wires it, keyed by the test
// secret.
func testReferrals(st *store.Store, set *rules.Set) *referral.Steps {
	coder, _ := referral.NewCoder(secret)
	return &referral.Steps{Store: st, Coder: coder, Rules: set}
}

// testCode is a customer's referral code under the test secret.
func testCode(customerID string) string {
	coder, _ := referral.NewCoder(secret)
	return coder.Code(customerID)
}

// refBuyer is who places a generic order in the referral tests.
type refBuyer struct {
	id, email, phone, address, line string
	consents                        bool
}

// refOrder is one generic delivery of the referral tests: an order placed
// at (shop time, November 2026) by a buyer, carrying a code in
// referral_code or, when inCoupons, among coupon_codes.
type refOrder struct {
	delivery, typ, orderID, at string
	buyer                      refBuyer
	code                       string
	inCoupons                  bool
}

func (o refOrder) body() []byte {
	cust := map[string]any{"id": o.buyer.id, "email": o.buyer.email, "name": "高橋 美咲", "accepts_marketing": o.buyer.consents}
	if o.buyer.phone != "" {
		cust["phone"] = o.buyer.phone
	}
	if o.buyer.line != "" {
		cust["line_user_id"] = o.buyer.line
	}
	ord := map[string]any{"id": o.orderID, "currency": "JPY", "total": 4300, "placed_at": o.at, "customer": cust,
		"items":        []map[string]any{{"sku": "SWEET-YOKAN", "name": "本練羊羹", "category": "sweets", "price": 2150, "quantity": 2}},
		"coupon_codes": []string{}}
	if o.buyer.address != "" {
		ord["shipping_address"] = map[string]any{"zip": "150-0041", "province": "東京都", "city": "渋谷区", "address1": o.buyer.address}
	}
	switch {
	case o.code != "" && o.inCoupons:
		ord["coupon_codes"] = []string{"WELCOME10", o.code}
	case o.code != "":
		ord["referral_code"] = o.code
	}
	typ := o.typ
	if typ == "" {
		typ = "order.created"
	}
	b, _ := json.Marshal(map[string]any{"id": o.delivery, "type": typ, "occurred_at": o.at, "order": ord})
	return b
}

// The advocate of the referral tests and a friend who shares nothing
// with them.
var (
	advocate = refBuyer{id: "c-adv", email: "misaki@example.jp", phone: "090-1234-5678", address: "神南1-2-3 椿ビル2F", line: "U" + strings.Repeat("a", 32)}
	friend   = refBuyer{id: "c-friend", email: "haruto@example.jp", phone: "080-9876-5432", address: "宇田川町4-5-6", line: "U" + strings.Repeat("b", 32)}
)

// with returns b with some of its details changed.
func (b refBuyer) with(change func(*refBuyer)) refBuyer { change(&b); return b }

// TestReferralFraudChecks runs friends' orders through the real handler
// against the emulators (the function's template grants), after the
// advocate's first order, and checks the referral recorded for the
// target order: its status and reason, or none.
func TestReferralFraudChecks(t *testing.T) {
	code := testCode(advocate.id)
	placed := refOrder{delivery: "evt-adv-1", orderID: "A1", at: "2026-11-10T10:00:00+09:00", buyer: advocate}
	tests := []struct {
		name       string
		maxPerWeek int // 0: the shipped rules
		orders     []refOrder
		target     string
		status     referral.Status // "": no referral
		reason     string
	}{
		{name: "a new friend with the code as referral_code", target: "F1", status: referral.Pending, reason: referral.ReasonFirstOrder,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code}}},
		{name: "the code typed loosely among discount codes", target: "F1", status: referral.Pending, reason: referral.ReasonFirstOrder,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: strings.ToLower(strings.ReplaceAll(code, "-", " ")), inCoupons: true}}},
		{name: "retried and duplicated, recorded once", target: "F1", status: referral.Pending, reason: referral.ReasonFirstOrder,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code},
				{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code},
				{delivery: "evt-f1-again", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code}}},
		{name: "the advocate's own code", target: "A2", status: referral.Refused, reason: referral.ReasonSameCustomer,
			orders: []refOrder{{delivery: "evt-a2", orderID: "A2", at: "2026-11-20T10:00:00+09:00", buyer: advocate, code: code}}},
		{name: "another account, the advocate's email with a +tag", target: "F1", status: referral.Refused, reason: referral.ReasonSameEmail,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend.with(func(b *refBuyer) { b.email = "Misaki+2@Example.JP" }), code: code}}},
		{name: "the advocate's phone written with +81", target: "F1", status: referral.Refused, reason: referral.ReasonSamePhone,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend.with(func(b *refBuyer) { b.phone = "+81 90 1234 5678" }), code: code}}},
		{name: "the advocate's address in full-width without spaces", target: "F1", status: referral.Refused, reason: referral.ReasonSameAddress,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend.with(func(b *refBuyer) { b.address = "神南１－２－３椿ビル２Ｆ" }), code: code}}},
		{name: "the advocate's LINE user", target: "F1", status: referral.Refused, reason: referral.ReasonSameLineUser,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend.with(func(b *refBuyer) { b.line = advocate.line }), code: code}}},
		{name: "a friend who ordered before", target: "F1", status: referral.Refused, reason: referral.ReasonNotNew,
			orders: []refOrder{{delivery: "evt-f0", orderID: "F0", at: "2026-11-12T10:00:00+09:00", buyer: friend},
				{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code}}},
		{name: "the code again on the friend's earlier order, delivered late", target: "F1", status: referral.Refused, reason: referral.ReasonCodeUsed,
			orders: []refOrder{{delivery: "evt-f2", orderID: "F2", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code},
				{delivery: "evt-f1", orderID: "F1", at: "2026-11-18T10:00:00+09:00", buyer: friend, code: code}}},
		{name: "over max_per_week goes to review", maxPerWeek: 1, target: "G2", status: referral.Review, reason: referral.ReasonWeeklyLimit,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-17T10:00:00+09:00", buyer: friend, code: code},
				{delivery: "evt-g2", orderID: "G2", at: "2026-11-20T10:00:00+09:00", buyer: refBuyer{id: "c-g2", email: "g2@example.jp"}, code: code}}},
		{name: "a week later the count starts again", maxPerWeek: 1, target: "G2", status: referral.Pending, reason: referral.ReasonFirstOrder,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-13T10:00:00+09:00", buyer: friend, code: code},
				{delivery: "evt-g2", orderID: "G2", at: "2026-11-20T10:00:00+09:00", buyer: refBuyer{id: "c-g2", email: "g2@example.jp"}, code: code}}},
		{name: "cancelled after it was recorded", target: "F1", status: referral.Cancelled, reason: referral.ReasonCancelled,
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code},
				{delivery: "evt-f1-x", typ: "order.cancelled", orderID: "F1", at: "2026-11-20T12:00:00+09:00", buyer: friend}}},
		{name: "cancelled before its creation arrived", target: "F1", status: referral.Cancelled, reason: referral.ReasonCancelled,
			orders: []refOrder{{delivery: "evt-f1-x", typ: "order.cancelled", orderID: "F1", at: "2026-11-20T12:00:00+09:00", buyer: friend},
				{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code}}},
		{name: "a code no customer has", target: "F1",
			orders: []refOrder{{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: testCode("c-nobody")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.maxPerWeek > 0 {
				set := *e.h.Rules
				loyalty := *set.Loyalty
				programme := *loyalty.Referral
				programme.MaxPerWeek = tt.maxPerWeek
				loyalty.Referral, set.Loyalty = &programme, &loyalty
				e.h = newHandlerWith(t, &set, e.h.Store.(*store.Store), testenv.SES())
			}
			for _, o := range append([]refOrder{placed}, tt.orders...) {
				if status, a := e.do(t, genericRequest(o.body())); status != http.StatusOK || !a.Accepted {
					t.Fatalf("%s %s = %d %+v, want 200", o.typ, o.orderID, status, a)
				}
			}
			ctx := context.Background()
			r, found, err := e.store.GetReferral(ctx, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if found != (tt.status != "") || r.Status != tt.status || r.Reason != tt.reason {
				t.Fatalf("referral of %s = %+v (found %v), want %q %q", tt.target, r, found, tt.status, tt.reason)
			}
			if found && (r.AdvocateID != advocate.id || r.Code != code) {
				t.Errorf("referral of %s names advocate %s code %s, want %s %s", tt.target, r.AdvocateID, r.Code, advocate.id, code)
			}
			// Every buyer has a code; no referral item keeps a contact detail.
			for _, id := range []string{advocate.id, tt.orders[0].buyer.id} {
				if owner, ok, err := e.store.CodeOwner(ctx, testCode(id)); err != nil || !ok || owner.CustomerID != id {
					t.Errorf("code of %s: %+v %v %v", id, owner, ok, err)
				}
			}
			for _, item := range testenv.Snapshot(t, e.table) {
				if !strings.Contains(item, `"pk":"REF`) {
					continue
				}
				for _, pii := range []string{"@example.jp", "1234", "神南", "宇田川", advocate.line, friend.line} {
					if strings.Contains(item, pii) {
						t.Errorf("a referral item keeps %q: %.300s", pii, item)
					}
				}
			}
		})
	}
}

// shopifyWithRef is a real Shopify body (see realBody) whose landing site
// carries a referral code, as the referral link leaves it.
func shopifyWithRef(t *testing.T, name, to, code string) []byte {
	t.Helper()
	s := string(realBody(t, name, to))
	const landing = `utm_medium=Social"`
	if !strings.Contains(s, landing) {
		t.Fatalf("%s: no landing site to add ?ref= to", name)
	}
	return []byte(strings.Replace(s, landing, `utm_medium=Social&ref=`+code+`"`, 1))
}

// TestReferralFromShopify runs real Shopify bodies through the real
// handler: a friend arriving by the referral link (landing_site ?ref=) is
// recorded pending; two real buyers of one shop with the same phone
// number are refused as one person.
func TestReferralFromShopify(t *testing.T) {
	tests := []struct {
		name, advocateBody, advocateID string
		status                         referral.Status
		reason                         string
	}{
		{"a Hong Kong buyer refers an Indonesian one", "membi-orders-create-hkd.json", "8658316394796", referral.Pending, referral.ReasonFirstOrder},
		{"two buyers of one shop with one phone number", "doa-orders-create-empty-sku-idr.json", "6073220694261", referral.Refused, referral.ReasonSamePhone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for i, req := range [][]byte{
				realBody(t, tt.advocateBody, testenv.UniqueEmail(t, "advocate")),
				shopifyWithRef(t, "doa-orders-create-idr.json", testenv.UniqueEmail(t, "friend"), testCode(tt.advocateID)),
			} {
				if status, a := e.do(t, shopifyRequest("orders/create", "wh-ref-"+string(rune('a'+i)), req)); status != http.StatusOK || !a.Accepted {
					t.Fatalf("delivery %d = %d %+v", i, status, a)
				}
			}
			r, found, err := e.store.GetReferral(context.Background(), "4674447573237")
			if err != nil || !found || r.Status != tt.status || r.Reason != tt.reason || r.AdvocateID != tt.advocateID || r.FriendID != "6076877373685" {
				t.Errorf("referral = %+v (found %v, %v), want %s %s from %s", r, found, err, tt.status, tt.reason, tt.advocateID)
			}
		})
	}
}

// TestReferralWritesPerOrder counts the DynamoDB writes the referral
// programme adds to orders (the shipped rules with and without its
// section): a customer's first order writes the code's entry once, a
// later order from the same details writes nothing more, and a friend's
// order with a code adds its use, the advocate's week and the referral.
func TestReferralWritesPerOrder(t *testing.T) {
	with := shippedRules(t, false, nil)
	withoutLoyalty := *with.Loyalty
	withoutLoyalty.Referral = nil
	without := *with
	without.Loyalty = &withoutLoyalty
	code := testCode(advocate.id)
	steps := []struct {
		name  string
		order refOrder
		added int
	}{
		{"the advocate's first order", refOrder{delivery: "evt-a1", orderID: "A1", at: "2026-11-10T10:00:00+09:00", buyer: advocate}, 1},
		{"the advocate's second order, same details", refOrder{delivery: "evt-a2", orderID: "A2", at: "2026-11-12T10:00:00+09:00", buyer: advocate}, 0},
		{"a friend's first order with the code", refOrder{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: friend, code: code}, 4},
	}
	writes := map[string][]int{}
	for name, set := range map[string]*rules.Set{"with": with, "without": &without} {
		var counter store.RequestCounter
		db := testenv.DynamoDB(func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter.Register) })
		e := &env{h: newHandlerWith(t, set, store.New(db, testenv.NewTable(t)), testenv.SES())}
		last := 0
		for _, s := range steps {
			if status, a := e.do(t, genericRequest(s.order.body())); status != http.StatusOK {
				t.Fatalf("%s, %s: %d %+v", name, s.name, status, a)
			}
			n := 0
			for op, c := range counter.Snapshot() {
				if op == "PutItem" || op == "UpdateItem" || op == "DeleteItem" {
					n += c
				}
			}
			writes[name] = append(writes[name], n-last)
			last = n
		}
	}
	for i, s := range steps {
		if added := writes["with"][i] - writes["without"][i]; added != s.added {
			t.Errorf("%s: the referral programme adds %d writes, want %d", s.name, added, s.added)
		}
	}
}

// withCodeNoRefunds is a real Shopify order body (see realBody) as the
// shop sends it before any refund: its refunds list emptied, and the
// advocate's code in place of its discount code, as the friend typed it
// at checkout.
func withCodeNoRefunds(t *testing.T, name, to, code string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(realBody(t, name, to), &doc); err != nil {
		t.Fatal(err)
	}
	doc["refunds"] = []any{}
	doc["discount_codes"] = []any{map[string]any{"code": code, "amount": "10.00", "type": "fixed_amount"}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReferralRefunded runs Shopify's documented order 450789469 with a
// referral code as its discount code, then its documented refund
// (refunds/create): the pending referral is cancelled with the reason
// order_refunded; the refund delivered again changes nothing.
func TestReferralRefunded(t *testing.T) {
	e := newEnv(t)
	code := testCode("8658316394796")
	deliveries := []struct{ topic, id string }{{"orders/create", "wh-adv"}, {"orders/updated", "wh-friend"}, {"refunds/create", "wh-refund"}, {"refunds/create", "wh-refund-again"}}
	bodies := [][]byte{
		realBody(t, "membi-orders-create-hkd.json", testenv.UniqueEmail(t, "advocate")),
		withCodeNoRefunds(t, "shopify-docs-orders-updated-edited-refunded-usd.json", testenv.UniqueEmail(t, "friend"), code),
		realBody(t, "shopify-docs-refunds-create-usd.json", ""),
		realBody(t, "shopify-docs-refunds-create-usd.json", ""),
	}
	want := []referral.Status{"", referral.Pending, referral.Cancelled, referral.Cancelled}
	for i, d := range deliveries {
		if status, a := e.do(t, shopifyRequest(d.topic, d.id, bodies[i])); status != http.StatusOK || !a.Accepted {
			t.Fatalf("%s = %d %+v", d.topic, status, a)
		}
		r, _, err := e.store.GetReferral(context.Background(), "450789469")
		if err != nil || r.Status != want[i] {
			t.Fatalf("after %s: referral %+v, %v; want %q", d.topic, r, err, want[i])
		}
		if r.Status == referral.Cancelled && r.Reason != referral.ReasonRefunded {
			t.Errorf("cancelled for %q, want %q", r.Reason, referral.ReasonRefunded)
		}
	}
}

// TestReferralRewardedAfterTheReturnWindow: a friend's referred order,
// delivered, rewards its advocate when the scheduler's tick finds the
// order's return window passed (the points approval timer), once however
// often the tick runs, under the scheduler function's template grants;
// before the window, nothing.
func TestReferralRewardedAfterTheReturnWindow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := testCode(advocate.id)
	// The friend consents to marketing, so the referral.friend_ordered
	// campaign (referral-welcome: the next day at 10:00) waits for them.
	consenting := friend.with(func(b *refBuyer) { b.consents = true })
	welcome := 0
	for _, o := range []refOrder{
		{delivery: "evt-adv-1", orderID: "A1", at: "2026-11-10T10:00:00+09:00", buyer: advocate},
		{delivery: "evt-f1", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: consenting, code: code},
		{delivery: "evt-f1-again", orderID: "F1", at: "2026-11-20T10:00:00+09:00", buyer: consenting, code: code}, // the shop re-sends it
		{delivery: "evt-f1-d", typ: "order.delivered", orderID: "F1", at: "2026-11-22T10:00:00+09:00", buyer: consenting},
	} {
		status, a := e.do(t, genericRequest(o.body()))
		if status != http.StatusOK || !a.Accepted {
			t.Fatalf("%s %s = %d %+v", o.typ, o.orderID, status, a)
		}
		for _, m := range a.Messages {
			if m.Campaign == "referral-welcome" && m.Status == "wait" {
				welcome++
			}
		}
	}
	if welcome < 1 {
		t.Fatal("the friend's first order with the code did not start the referral.friend_ordered campaign")
	}
	wait, err := e.store.GetTimer(ctx, campaign.TimerKey("referral-welcome", "referral:F1:referral.friend_ordered", friend.id, "delay"))
	if err != nil || wait.Status != store.TimerArmed || wait.DueAt.UTC().Hour() != 1 || wait.CustomerID != friend.id {
		t.Fatalf("the welcome's wait = %+v, %v; want the friend's, armed for 10:00 shop time", wait, err)
	}
	tm, err := e.store.GetTimer(ctx, store.PointsApprovalKey("F1"))
	if err != nil {
		t.Fatal(err)
	}
	scheduled := store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), e.table)
	coupons, _ := coupon.NewCoder(secret)
	ticker := &scheduler.Ticker{Store: scheduled, Queue: acceptAll{}, PageSize: 100,
		Points: referral.AfterReturnWindow{Points: &loyalty.Steps{Ledger: scheduled}, Referrals: &referral.Approver{Store: scheduled, Coupons: coupons, Rules: e.h.Rules}}}
	rewarded := func() (referral.Status, []string) {
		t.Helper()
		r, _, err := e.store.GetReferral(ctx, "F1")
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := e.ledgerOf(t, advocate.id)
		return r.Status, ids
	}
	isReward := func(id string) bool { return strings.HasPrefix(id, string(loyalty.Adjusted)+"#") }
	if _, err := ticker.Tick(ctx, tm.DueAt.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if status, ids := rewarded(); status != referral.Pending || slices.ContainsFunc(ids, isReward) {
		t.Fatalf("before the window: %s, advocate's ledger %v", status, ids)
	}
	for range 2 {
		if _, err := ticker.Tick(ctx, tm.DueAt); err != nil {
			t.Fatal(err)
		}
	}
	status, ids := rewarded()
	rewards := 0
	for _, id := range ids {
		if isReward(id) {
			rewards++
		}
	}
	if status != referral.Rewarded || rewards != 1 {
		t.Errorf("after the window: %s, advocate's ledger %v; want rewarded with one reward movement", status, ids)
	}
	if _, b := e.ledgerOf(t, advocate.id); b.Approved < 500 {
		t.Errorf("advocate's balance %+v, want the 500-point reward approved", b)
	}
	// The advocate is told by the referral.reward_approved campaigns,
	// through the sender: one timer, for the advocate, due at once (the
	// second tick handed it to the sender's queue).
	notice, err := e.store.GetTimer(ctx, "referral-reward#F1")
	if err != nil || notice.Status != store.TimerFired || notice.CustomerID != advocate.id || notice.Trigger != string(rules.TriggerReferralRewarded) ||
		!notice.DueAt.Equal(tm.DueAt) {
		t.Errorf("reward notice timer = %+v, %v", notice, err)
	}
}

// TestNotDeliveredCase: a shipped order not reported delivered
// support.not_delivered_after later is a support case, opened once by the
// scheduler's tick (its template grants); one delivered in time, or
// cancelled, is not.
func TestNotDeliveredCase(t *testing.T) {
	tests := []struct {
		name  string
		after []string // event types after the fulfilment
		want  bool
	}{
		{"shipped, never delivered", nil, true},
		{"shipped, then delivered", []string{"order.delivered"}, false},
		{"shipped, then cancelled", []string{"order.cancelled"}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			id := fmt.Sprintf("72%02d", i)
			bodies := [][]byte{genericBody("evt-"+id, "order.created", id, testenv.UniqueEmail(t, "ship"), true), laterEvent("evt-"+id+"-f", "order.fulfilled", id)}
			for j, typ := range tt.after {
				bodies = append(bodies, laterEvent(fmt.Sprintf("evt-%s-%d", id, j), typ, id))
			}
			for _, body := range bodies {
				if status, a := e.do(t, genericRequest(body)); status != http.StatusOK || !a.Accepted {
					t.Fatalf("delivery = %d %+v", status, a)
				}
			}
			tm, err := e.store.GetTimer(ctx, "delivery-watch#"+id)
			if err != nil {
				t.Fatal(err)
			}
			scheduled := store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), e.table)
			set := e.h.Rules
			ticker := &scheduler.Ticker{Store: scheduled, Queue: acceptAll{}, PageSize: 100, Points: &loyalty.Steps{Ledger: scheduled},
				Deliveries: &support.Watch{Store: scheduled, Cases: &support.Opener{Store: scheduled, CoolingOff: set.Settings.Support.CoolingOff}, After: set.Settings.Support.NotDeliveredAfter}}
			for _, at := range []time.Time{tm.DueAt.Add(-time.Second), tm.DueAt, tm.DueAt} {
				if _, err := ticker.Tick(ctx, at); err != nil {
					t.Fatal(err)
				}
			}
			cases, err := e.store.OpenCases(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cases) == 1 && cases[0].ID == "not_delivered#"+id && cases[0].OrderID == id; got != tt.want || len(cases) > 1 {
				t.Errorf("cases %+v, want a not-delivered case: %v", cases, tt.want)
			}
		})
	}
}
