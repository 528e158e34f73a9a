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
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// laterEvent is a generic webhook of a later event that carries only the
// order's id.
func laterEvent(deliveryID, typ, orderID string) []byte {
	return []byte(fmt.Sprintf(`{"id": %q, "type": %q, "occurred_at": "2026-11-22T10:00:00+09:00", "order": {"id": %q}}`, deliveryID, typ, orderID))
}

// ledgerOf reads a customer's ledger: its movement ids and balance.
func (e *env) ledgerOf(t *testing.T, customerID string) ([]string, loyalty.Balance) {
	t.Helper()
	ledger, err := e.store.Ledger(context.Background(), customerID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ledger {
		ids = append(ids, m.ID())
	}
	return ids, loyalty.BalanceOf(ledger)
}

// TestPointsFromGenericWebhooks runs generic deliveries through the real
// handler against the emulators, with the shipped loyalty.yaml (1 point
// per 100 yen of merchandise): the ledger item of an order appears once
// however often it is delivered, later events earn nothing more, a
// cancellation takes the points back in any order.
func TestPointsFromGenericWebhooks(t *testing.T) {
	tests := []struct {
		name       string
		deliveries func(orderID, to string) [][]byte
		want       []string
		balance    loyalty.Balance
	}{
		{name: "duplicate and repeated deliveries earn once",
			deliveries: func(id, to string) [][]byte {
				created := genericBody("evt-"+id, "order.created", id, to, true)
				return [][]byte{created, created, genericBody("evt-"+id+"-again", "order.created", id, to, true),
					laterEvent("evt-"+id+"-f", "order.fulfilled", id), laterEvent("evt-"+id+"-d", "order.delivered", id)}
			},
			want: []string{"earned#%s"}, balance: loyalty.Balance{Pending: 43}},
		{name: "a discount earns on what was paid for the products",
			deliveries: func(id, to string) [][]byte {
				return [][]byte{[]byte(strings.Replace(string(genericBody("evt-"+id, "order.created", id, to, true)), `"total": 4300`, `"total": 3870`, 1))}
			},
			want: []string{"earned#%s"}, balance: loyalty.Balance{Pending: 38}},
		{name: "shipping earns nothing",
			deliveries: func(id, to string) [][]byte {
				return [][]byte{[]byte(strings.Replace(string(genericBody("evt-"+id, "order.created", id, to, true)), `"total": 4300`, `"total": 5180`, 1))}
			},
			want: []string{"earned#%s"}, balance: loyalty.Balance{Pending: 43}},
		{name: "a cancellation takes the pending points back, once",
			deliveries: func(id, to string) [][]byte {
				cancel := laterEvent("evt-"+id+"-c", "order.cancelled", id)
				return [][]byte{genericBody("evt-"+id, "order.created", id, to, true), cancel, cancel, laterEvent("evt-"+id+"-c2", "order.cancelled", id)}
			},
			want: []string{"earned#%s", "reversed#%s#cancel"}, balance: loyalty.Balance{}},
		{name: "cancelled before it was created: nothing earned",
			deliveries: func(id, to string) [][]byte {
				return [][]byte{laterEvent("evt-"+id+"-c", "order.cancelled", id), genericBody("evt-"+id, "order.created", id, to, true)}
			},
			balance: loyalty.Balance{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := fmt.Sprintf("70%02d", i)
			for _, body := range tt.deliveries(id, testenv.UniqueEmail(t, "points")) {
				if status, a := e.do(t, genericRequest(body)); status != http.StatusOK || !a.Accepted {
					t.Fatalf("delivery = %d %+v", status, a)
				}
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, fmt.Sprintf(w, id))
			}
			ids, balance := e.ledgerOf(t, "c-"+id)
			if !slices.Equal(ids, want) || balance != tt.balance {
				t.Errorf("ledger %v, balance %+v; want %v, %+v", ids, balance, want, tt.balance)
			}
		})
	}
}

