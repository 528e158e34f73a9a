package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestCapturedComplianceDeliveryReplayedAfterMarkerExpiry: Shopify's
// compliance bodies carry no time and Shopify signs the body only, so the
// body digest marker is all that stops a captured delivery from being
// replayed. The markers live DeliveryRetention (30 days). A shop/redact
// captured once (the shop uninstalled, then installed the app again) and
// replayed 31 days later under a new webhook id is a fresh request: every
// customer of the shop is queued for erasure again. Likewise a captured
// customers/redact erases a customer who came back and bought again.
func TestCapturedComplianceDeliveryReplayedAfterMarkerExpiry(t *testing.T) {
	ctx := context.Background()
	later := now.Add(store.DeliveryRetention + 24*time.Hour)

	t.Run("shop/redact", func(t *testing.T) {
		table := testenv.NewTable(t)
		h := newHandler(t, table, "")
		st := store.New(testenv.DynamoDB(), table)
		body := documented(t, "shop-redact.json")
		if status, r := do(t, h, shopifyRequestTo(complianceRoute, "shop/redact", "wh-shop-1", body)); status != http.StatusOK || r.ShopRedaction != "pending" {
			t.Fatalf("first shop/redact = %d %+v", status, r)
		}
		pending, err := st.PendingShopRedactions(ctx)
		if err != nil || len(pending) != 1 {
			t.Fatalf("pending %v %v", pending, err)
		}
		// The job ran; the shop installed the app again.
		if err := st.FinishShopRedaction(ctx, pending[0], 0, now.Add(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		h.Now = func() time.Time { return later }
		status, r := do(t, h, shopifyRequestTo(complianceRoute, "shop/redact", "wh-shop-replayed", body))
		pending, err = st.PendingShopRedactions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 0 {
			t.Errorf("the captured shop/redact replayed 31 days later (%d %+v) queued the whole shop for erasure again", status, r)
		}
	})

	t.Run("customers/redact", func(t *testing.T) {
		table := testenv.NewTable(t)
		h := newHandler(t, table, "")
		st := store.New(testenv.DynamoDB(), table)
		body := documented(t, "customers-redact.json")
		r0, err := h.Compliance.Decode("customers/redact", shop, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		seed(t, st, r0.CustomerID, "comeback@example.jp")
		if status, r := do(t, h, shopifyRequestTo(complianceRoute, "customers/redact", "wh-redact-1", body)); status != http.StatusOK || !r.Erased {
			t.Fatalf("first customers/redact = %d %+v", status, r)
		}
		// The customer comes back: an order placed after the erasure is a
		// new relationship, and its contact details are kept.
		back := later.Add(-12 * time.Hour)
		if _, err := st.UpdateProfile(ctx, r0.CustomerID, func(p *customer.Profile) bool {
			return p.ApplyContact(order.Customer{ID: r0.CustomerID, Email: "comeback@example.jp", Name: "高橋 美咲"}, back)
		}); err != nil {
			t.Fatal(err)
		}
		h.Now = func() time.Time { return later }
		status, r := do(t, h, shopifyRequestTo(complianceRoute, "customers/redact", "wh-redact-replayed", body))
		p, err := st.GetProfile(ctx, r0.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Email == "" {
			t.Errorf("the captured customers/redact replayed 31 days later (%d %+v) erased the returning customer", status, r)
		}
	})
}
