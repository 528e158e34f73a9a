package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/dataexport"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// A guest an earlier version kept under the unkeyed id (before keyed
// pseudonyms) is still found by their compliance requests: the data
// request exports them, the redact erases them.
func TestLegacyGuestFound(t *testing.T) {
	ctx := context.Background()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	h := newHandler(t, table, testenv.UniqueEmail(t, "shop"))
	const address = "old.guest@example.jp"
	legacy := shopify.LegacyGuestCustomerID(address)
	seed(t, st, legacy, address)

	request := `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "` + address + `"}, "orders_requested": [1], "data_request": {"id": 7777}}`
	if status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, "wh-legacy-data", request)); status != 200 || got.DataRequest != "7777" {
		t.Fatalf("data request: %d %+v", status, got)
	}
	rec, err := st.GetExport(ctx, "7777", now)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := dataexport.Unmarshal(rec.Content)
	if err != nil || !kept.Known || kept.CustomerID != legacy {
		t.Fatalf("export of the legacy guest: %+v, %v", kept, err)
	}

	redact := `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "` + strings.ToUpper(address) + `"}, "orders_to_redact": [1]}`
	if status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-legacy-redact", redact)); status != 200 || !got.Known || !got.Erased {
		t.Fatalf("redact: %d %+v, want the legacy guest erased", status, got)
	}
	p, err := st.GetProfile(ctx, legacy)
	if err != nil || p.Email != "" || p.Name != "" || p.ErasedAt.IsZero() {
		t.Errorf("legacy guest after the redact: %+v, %v", p, err)
	}
}