// TestPointsFromShopifyRefunds runs real Shopify bodies through the real
// handler: the edited and refunded order earns on its merchandise after
// discounts before refunds (587.00 USD, 1 point per 100 cents) and its
// refund of two lines (391.33) takes back its share, however often and in
// whatever order the refund is heard of; a refund of no merchandise takes
// nothing; a refund after approval takes approved points, down below zero
// when they were spent.
func TestPointsFromShopifyRefunds(t *testing.T) {
	const customerID, orderID = "207119551", "450789469"
	// The order as it stood before its refund: no refund listed, its
	// current subtotal still the whole merchandise.
	beforeRefund := func(b []byte) []byte {
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		doc["refunds"], doc["current_subtotal_price"] = []any{}, "587.00"
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	type step struct {
		file, topic string
		edit        func([]byte) []byte
		// approve and spend write the movements the scheduler and a
		// redemption will, before the delivery.
		approve bool
		spend   int64
	}
	tests := []struct {
		name    string
		steps   []step
		want    []string
		balance loyalty.Balance
	}{
		{name: "the order lists its refund; the refund again, twice",
			steps: []step{{file: "shopify-docs-orders-updated-edited-refunded-usd.json", topic: "orders/updated"},
				{file: "shopify-docs-refunds-create-usd.json", topic: "refunds/create"}, {file: "shopify-docs-refunds-create-usd.json", topic: "refunds/create"}},
			want:    []string{"earned#" + orderID, "reversed#" + orderID + "#refund#509562969"},
			balance: loyalty.Balance{Pending: 587 * 19567 / 58700}},
		{name: "the refund before its order",
			steps: []step{{file: "shopify-docs-refunds-create-usd.json", topic: "refunds/create"},
				{file: "shopify-docs-orders-updated-edited-refunded-usd.json", topic: "orders/updated"}},
			want:    []string{"earned#" + orderID, "reversed#" + orderID + "#refund#509562969"},
			balance: loyalty.Balance{Pending: 195}},
		{name: "a partial refund after approval and spending: negative",
			steps: []step{{file: "shopify-docs-orders-updated-edited-refunded-usd.json", topic: "orders/create", edit: beforeRefund},
				{file: "shopify-docs-refunds-create-usd.json", topic: "refunds/create", approve: true, spend: 500},
				{file: "shopify-docs-orders-updated-edited-refunded-usd.json", topic: "orders/updated"}},
			want:    []string{"approved#" + orderID, "earned#" + orderID, "reversed#" + orderID + "#refund#509562969", "spent#reward-1"},
			balance: loyalty.Balance{Approved: 195 - 500}},
	}
	shipped := shippedRules(t, true, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := *shipped
			set.Settings.Shop.Currency, set.Settings.Thresholds.Currency = "USD", "USD"
			e := newEnv(t)
			e.h = newHandlerWith(t, &set, e.h.Store.(*store.Store), testenv.SES())
			to := testenv.UniqueEmail(t, "refund")
			ctx := context.Background()
			for i, s := range tt.steps {
				if s.approve {
					mustPut(t, e, loyalty.Movement{CustomerID: customerID, Kind: loyalty.Approved, OrderID: orderID, At: fixedNow})
				}
				if s.spend > 0 {
					mustPut(t, e, loyalty.Movement{CustomerID: customerID, Kind: loyalty.Spent, Ref: "reward-1", Points: s.spend, At: fixedNow})
				}
				body := realBody(t, s.file, to)
				if s.edit != nil {
					body = s.edit(body)
				}
				status, a := e.do(t, shopifyRequest(s.topic, fmt.Sprintf("wh-points-%d", i), body))
				if status != http.StatusOK || !a.Accepted {
					t.Fatalf("%s %s = %d %+v", s.topic, s.file, status, a)
				}
			}
			if _, err := e.store.GetOrder(ctx, orderID); err != nil {
				t.Fatal(err)
			}
			ids, balance := e.ledgerOf(t, customerID)
			if !slices.Equal(ids, tt.want) || balance != tt.balance {
				t.Errorf("ledger %v, balance %+v; want %v, %+v", ids, balance, tt.want, tt.balance)
			}
		})
	}
}

