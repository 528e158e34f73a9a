package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/browser"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestSamplePageInChromium opens the sample thank-you page in headless
// Chromium, with the widget served by the real handler behind the local
// API gateway and answers from the emulator: the blocks, the coupon issued
// for the order, a click on a recommendation, and the page of a shop whose
// API is failing, which shows nothing and breaks nothing.
func TestSamplePageInChromium(t *testing.T) {
	root := testenv.Root()
	chromium, err := browser.Launch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := chromium.Close(); err != nil {
			t.Error(err)
		}
	})
	sample := filepath.Join(root, "infra", "sample-shop")
	shop := httptest.NewUnstartedServer(nil)
	shop.Start()
	defer shop.Close()

	e := newEnv(t, nil, order.ConsentUnknown)
	// The catalog links to this shop's pages and images.
	products := []store.Product{
		{SKU: "TEA-SENCHA", Name: "宇治煎茶 100g", Category: "tea", Price: 1600, Currency: "JPY", URL: shop.URL + "/products/TEA-SENCHA", ImageURL: shop.URL + "/img/tea-sencha.svg", InStock: true},
		{SKU: "TEA-GYOKURO", Name: "抹茶 40g", Category: "tea", Price: 3200, Currency: "JPY", URL: shop.URL + "/products/TEA-GYOKURO", ImageURL: shop.URL + "/img/tea-matcha.svg", InStock: true},
	}
	if err := e.store.ImportCatalog(context.Background(), products, placed); err != nil {
		t.Fatal(err)
	}
	e.h.Widget, _ = os.ReadFile("widget.js")
	e.h.Rules.Settings.Thankyou.AllowedOrigins = []string{shop.URL}
	api := testenv.APIServer(t, "ThankyouFunction", e.h.Handle)
	failingHandler := *e.h
	failingHandler.Store = store.New(dynamodb.NewFromConfig(testenv.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint, o.RetryMaxAttempts = aws.String("http://127.0.0.1:1"), 1
	}), "gone")
	failingAPI := testenv.APIServer(t, "ThankyouFunction", failingHandler.Handle)

	page, _ := os.ReadFile(filepath.Join(sample, "thankyou.html"))
	product, _ := os.ReadFile(filepath.Join(sample, "product.html"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /thankyou.html", func(w http.ResponseWriter, r *http.Request) {
		apiURL := api.URL
		if r.URL.Query().Get("api") == "failing" {
			apiURL = failingAPI.URL
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.NewReplacer("{{API}}", apiURL, "{{ORDER_ID}}", "1001", "{{SIG}}", signature.SignOrder(secret, "1001")).Replace(string(page)))
	})
	mux.HandleFunc("GET /products/{sku}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.ReplaceAll(string(product), "{{SKU}}", html.EscapeString(r.PathValue("sku"))))
	})
	mux.Handle("GET /img/", http.FileServer(http.Dir(sample)))
	shop.Config.Handler = mux

	res, err := chromium.Run(t.Context(), browser.Config{URL: shop.URL + "/thankyou.html", Scenario: browser.Happy,
		Screenshot: filepath.Join(root, ".local", "screenshots", "thankyou-real.png")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Settled != browser.Rendered || strings.Join(res.Widget.BlockIDs(), ",") != "recommendations,coupon,line,optin" {
		t.Fatalf("widget %s with blocks %v (debug %v)", res.Settled, res.Widget.BlockIDs(), res.Debug)
	}
	wantCode := e.h.Coupons.Code(couponCampaign, "order:1001", "c-1")
	if res.Widget.CouponCode != wantCode {
		t.Errorf("coupon on the page = %q, want the order's %q", res.Widget.CouponCode, wantCode)
	}
	if len(res.Widget.Recommendations) != 2 || res.Navigation == nil || !strings.HasSuffix(res.Navigation.URL, "/products/TEA-SENCHA") {
		t.Errorf("recommendations %+v, click led to %+v", res.Widget.Recommendations, res.Navigation)
	}
	if len(res.PageErrors) > 0 || len(res.ConsoleErrors()) > 0 || len(res.StyleLeaks) > 0 {
		t.Errorf("page errors %v, console errors %v, style leaks %v", res.PageErrors, res.ConsoleErrors(), res.StyleLeaks)
	}
	if c, err := e.store.GetCoupon(context.Background(), wantCode); err != nil || c.Campaign != couponCampaign {
		t.Errorf("the coupon the page shows is not stored: %+v %v", c, err)
	}

	failing, err := chromium.Run(t.Context(), browser.Config{URL: shop.URL + "/thankyou.html?api=failing", Scenario: browser.Failing})
	if err != nil {
		t.Fatal(err)
	}
	if failing.Settled != browser.GaveUp || len(failing.Widget.Blocks) != 0 || len(failing.PageErrors) > 0 || failing.WidgetShift() > browser.ShiftTolerance {
		t.Errorf("failing API: settled %s, blocks %v, page errors %v, the widget's layout shift %.4f (want at most %v)",
			failing.Settled, failing.Widget.BlockIDs(), failing.PageErrors, failing.WidgetShift(), browser.ShiftTolerance)
	}
}

// TestPointsExchangeInChromium opens the sample thank-you page at 375 px
// in Chromium with the real handler behind the local gateway: the points
// block shows the order's pending points and the balance, and a tap on
// the reward the balance covers exchanges it for a coupon, shown in place
// and stored, with the points spent once.
func TestPointsExchangeInChromium(t *testing.T) {
	shop := httptest.NewUnstartedServer(nil)
	shop.Start()
	defer shop.Close()
	e := newEnv(t, nil, order.ConsentGranted)
	withPoints(t, e, 600)
	e.h.Widget, _ = os.ReadFile("widget.js")
	e.h.Rules.Settings.Thankyou.AllowedOrigins = []string{shop.URL}
	api := testenv.APIServer(t, "ThankyouFunction", e.h.Handle)
	e.h.PublicURL = api.URL // the exchange goes to the same gateway
	page, _ := os.ReadFile(filepath.Join(testenv.Root(), "infra", "sample-shop", "thankyou.html"))
	shop.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.NewReplacer("{{API}}", api.URL, "{{ORDER_ID}}", "1001", "{{SIG}}", signature.SignOrder(secret, "1001")).Replace(string(page)))
	})
	got, err := browser.InspectPage(t.Context(), browser.PageConfig{URL: shop.URL + "/thankyou.html", Viewport: browser.Viewport{Width: 375, Height: 800},
		Screenshot: filepath.Join(testenv.Root(), ".local", "screenshots", "thankyou-points.png"),
		Steps: []browser.Step{
			{Wait: "[data-testid=points-balance]"},
			{Click: "[data-testid=reward-exchange]:not([disabled])"},
			{Wait: "[data-testid=reward] [data-testid=coupon-code]"},
			{Wait: "[data-testid=points-balance]:text('100 pt')"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, m := range got.ConsoleErrors() {
		if !strings.Contains(m, "ERR_NAME_NOT_RESOLVED") { // the seeded catalog's images at shop.example
			errs = append(errs, m)
		}
	}
	if len(errs) > 0 || len(got.PageErrors) > 0 || got.ScrollWidth > got.ClientWidth {
		t.Errorf("console errors %v, page errors %v, %v px wide in %v", errs, got.PageErrors, got.ScrollWidth, got.ClientWidth)
	}
	ledger, err := e.store.Ledger(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	var spent []loyalty.Movement
	for _, m := range ledger {
		if m.Kind == loyalty.Spent {
			spent = append(spent, m)
		}
	}
	if len(spent) != 1 || spent[0].Points != 500 || !strings.HasPrefix(spent[0].Request, "thankyou:1001:") {
		t.Fatalf("spends %+v, want one of 500 points from the thank-you page", spent)
	}
}
