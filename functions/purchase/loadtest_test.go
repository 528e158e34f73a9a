package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/loadtest"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
)

// TestLoadTestAgainstTheGateway offers 50 webhooks a second for 2 seconds
// (generic and Shopify, signed, each its own delivery) to the purchase
// handler behind the local API gateway, on the emulators: every one is
// answered 200 and stored once. Only the order routes are offered (this
// gateway serves the purchase function alone). The figures are reported,
// not judged.
func TestLoadTestAgainstTheGateway(t *testing.T) {
	e := newEnv(t)
	// The load test signs with the wall clock.
	e.h.Now = time.Now
	srv := testenv.APIServer(t, "PurchaseFunction", e.h.Handle)

	rep, err := loadtest.Run(context.Background(), loadtest.Config{URL: srv.URL, Rate: 50, Duration: 2 * time.Second, Timeout: 20 * time.Second,
		Routes: []string{loadtest.GenericRoute, loadtest.ShopifyRoute}, WebhookSecret: secret, ShopifySecret: secret, RunID: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("load test through the gateway:\n%s", out.String())
	if rep.Offered != 100 || rep.ByStatus[200] != 100 || rep.Errors() != 0 {
		t.Fatalf("offered %d, answers %v, errors %d (%s); want 100 answered 200", rep.Offered, rep.ByStatus, rep.Errors(), rep.FirstError)
	}
	deliveries := 0
	for _, it := range testenv.Snapshot(t, e.table) {
		if strings.Contains(it, `"pk":"DELIVERY#`) {
			deliveries++
		}
	}
	// A generic delivery is known by its id; a Shopify one by its webhook
	// id and by its topic and body.
	if deliveries != 150 {
		t.Errorf("%d delivery markers stored, want 150 (50 generic, 2 for each of 50 Shopify)", deliveries)
	}
	if _, err := e.store.GetOrder(context.Background(), "Lgw-0"); err != nil {
		t.Errorf("the first generic order: %v", err)
	}
}
