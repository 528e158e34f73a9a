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
)

// TestNothingReplayedAfterAnErasureBringsPersonalDataBack replays a real
// signed Shopify order (Shopify's own order fixture, see
// shared/shopify/testdata/compliance/PROVENANCE) through the real handler
// after the customer was erased: under a new webhook id, with a forged
// X-Shopify-Triggered-At after the erasure, and under another topic. The
// signature is valid every time (Shopify signs the body only), and the
// erased address and name must never come back. A new order placed after
// the erasure is a new relationship: its contact details are taken.
func TestNothingReplayedAfterAnErasureBringsPersonalDataBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", "compliance", "orders-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	const customerID, address, family = "207119551", "bob.norman@hostmail.com", "Norman"
	if status, a := e.do(t, shopifyRequest("orders/create", "wh-replay-original", raw)); status != http.StatusOK {
		t.Fatalf("the original delivery = %d %+v", status, a)
	}
	if p, err := e.store.GetProfile(ctx, customerID); err != nil || p.Email != address {
		t.Fatalf("profile before the erasure = %+v, %v; want the buyer's address", p, err)
	}
	erasedAt := fixedNow.Add(-48 * time.Hour)
	if _, err := e.store.EraseCustomer(ctx, customerID, erasedAt); err != nil {
		t.Fatal(err)
	}

	forged := fixedNow.Add(-time.Hour).Format(time.RFC3339) // after the erasure, before now
	replays := []struct {
		name, topic, webhookID, triggeredAt string
	}{
		{"the same delivery again", "orders/create", "wh-replay-original", ""},
		{"under a new webhook id", "orders/create", "wh-replay-1", ""},
		{"with a forged X-Shopify-Triggered-At after the erasure", "orders/create", "wh-replay-2", forged},
		{"as orders/fulfilled with a forged time", "orders/fulfilled", "wh-replay-3", forged},
		{"with a Triggered-At far in the future", "orders/create", "wh-replay-4", "9999-12-31T00:00:00Z"},
	}
	for _, r := range replays {
		t.Run(r.name, func(t *testing.T) {
			req := shopifyRequest(r.topic, r.webhookID, raw)
			if r.triggeredAt != "" {
				req = testenv.WithHeader(req, "x-shopify-triggered-at", r.triggeredAt)
			}
			if status, a := e.do(t, req); status >= 500 {
				t.Fatalf("replay = %d %+v", status, a)
			}
			p, err := e.store.GetProfile(ctx, customerID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != "" || p.Name != "" || !p.ErasedAt.Equal(erasedAt) {
				t.Errorf("after the replay the profile holds %q %q (erased at %v); want nothing back", p.Email, p.Name, p.ErasedAt)
			}
			for _, item := range testenv.Snapshot(t, e.table) {
				if strings.Contains(item, address) || strings.Contains(item, family) {
					t.Errorf("after the replay an item holds the erased customer's data: %.300s", item)
				}
			}
		})
	}

	t.Run("a new order placed after the erasure is a new relationship", func(t *testing.T) {
		placed := erasedAt.Add(24 * time.Hour).Format(time.RFC3339)
		body := strings.NewReplacer(`"id": 450789469`, `"id": 450789470`,
			`"created_at": "2008-01-10T11:00:00-05:00"`, `"created_at": "`+placed+`"`,
			`"updated_at": "2008-01-10T11:00:00-05:00"`, `"updated_at": "`+placed+`"`).Replace(string(raw))
		if status, a := e.do(t, shopifyRequest("orders/create", "wh-new-order", []byte(body))); status != http.StatusOK {
			t.Fatalf("new order = %d %+v", status, a)
		}
		p, err := e.store.GetProfile(ctx, customerID)
		if err != nil || p.Email != address || p.OrderCount != 2 {
			t.Errorf("after a new order: %q, %d orders, %v; want the new order's address and both orders counted", p.Email, p.OrderCount, err)
		}
	})
}