func mustPut(t *testing.T, e *env, m loyalty.Movement) {
	t.Helper()
	if _, err := e.store.PutMovement(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// TestPointsCostTwoWritesPerOrder counts the DynamoDB writes of an
// order's life (created, fulfilled, delivered) with and without a points
// programme: exactly two more, the earned movement and the approval timer
// armed by the delivery.
func TestPointsCostTwoWritesPerOrder(t *testing.T) {
	withPoints := shippedRules(t, false, nil)
	withPoints.Loyalty.Referral = nil // its writes: TestReferralWritesPerOrder
	without := *withPoints
	without.Loyalty = nil
	writes := map[string]int{}
	for name, set := range map[string]*rules.Set{"with": withPoints, "without": &without} {
		var counter store.RequestCounter
		db := testenv.DynamoDB(func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter.Register) })
		h := newHandlerWith(t, set, store.New(db, testenv.NewTable(t)), testenv.SES())
		e := &env{h: h}
		for _, body := range [][]byte{genericBody("evt-w", "order.created", "7100", testenv.UniqueEmail(t, name), true),
			laterEvent("evt-w-f", "order.fulfilled", "7100"), laterEvent("evt-w-d", "order.delivered", "7100")} {
			if status, a := e.do(t, genericRequest(body)); status != http.StatusOK {
				t.Fatalf("%s points: %d %+v", name, status, a)
			}
		}
		for op, n := range counter.Snapshot() {
			if op == "PutItem" || op == "UpdateItem" || op == "DeleteItem" {
				writes[name] += n
			}
		}
	}
	if writes["with"] != writes["without"]+2 {
		t.Errorf("an order's life costs %d writes with points, %d without; want exactly 2 more", writes["with"], writes["without"])
	}
}

// acceptAll is a sender queue that takes every message.
type acceptAll struct{}

func (acceptAll) Send(_ context.Context, msgs []queue.Message) ([]bool, error) {
	ok := make([]bool, len(msgs))
	for i := range ok {
		ok[i] = true
	}
	return ok, nil
}

