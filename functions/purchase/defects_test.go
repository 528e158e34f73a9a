package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// wholesaleOrder is a Shopify orders/create of n lines, each a product of
// the wholesale catalogue a B2B buyer re-orders (real-looking SKUs of about
// 35 bytes), for Shopify customer 88001.
func wholesaleOrder(id, n int) []byte {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"sku":"WHOLESALE-SENCHA-GREEN-TEA-100G-%04d","name":"煎茶%d","price":"1","quantity":1}`, i, i)
	}
	return []byte(fmt.Sprintf(`{"id":%d,"email":"buyer@wholesale.example.jp","created_at":"2026-11-%02dT09:30:00+09:00","currency":"JPY","total_price":"%d",
"customer":{"id":88001,"email":"buyer@wholesale.example.jp","first_name":"一郎","last_name":"卸"},
"line_items":[%s],"discount_codes":[]}`, id, 1+id%20, n, strings.Join(lines, ",")))
}

// TestProfileBoundedBySizeNotOnlyByOrderCount: the profile is bounded by
// the number of orders it lists (100), not by its size. Each listed order
// keeps its SKU set, so a wholesale customer who re-orders a 1,000-line
// order (order.MaxLines, accepted) pushes the profile past DynamoDB's
// 400 KB after about a dozen orders; from then on every order of that
// customer is refused with 400 ("ValidationException"), for good, and the
// order item is written but never counted in the profile.
func TestProfileBoundedBySizeNotOnlyByOrderCount(t *testing.T) {
	if testing.Short() {
		t.Skip("large orders")
	}
	e := newEnv(t)
	const orders = 14
	for i := range orders {
		body := wholesaleOrder(9100+i, order.MaxLines)
		resp, err := e.h.Handle(context.Background(), shopifyRequest("orders/create", fmt.Sprintf("wh-bulk-%d", i), body))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("order %d of a wholesale customer (each %d lines, as accepted before): %d %.400s", i+1, order.MaxLines, resp.StatusCode, resp.Body)
		}
	}
	p, err := e.store.GetProfile(context.Background(), "88001")
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != orders {
		t.Errorf("profile counts %d orders, want %d", p.OrderCount, orders)
	}
}

// TestErasureOfUnknownCustomerLeavesNoTombstone: a customers/redact for a
// customer tsunagu holds no profile of (the order deliveries failed, or
// came later, or the app was installed after) erases nothing and records
// nothing, so a captured orders/create of an order placed before the
// erasure, replayed (or delivered late) afterwards, stores the erased
// customer's address and name again. The guard for known customers
// (Profile.ErasedAt) has nothing to hold on to.
func TestErasureOfUnknownCustomerLeavesNoTombstone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	erasedAt := fixedNow.Add(-time.Hour)
	// The redact arrives first (as the compliance handler runs it).
	if _, err := e.store.EraseCustomer(ctx, "c-E-1", erasedAt); err != nil {
		t.Fatal(err)
	}
	// An order placed two days before the erasure, replayed after it.
	body := []byte(`{"id": "evt-late", "type": "order.created", "occurred_at": "2026-11-19T09:30:00+09:00",
 "order": {"id": "E-1", "currency": "JPY", "total": 4300,
   "customer": {"id": "c-E-1", "email": "erased@example.jp", "name": "高橋 美咲", "accepts_marketing": true},
   "items": [{"sku": "SWEET-YOKAN", "name": "本練羊羹", "category": "sweets", "brand": "椿茶園", "price": 2150, "quantity": 2}],
   "coupon_codes": []}}`)
	if status, a := e.do(t, genericRequest(body)); status >= 500 {
		t.Fatalf("late delivery = %d %+v", status, a)
	}
	for _, item := range testenv.Snapshot(t, e.table) {
		if strings.Contains(item, "erased@example.jp") || strings.Contains(item, "高橋") {
			t.Errorf("after the erasure an item holds the erased customer's data: %.300s", item)
		}
	}
}

// TestRefusedDeliveryKeepsTheOrder: a delivery the database refuses for
// good after the order item was written (here the profile write) keeps
// the order (it happened; a report or an operator can still see it) and
// records the refusal naming it; the profile is not half-changed. (A
// refusal can no longer come from the shop's data: orders are capped and
// profiles bounded; this is the safety net.)
func TestRefusedDeliveryKeepsTheOrder(t *testing.T) {
	e := newEnvWith(t, testenv.DynamoDB(failProfileWrites("ValidationException")), testenv.SES())
	resp, err := e.h.Handle(context.Background(), genericRequest(genericBody("evt-half", "order.created", "H-1", "half@example.jp", false)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want the refusal (400): %.200s", resp.StatusCode, resp.Body)
	}
	if _, err := e.store.GetOrder(context.Background(), "H-1"); err != nil {
		t.Errorf("the refused order is not kept: %v", err)
	}
	if _, err := e.store.GetProfile(context.Background(), "c-H-1"); err == nil {
		t.Error("a profile was written for a refused delivery")
	}
	got, err := e.store.RejectionsOn(context.Background(), fixedNow)
	if err != nil || len(got) != 1 || got[0].OrderID != "H-1" {
		t.Errorf("rejections %+v, %v; want the one naming order H-1", got, err)
	}
}

// TestShopifyOrderFromAnotherShopIsRefused: issue 11 item 3 asks that
// X-Shopify-Shop-Domain be the configured shop (required in AWS). Only the
// compliance route checks it; the order route has no notion of the shop
// (main.go does not read SHOPIFY_SHOP_DOMAIN). An app's client secret
// signs the webhooks of every shop that installs the app, so an order
// from another shop (here: the attacker's own dev store, with an address
// of their choosing) is stored, profiled and mailed through this shop's
// SES identity.
func TestShopifyOrderFromAnotherShopIsRefused(t *testing.T) {
	e := newEnv(t)
	req := shopifyRequest("orders/create", "wh-foreign-shop", shopifyOrderOf(7001, 1))
	req = testenv.WithHeader(req, "x-shopify-shop-domain", "attacker-dev-store.myshopify.com")
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("an order webhook from another shop answered %d: %.300s", resp.StatusCode, resp.Body)
	}
}
