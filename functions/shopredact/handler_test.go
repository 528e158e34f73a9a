package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	t0          = time.Date(2026, 11, 1, 0, 30, 0, 0, time.UTC)
	requestedAt = time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	thresholds  = customer.Thresholds{Currency: "JPY", RecencyDays: [4]int{30, 60, 90, 180}, FrequencyOrders: [4]int{2, 3, 5, 10},
		Monetary: [4]int64{5000, 10000, 30000, 100000}, LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180}
)

// person is the personal data seeded for one customer.
type person struct{ id, email, name, line, birthday string }

// seedShop stores n customers as the functions would: each with an order,
// contact details, birthday, consent and a linked LINE user (every third
// with an account-link nonce it spent, every fourth with a data export
// kept for the shop), plus a LINE link of a customer tsunagu never got an
// order from. It returns the personal data stored.
func seedShop(t *testing.T, st *store.Store, n int) []person {
	t.Helper()
	ctx := context.Background()
	var people []person
	for i := range n {
		p := person{id: fmt.Sprintf("7%05d", i), email: fmt.Sprintf("buyer%d@example.jp", i), name: fmt.Sprintf("購入者 %d号", i),
			line: fmt.Sprintf("U%032d", i), birthday: "04-12"}
		people = append(people, p)
		ev := order.Event{DeliveryID: "d-" + p.id, Source: "shopify", Type: order.Created, OccurredAt: t0, Order: order.Order{
			ID: "o-" + p.id, Currency: "JPY", Total: 4300, PlacedAt: t0,
			Customer: &order.Customer{ID: p.id, Email: p.email, Name: p.name, LineUserID: p.line, Birthday: p.birthday,
				Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:shopify", At: t0}},
			Items: []order.Item{{SKU: "TEA-SENCHA", Name: "宇治煎茶", Category: "tea", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2}},
		}}
		os, err := st.ApplyOrderEvent(ctx, ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateProfile(ctx, p.id, func(pr *customer.Profile) bool {
			return pr.ApplyDelivery(ev.Order.Customer, os.Order, os.Status, ev.OccurredAt, thresholds)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.LinkLineUser(ctx, p.line, p.id, t0); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			nonce := fmt.Sprintf("NONCE%021d", i)
			if err := st.IssueLinkNonce(ctx, store.LinkNonce{Nonce: nonce, CustomerID: p.id, IssuedAt: t0}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SpendLinkNonce(ctx, nonce, p.line, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			if _, err := st.SaveExport(ctx, store.ExportRecord{RequestID: "req-" + p.id, CustomerID: p.id, RequestedAt: t0, Content: []byte(p.email)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ghost := person{id: "c-ghost", line: "U0000000000000000000000000ghost0"}
	if _, err := st.LinkLineUser(ctx, ghost.line, ghost.id, t0); err != nil {
		t.Fatal(err)
	}
	return append(people, ghost)
}

// refusing is a DynamoDB client under ShopRedactFunction's policy that
// refuses the nth call of one operation (as "DeleteItemInput") and counts
// the Scans it was asked for.
func refusing(t *testing.T, op string, nth int64, scans *atomic.Int64) *dynamodb.Client {
	var calls atomic.Int64
	fail := middleware.InitializeMiddlewareFunc("RefuseNth", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		name := fmt.Sprintf("%T", in.Parameters)
		if name == "*dynamodb.ScanInput" {
			scans.Add(1)
		}
		if name == "*dynamodb."+op+"Input" && calls.Add(1) == nth {
			return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("%s: connection reset (injected)", op)
		}
		return next.HandleInitialize(ctx, in)
	})
	return testenv.DynamoDBAs(t, "ShopRedactFunction", func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Initialize.Add(fail, middleware.After) })
	})
}

// TestShopRedactionErasesEveryCustomer: after a shop/redact, the job
// leaves no email address, name, LINE user id or birthday anywhere in the
// table, keeps the anonymous counts, resumes where a failed run stopped,
// and reads nothing once nothing is pending.
func TestShopRedactionErasesEveryCustomer(t *testing.T) {
	table := testenv.NewTable(t)
	st, ctx := store.New(testenv.DynamoDB(), table), context.Background()
	people := seedShop(t, st, 24)
	if first, err := st.RecordShopRedaction(ctx, store.ShopRedaction{ShopID: "954889", ShopDomain: "tsubaki-chaen.myshopify.com", RequestedAt: requestedAt}); err != nil || !first {
		t.Fatalf("RecordShopRedaction = %v, %v", first, err)
	}
	job := func(db *dynamodb.Client) *Handler {
		return &Handler{Store: store.New(db, table), Segments: 3, PageSize: 5, Margin: time.Second, Now: func() time.Time { return requestedAt.Add(time.Hour) }}
	}

	// A run that fails part way (the 20th delete refused) saves how far
	// each segment got, and finishes nothing.
	var scans atomic.Int64
	if _, err := job(refusing(t, "DeleteItem", 20, &scans)).Handle(ctx, json.RawMessage(`{"time": "2026-11-23T01:15:00Z"}`)); err == nil {
		t.Fatal("the failing run reported success")
	}
	pending, err := st.PendingShopRedactions(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending after the failed run = %+v, %v; want the request still pending", pending, err)
	}
	progress := 0
	for seg := range 3 {
		cp, err := st.ShopRedactionCheckpoint(ctx, pending[0], seg)
		if err != nil {
			t.Fatal(err)
		}
		progress += cp.Erased
	}
	if progress == 0 {
		t.Error("the failed run kept no progress")
	}

	// The next run takes it up and finishes.
	scansBefore := scans.Load()
	res, err := job(refusing(t, "DeleteItem", -1, &scans)).Handle(ctx, json.RawMessage(`{"time": "2026-11-23T01:30:00Z"}`))
	if err != nil || res != (Result{Pending: 1, Finished: 1, Erased: 24}) {
		t.Fatalf("second run = %+v, %v; want 24 profiles erased and the request finished", res, err)
	}
	t.Logf("the failed run kept %d profiles of progress; the second run needed %d scan pages", progress, scans.Load()-scansBefore)

	for _, item := range testenv.Snapshot(t, table) {
		for _, p := range people {
			for _, secret := range []string{p.email, p.name, p.line} {
				if secret != "" && strings.Contains(item, secret) {
					t.Errorf("%q still stored in %.300s", secret, item)
				}
			}
		}
		for _, kind := range []string{`"pk":"EXPORT#`, `"pk":"LINEUSER#`, `"pk":"LINKNONCE#`, `"birthday":`, `"email":`, `"name":"購入者`, `"line_user_id":"U`} {
			if strings.Contains(item, kind) {
				t.Errorf("%s still stored: %.300s", kind, item)
			}
		}
	}
	for _, p := range people[:len(people)-1] {
		pr, err := st.GetProfile(ctx, p.id)
		if err != nil || pr.OrderCount != 1 || pr.TotalSpent != 4300 || pr.CategoryCounts["tea"] != 2 || !pr.ErasedAt.Equal(requestedAt) {
			t.Errorf("profile %s after the shop redaction: %d orders, %d spent, %v, erased at %v, %v; want the counts kept", p.id, pr.OrderCount, pr.TotalSpent, pr.CategoryCounts, pr.ErasedAt, err)
		}
	}
	r, err := st.GetShopRedaction(ctx, "954889")
	if err != nil || r.FinishedAt.IsZero() || r.Erased != 24 {
		t.Errorf("the request after the job = %+v, %v; want finished with 24 erased", r, err)
	}

	// Nothing pending: a run reads the pending index and nothing else.
	scansBefore = scans.Load()
	if res, err := job(refusing(t, "DeleteItem", -1, &scans)).Handle(ctx, nil); err != nil || res != (Result{}) || scans.Load() != scansBefore {
		t.Errorf("run with nothing pending = %+v, %v, %d scans; want nothing read but the index", res, err, scans.Load()-scansBefore)
	}
}