// TestPointsApprovedByTheScheduler runs generic deliveries through the
// real handler, then the scheduler's ticks with the scheduler function's
// permissions, against the emulators: the delivery arms one approval
// timer; a tick before the return window approves nothing, the tick at it
// approves once however often it runs; a cancellation before approval
// approves nothing; a refund after approval takes its share back, below
// zero when the points were spent.
func TestPointsApprovedByTheScheduler(t *testing.T) {
	delivered := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC) // laterEvent's occurred_at
	window := 14 * 24 * time.Hour
	tests := []struct {
		name       string
		deliveries func(orderID, to string) [][]byte
		due        time.Time
		// after writes movements after the approving ticks: a spending
		// and a refund.
		after   []loyalty.Movement
		want    []string
		balance loyalty.Balance
	}{
		{name: "delivered, duplicated: approved once at the window",
			deliveries: func(id, to string) [][]byte {
				d := laterEvent("evt-"+id+"-d", "order.delivered", id)
				return [][]byte{genericBody("evt-"+id, "order.created", id, to, true), d, d, laterEvent("evt-"+id+"-d2", "order.delivered", id)}
			},
			due: delivered.Add(window), want: []string{"approved#%s", "earned#%s"}, balance: loyalty.Balance{Approved: 43}},
		{name: "delivered before its details: the window counts from when they were heard of",
			deliveries: func(id, to string) [][]byte {
				return [][]byte{laterEvent("evt-"+id+"-d", "order.delivered", id), genericBody("evt-"+id, "order.created", id, to, true)}
			},
			due: fixedNow.Add(window), want: []string{"approved#%s", "earned#%s"}, balance: loyalty.Balance{Approved: 43}},
		{name: "cancelled before approval: nothing approved",
			deliveries: func(id, to string) [][]byte {
				return [][]byte{genericBody("evt-"+id, "order.created", id, to, true), laterEvent("evt-"+id+"-d", "order.delivered", id),
					laterEvent("evt-"+id+"-c", "order.cancelled", id)}
			},
			due: delivered.Add(window), want: []string{"earned#%s", "reversed#%s#cancel"}, balance: loyalty.Balance{}},
		{name: "refund after approval and spending: negative",
			deliveries: func(id, to string) [][]byte {
				return [][]byte{genericBody("evt-"+id, "order.created", id, to, true), laterEvent("evt-"+id+"-d", "order.delivered", id)}
			},
			after: []loyalty.Movement{{Kind: loyalty.Spent, Ref: "reward-1", Points: 40}, {Kind: loyalty.Reversed, Reason: loyalty.ReasonRefund, Ref: "r-1", Merchandise: 2150}},
			due:   delivered.Add(window), want: []string{"approved#%s", "earned#%s", "reversed#%s#refund#r-1", "spent#reward-1"},
			balance: loyalty.Balance{Approved: 21 - 40}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			id := fmt.Sprintf("71%02d", i)
			customerID := "c-" + id
			for _, body := range tt.deliveries(id, testenv.UniqueEmail(t, "approve")) {
				if status, a := e.do(t, genericRequest(body)); status != http.StatusOK || !a.Accepted {
					t.Fatalf("delivery = %d %+v", status, a)
				}
			}
			tm, err := e.store.GetTimer(ctx, store.PointsApprovalKey(id))
			if err != nil {
				t.Fatal(err)
			}
			if !tm.DueAt.Equal(tt.due) || tm.Status != store.TimerArmed {
				t.Fatalf("approval timer due %s, %s; want due %s, armed", tm.DueAt, tm.Status, tt.due)
			}
			ticker := &scheduler.Ticker{Store: store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), e.table), Queue: acceptAll{},
				Points: &loyalty.Steps{Ledger: store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), e.table)}, PageSize: 100}
			if _, err := ticker.Tick(ctx, tt.due.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			if ids, _ := e.ledgerOf(t, customerID); slices.Contains(ids, "approved#"+id) {
				t.Fatalf("approved before the return window passed: %v", ids)
			}
			for range 2 {
				if _, err := ticker.Tick(ctx, tt.due); err != nil {
					t.Fatal(err)
				}
			}
			// A retried approval (a tick that died before it marked the
			// timer fired) writes nothing more.
			if err := ticker.Points.Approve(ctx, customerID, id, tt.due, tm.ExpiresAt); err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.after {
				m.CustomerID, m.At = customerID, tt.due
				if m.Kind == loyalty.Reversed {
					m.OrderID = id
				}
				mustPut(t, e, m)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "%s", id))
			}
			ids, balance := e.ledgerOf(t, customerID)
			if !slices.Equal(ids, want) || balance != tt.balance {
				t.Errorf("ledger %v, balance %+v; want %v, %+v", ids, balance, want, tt.balance)
			}
			if tm, err := e.store.GetTimer(ctx, store.PointsApprovalKey(id)); err != nil || tm.Status != store.TimerFired {
				t.Errorf("approval timer %s, %v; want fired", tm.Status, err)
			}
		})
	}
}

