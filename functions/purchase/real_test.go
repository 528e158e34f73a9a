package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// realBody reads a Shopify webhook body of the real corpus
// (shared/shopify/testdata/real, see its PROVENANCE), with its buyer's
// address replaced by to, so that the SES emulator tells this test's mail
// from every other's.
func realBody(t *testing.T, name, to string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, addr := range []string{"buyer@example.com", "bob.norman@mail.example.com", "jon@doe.ca", "john@test.com", "jon@example.com", "john@example.com"} {
		s = strings.ReplaceAll(s, addr, to)
	}
	return []byte(s)
}

// realDelivery is one real body delivered under a topic.
type realDelivery struct {
	file, topic string
}

// TestRealShopifyBodies runs every body of the real corpus through the
// real handler, signed with the test secret, and checks what a shop would
// see: 200, the order kept with its total and lines (custom lines and gift
// cards as such, without SKU), the buyer's profile and spend, and no mail
// to anyone who did not consent, nothing at all for test deliveries.
// Amounts count in spend in the shop currency only, so each case runs on
// the shipped rules with the order's currency as the shop's.
func TestRealShopifyBodies(t *testing.T) {
	tests := []struct {
		name     string
		currency string
		// processTests runs on rules that process test orders.
		processTests bool
		deliveries   []realDelivery
		orderID      string
		// want: the order stored (or not), its total (before refunds),
		// refunded amount, lines by kind, and the buyer's profile.
		stored     bool
		total      int64
		refunded   int64
		products   int
		custom     int
		giftCards  int
		customerID string
		spent      int64
		coupons    []string
		// status, when set, is the order's status after the deliveries.
		status order.EventType
	}{
		{name: "custom lines typed into a draft order, no customer", currency: "USD",
			deliveries: []realDelivery{{"shopify-docs-orders-create-custom-lines-usd.json", "orders/create"}},
			orderID:    "1073459962", stored: true, total: 27037, custom: 3},
		{name: "a custom line in euros", currency: "EUR",
			deliveries: []realDelivery{{"shopify-docs-orders-create-custom-line-eur.json", "orders/create"}},
			orderID:    "1073459975", stored: true, total: 23847, custom: 1},
		{name: "a gift card beside custom lines", currency: "USD",
			deliveries: []realDelivery{{"shopify-docs-orders-create-gift-card-usd.json", "orders/create"}},
			orderID:    "1073459962", stored: true, total: 27037, custom: 2, giftCards: 1},
		{name: "a draft order without customer or email, with a discount code", currency: "HKD",
			deliveries: []realDelivery{{"membi-orders-create-draft-discount-hkd.json", "orders/create"}},
			orderID:    "6200407294252", stored: true, total: 18690, products: 2, coupons: []string{"0124D"}},
		{name: "a draft order with a customer; empty SKUs keep the variant", currency: "HKD",
			deliveries: []realDelivery{{"membi-orders-create-hkd.json", "orders/create"}},
			orderID:    "6200360403244", stored: true, total: 30400, products: 3, customerID: "8658316394796", spent: 30400, coupons: []string{"0124C"}},
		{name: "orders/paid for a draft order never created here", currency: "HKD",
			deliveries: []realDelivery{{"membi-orders-paid-draft-hkd.json", "orders/paid"}},
			orderID:    "6200354537772", stored: true, total: 30400, products: 3},
		{name: "rupiah with two decimals", currency: "IDR",
			deliveries: []realDelivery{{"doa-orders-create-idr.json", "orders/create"}},
			orderID:    "4674447573237", stored: true, total: 25750000, products: 1, customerID: "6076877373685", spent: 25750000},
		{name: "rupiah, an empty SKU with a variant, fulfilled", currency: "IDR",
			deliveries: []realDelivery{{"doa-orders-create-empty-sku-idr.json", "orders/create"}, {"doa-orders-create-empty-sku-idr.json", "orders/fulfilled"}},
			orderID:    "4672580813045", stored: true, total: 32050000, products: 1, customerID: "6073220694261", spent: 32050000, coupons: []string{"DOABYDS10"}},
		// The body lists refund 509562969 (its current_total_price has it
		// taken out); refunds/create of it again takes nothing more out, and
		// a refund paid back through a test gateway is a test delivery.
		{name: "an edited and refunded order, its refund again, a test refund", currency: "USD",
			deliveries: []realDelivery{{"shopify-docs-orders-updated-edited-refunded-usd.json", "orders/updated"},
				{"shopify-docs-refunds-create-usd.json", "refunds/create"}, {"shopify-docs-refunds-create-second-usd.json", "refunds/create"}},
			orderID: "450789469", stored: true, total: 40865, refunded: 20900, products: 1, customerID: "207119551", spent: 19965, coupons: []string{"TENOFF"}},
		{name: "with test orders processed, the test refund is taken out too", currency: "USD", processTests: true,
			deliveries: []realDelivery{{"shopify-docs-orders-updated-edited-refunded-usd.json", "orders/updated"},
				{"shopify-docs-refunds-create-usd.json", "refunds/create"}, {"shopify-docs-refunds-create-second-usd.json", "refunds/create"}},
			orderID: "450789469", stored: true, total: 40865, refunded: 20900 + 4194, products: 1, customerID: "207119551", spent: 19965 - 4194, coupons: []string{"TENOFF"}},
		{name: "a refund before its order", currency: "USD",
			deliveries: []realDelivery{{"shopify-docs-refunds-create-usd.json", "refunds/create"}, {"shopify-docs-orders-updated-edited-refunded-usd.json", "orders/updated"}},
			orderID:    "450789469", stored: true, total: 40865, refunded: 20900, products: 1, customerID: "207119551", spent: 19965, coupons: []string{"TENOFF"}},
		// Shopify has no delivery topic: orders/updated with every
		// fulfilment delivered is the delivery, however often it comes.
		{name: "delivered: orders/updated with the fulfilment's shipment status delivered", currency: "USD",
			deliveries: []realDelivery{{"spirithero-orders-updated-delivered-usd.json", "orders/create"},
				{"spirithero-orders-updated-delivered-usd.json", "orders/updated"}, {"spirithero-orders-updated-delivered-usd.json", "orders/updated"}},
			orderID: "2628173987889", stored: true, total: 5363, products: 2, customerID: "3633178509361", spent: 5363, status: order.Delivered},
		{name: "a development store's test order", currency: "AUD",
			deliveries: []realDelivery{{"bag-server-orders-create-test-order-aud.json", "orders/create"}},
			orderID:    "2998557704341"},
		{name: "Send test notification (orders/create sample)", currency: "USD",
			deliveries: []realDelivery{{"dropazul-orders-create-test-notification-usd.json", "orders/create"}},
			orderID:    "820982911946154508"},
		{name: "Send test notification from a peso shop (orders/cancelled sample)", currency: "COP",
			deliveries: []realDelivery{{"juliezen-orders-cancelled-test-notification-cop.json", "orders/cancelled"}},
			orderID:    "820982911946154508"},
	}
	shipped, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := *shipped
			set.Settings.Thresholds.Currency = tt.currency
			set.Settings.Shopify.ProcessTestOrders = tt.processTests
			e := newEnv(t)
			e.h = newHandlerWith(t, &set, e.h.Store.(*store.Store), testenv.SES())
			to := testenv.UniqueEmail(t, "real")
			ctx := context.Background()
			for i, d := range tt.deliveries {
				status, a := e.do(t, shopifyRequest(d.topic, "wh-real-"+d.topic+"-"+string(rune('a'+i)), realBody(t, d.file, to)))
				if status != http.StatusOK || !a.Accepted {
					t.Fatalf("%s %s = %d %+v, want 200", d.topic, d.file, status, a)
				}
			}
			if n := len(testenv.SentEmails(t, to)); n != 0 {
				t.Errorf("%d emails to the buyer, who gave no consent (or it was a test); want none", n)
			}
			st, err := e.store.GetOrder(ctx, tt.orderID)
			if !tt.stored {
				for _, item := range testenv.Snapshot(t, e.table) {
					if !strings.Contains(item, `"pk":"DELIVERY#`) {
						t.Errorf("a test delivery left %.200s", item)
					}
				}
				return
			}
			if err != nil || !st.HasDetails() {
				t.Fatalf("order %s: %+v, %v; want it stored", tt.orderID, st, err)
			}
			kinds := map[order.ItemKind]int{}
			for _, it := range st.Order.Items {
				kinds[it.Kind]++
				if (it.SKU == "") != (it.Kind != order.ProductLine) {
					t.Errorf("line %+v: a product has a SKU, another line none", it)
				}
			}
			if st.Order.Total != tt.total || st.Order.Refunded != tt.refunded || kinds[order.ProductLine] != tt.products || kinds[order.CustomLine] != tt.custom || kinds[order.GiftCardLine] != tt.giftCards {
				t.Errorf("order total %d refunded %d lines %v; want %d, %d, %d products %d custom %d gift cards",
					st.Order.Total, st.Order.Refunded, kinds, tt.total, tt.refunded, tt.products, tt.custom, tt.giftCards)
			}
			if tt.status != "" && st.Status != tt.status {
				t.Errorf("order status %s, want %s", st.Status, tt.status)
			}
			if strings.Join(st.Order.CouponCodes, ",") != strings.Join(tt.coupons, ",") {
				t.Errorf("coupon codes %v, want %v", st.Order.CouponCodes, tt.coupons)
			}
			if tt.customerID == "" {
				if st.Order.Customer != nil {
					t.Errorf("order kept under customer %s; it has none", st.Order.Customer.ID)
				}
				return
			}
			p, err := e.store.GetProfile(ctx, tt.customerID)
			if err != nil || p.OrderCount != 1 || p.TotalSpent != tt.spent {
				t.Errorf("profile %s: %d orders, spent %d, %v; want 1 order, %d", tt.customerID, p.OrderCount, p.TotalSpent, err, tt.spent)
			}
			for c := range p.CategoryCounts {
				t.Errorf("category %q counted; no line of these orders has one", c)
			}
		})
	}
}