// TestPointsExpireAfterMonthsWithoutAnOrder runs orders through the real
// handler and the scheduler's ticks against the emulators, with the
// shipped loyalty.yaml (approved points expire 12 months after the last
// order): the approval arms an expiry timer 12 months after the order was
// placed; it expires the approved points once however often it runs,
// unless a later order (not cancelled) came since.
func TestPointsExpireAfterMonthsWithoutAnOrder(t *testing.T) {
	placed := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC) // genericBody's occurred_at
	expires := placed.AddDate(1, 0, 0)
	tests := []struct {
		name string
		// later is the deliveries of the customer's second order, placed
		// after the first was approved.
		later   func(first, second, to string) [][]byte
		want    []string
		balance loyalty.Balance
	}{
		{name: "no later order: the approved points expire once",
			want: []string{"approved#%[1]s", "earned#%[1]s", "expired#%[1]s"}, balance: loyalty.Balance{}},
		{name: "a later order keeps them",
			later: func(first, second, to string) [][]byte {
				return [][]byte{secondOrder(first, second, to, "order.created")}
			},
			want: []string{"approved#%[1]s", "earned#%[1]s", "earned#%[2]s"}, balance: loyalty.Balance{Approved: 43, Pending: 43}},
		{name: "a later order cancelled does not keep them",
			later: func(first, second, to string) [][]byte {
				return [][]byte{secondOrder(first, second, to, "order.created"), laterEvent("evt-"+second+"-c", "order.cancelled", second)}
			},
			want: []string{"approved#%[1]s", "earned#%[1]s", "earned#%[2]s", "expired#%[1]s", "reversed#%[2]s#cancel"}, balance: loyalty.Balance{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			first, second := fmt.Sprintf("72%02d", i), fmt.Sprintf("73%02d", i)
			customerID, to := "c-"+first, testenv.UniqueEmail(t, "expiry")
			for _, body := range [][]byte{genericBody("evt-"+first, "order.created", first, to, true), laterEvent("evt-"+first+"-d", "order.delivered", first)} {
				if status, a := e.do(t, genericRequest(body)); status != http.StatusOK || !a.Accepted {
					t.Fatalf("delivery = %d %+v", status, a)
				}
			}
			sched := store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), e.table)
			ticker := &scheduler.Ticker{Store: sched, Queue: acceptAll{}, Points: &loyalty.Steps{Ledger: sched}, PageSize: 100}
			approval, err := e.store.GetTimer(ctx, store.PointsApprovalKey(first))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ticker.Tick(ctx, approval.DueAt); err != nil {
				t.Fatal(err)
			}
			tm, err := e.store.GetTimer(ctx, store.PointsExpiryKey(first))
			if err != nil {
				t.Fatal(err)
			}
			if !tm.DueAt.Equal(expires) {
				t.Fatalf("expiry timer due %s, want %s", tm.DueAt, expires)
			}
			if tt.later != nil {
				for _, body := range tt.later(first, second, to) {
					if status, a := e.do(t, genericRequest(body)); status != http.StatusOK || !a.Accepted {
						t.Fatalf("later delivery = %d %+v", status, a)
					}
				}
			}
			if _, err := ticker.Tick(ctx, expires.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			if ids, _ := e.ledgerOf(t, customerID); slices.Contains(ids, "expired#"+first) {
				t.Fatalf("expired before the months passed: %v", ids)
			}
			for range 2 {
				if _, err := ticker.Tick(ctx, expires); err != nil {
					t.Fatal(err)
				}
			}
			if err := ticker.Points.Expire(ctx, customerID, first, expires); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, fmt.Sprintf(w, first, second))
			}
			ids, balance := e.ledgerOf(t, customerID)
			if !slices.Equal(ids, want) || balance != tt.balance {
				t.Errorf("ledger %v, balance %+v; want %v, %+v", ids, balance, want, tt.balance)
			}
		})
	}
}

// secondOrder is a generic webhook of the first order's customer's second
// order, placed four months after the first.
func secondOrder(first, second, to, typ string) []byte {
	b := string(genericBody("evt-"+second, typ, second, to, true))
	b = strings.Replace(b, `"id": "c-`+second+`"`, `"id": "c-`+first+`"`, 1)
	return []byte(strings.Replace(b, "2026-11-21T09:30:00+09:00", "2027-03-21T09:30:00+09:00", 1))
}
