package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "dev-secret"

var placed = time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)

type env struct {
	h       *Handler
	store   *store.Store
	table   string
	counter *store.RequestCounter
	email   string
}

// newEnv seeds a table with the sample catalog, a customer and an order,
// and wires a handler on the given rules (the shipped ones when nil).
func newEnv(t testing.TB, set *rules.Set, consent order.ConsentState) *env {
	t.Helper()
	if set == nil {
		var err error
		if set, err = rules.Load(filepath.Join(testenv.Root(), "rules")); err != nil {
			t.Fatal(err)
		}
	}
	counter := &store.RequestCounter{}
	table := testenv.NewTable(t)
	// The test seeds and inspects with its own store; the handler's
	// requests are counted and held to ThankyouFunction's policies.
	st := store.New(testenv.DynamoDB(), table)
	handlerStore := store.New(testenv.DynamoDBAs(t, "ThankyouFunction", func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter.Register) }), table)
	ctx := context.Background()
	products := []store.Product{
		{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", Price: 2150, Currency: "JPY", URL: "https://shop.example/yokan", InStock: true},
		{SKU: "TEA-SENCHA", Name: "宇治煎茶 100g", Category: "tea", Price: 1600, Currency: "JPY", URL: "https://shop.example/sencha", ImageURL: "https://shop.example/sencha.jpg", InStock: true},
		{SKU: "TEAWARE-KYUSU", Name: "常滑焼 急須", Category: "teaware", Price: 6800, Currency: "JPY", URL: "https://shop.example/kyusu", InStock: false},
		{SKU: "TEA-GYOKURO", Name: "玉露 50g", Category: "tea", Price: 3200, Currency: "JPY", URL: "https://shop.example/gyokuro", InStock: true},
	}
	if err := st.ImportCatalog(ctx, products, placed); err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, table: table, counter: counter, email: testenv.UniqueEmail(t, "misaki")}
	buyer := &order.Customer{ID: "c-1", Email: e.email, Name: "高橋 美咲", Consent: order.Consent{State: consent, Source: "webhook:generic", At: placed}}
	ev := order.Event{Type: order.Created, OccurredAt: placed, Order: order.Order{ID: "1001", Currency: "JPY", Total: 4300, PlacedAt: placed, Customer: buyer,
		Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}}}
	stt, err := st.ApplyOrderEvent(ctx, ev, []string{"TEA-SENCHA", "TEAWARE-KYUSU", "TEA-GYOKURO", "SWEET-YOKAN-GONE"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateProfile(ctx, "c-1", func(p *customer.Profile) bool {
		return p.ApplyDelivery(buyer, stt.Order, stt.Status, placed, set.Settings.Thresholds)
	}); err != nil {
		t.Fatal(err)
	}
	coder, _ := coupon.NewCoder(secret)
	sealer, _ := unsubscribe.NewSealer(secret)
	mailer, _ := email.NewSender(testenv.SES(), set.Settings.FromName, "shop@tsubaki-chaen.example.jp", "", "")
	runner := &campaign.Runner{Decider: campaign.Decider{Rules: set, Deciles: set.Deciles}, Store: handlerStore, Mailer: mailer, Line: line.NewDryRun(io.Discard), Unsubscribe: sealer, Coupons: coder,
		PublicURL: "https://api.example.jp", RecommendationLimit: 3}
	e.h = &Handler{Store: handlerStore, Campaigns: runner, Coupons: coder, Rules: set, Secret: signature.Keys{secret}, PublicURL: "https://api.example.jp",
		Mailer: mailer, Confirmations: sealer,
		Widget: []byte("/* widget */"), Now: func() time.Time { return placed.Add(time.Minute) }}
	counter.Reset()
	return e
}

func viewRequest(orderID, query string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: viewRoute, RawPath: "/thankyou/" + orderID, RawQueryString: query,
		PathParameters: map[string]string{"orderId": orderID}, Headers: map[string]string{"origin": "https://tsubaki-chaen.example.jp"}}
}

func signed(orderID string) string { return "sig=" + signature.SignOrder(secret, orderID) }

type viewBody struct {
	OrderID         string `json:"order_id"`
	Recommendations []struct {
		SKU        string `json:"sku"`
		Name       string `json:"name"`
		Price      int64  `json:"price"`
		PriceLabel string `json:"price_label"`
		URL        string `json:"url"`
		ImageURL   string `json:"image_url"`
	} `json:"recommendations"`
	Coupon *struct {
		Code, Name, Discount string
		MinOrderLabel        string `json:"min_order_label"`
		ExpiresLabel         string `json:"expires_label"`
	} `json:"coupon"`
	Line *struct {
		AddFriendURL string  `json:"add_friend_url"`
		LinkURL      *string `json:"link_url"`
	} `json:"line"`
	Optin struct {
		Offered   bool
		Text, URL string
	} `json:"optin"`
	Error string `json:"error"`
}

func (e *env) do(t testing.TB, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, viewBody) {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned a Lambda error: %v", err)
	}
	var b viewBody
	if strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
		if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
			t.Fatalf("answer is not JSON: %q", resp.Body)
		}
	}
	return resp, b
}

func TestView(t *testing.T) {
	e := newEnv(t, nil, order.ConsentUnknown)
	resp, b := e.do(t, viewRequest("1001", signed("1001")))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	var names []string
	for _, r := range b.Recommendations {
		names = append(names, r.Name+" "+r.PriceLabel)
	}
	// Candidates in order, the out-of-stock kyusu and the unknown SKU left out.
	if fmt.Sprint(names) != "[宇治煎茶 100g 1,600円 玉露 50g 3,200円]" {
		t.Errorf("recommendations = %v", names)
	}
	coder, _ := coupon.NewCoder(secret)
	wantCode := coder.Code(couponCampaign, "order:1001", "c-1")
	if b.Coupon == nil || b.Coupon.Code != wantCode || b.Coupon.Discount != "10%OFF" || b.Coupon.MinOrderLabel != "3,000円以上のご注文で" || b.Coupon.ExpiresLabel != "2026年12月21日まで有効" {
		t.Errorf("coupon = %+v, want code %s", b.Coupon, wantCode)
	}
	if b.Line == nil || b.Line.AddFriendURL != "https://lin.ee/tsubaki-chaen" {
		t.Errorf("line = %+v", b.Line)
	}
	if !b.Optin.Offered || b.Optin.URL != "https://api.example.jp/thankyou/1001/optin?"+signed("1001") {
		t.Errorf("optin = %+v; a customer without consent is offered the opt-in", b.Optin)
	}
	if resp.Headers["Access-Control-Allow-Origin"] != "https://tsubaki-chaen.example.jp" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers = %v", resp.Headers)
	}
	// Three DynamoDB requests per view: the order, the catalog with the
	// profile, the view record with its coupon.
	if n := total(e.counter.Snapshot()); n != 3 {
		t.Errorf("%d DynamoDB requests for a view (%v), want 3", n, e.counter.Snapshot())
	}
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func TestHundredLoadsIssueOneCoupon(t *testing.T) {
	e := newEnv(t, nil, order.ConsentGranted)
	codes := make(chan string, 100)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := e.do(t, viewRequest("1001", signed("1001")))
			if resp.StatusCode != http.StatusOK || b.Coupon == nil {
				t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
				return
			}
			if b.Optin.Offered {
				t.Error("a customer who consented must not be offered the opt-in")
			}
			codes <- b.Coupon.Code
		}()
	}
	wg.Wait()
	close(codes)
	seen := map[string]int{}
	for c := range codes {
		seen[c]++
	}
	if len(seen) != 1 {
		t.Errorf("100 loads showed %d coupon codes, want 1", len(seen))
	}
	out, err := testenv.DynamoDB().Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	coupons := 0
	for _, it := range out.Items {
		if pk := it["pk"]; strings.HasPrefix(fmt.Sprint(pk), "&{COUPON#") {
			coupons++
		}
	}
	if coupons != 1 {
		t.Errorf("%d coupon items after 100 loads, want 1", coupons)
	}
}

func TestViewRefusesBadRequestsAndIssuesNothing(t *testing.T) {
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
	}{
		{name: "no signature", req: viewRequest("1001", ""), status: 401},
		{name: "tampered signature", req: viewRequest("1001", "sig="+strings.Repeat("0", 64)), status: 401},
		{name: "signature of another order", req: viewRequest("1001", signed("1002")), status: 401},
		{name: "tampered order id", req: viewRequest("1002", signed("1001")), status: 401},
		{name: "two signatures", req: viewRequest("1001", signed("1001")+"&"+signed("1001")), status: 401},
		{name: "unknown order", req: viewRequest("9999", signed("9999")), status: 404},
		{name: "malformed order id", req: viewRequest("../etc", signed("../etc")), status: 400},
		{name: "huge query", req: viewRequest("1001", signed("1001")+"&x="+long), status: 400},
		{name: "malformed query", req: viewRequest("1001", "sig=%zz"), status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, order.ConsentUnknown)
			resp, b := e.do(t, tt.req)
			if resp.StatusCode != tt.status || b.Error == "" {
				t.Errorf("status %d %q, want %d with an error", resp.StatusCode, resp.Body, tt.status)
			}
			if _, err := e.store.GetCoupon(context.Background(), e.h.Coupons.Code(couponCampaign, "order:1001", "c-1")); err == nil {
				t.Error("a refused request issued the coupon")
			}
		})
	}
}

func TestCORSOnlyForConfiguredOrigins(t *testing.T) {
	e := newEnv(t, nil, order.ConsentUnknown)
	req := viewRequest("1001", signed("1001"))
	req.Headers["origin"] = "https://evil.example"
	resp, _ := e.do(t, req)
	if _, ok := resp.Headers["Access-Control-Allow-Origin"]; ok {
		t.Errorf("CORS granted to an unknown origin: %v", resp.Headers)
	}
	w, _ := e.do(t, events.APIGatewayV2HTTPRequest{RouteKey: widgetRoute})
	if w.StatusCode != 200 || !strings.HasPrefix(w.Headers["Content-Type"], "text/javascript") || w.Body != "/* widget */" {
		t.Errorf("widget = %d %v %q", w.StatusCode, w.Headers, w.Body)
	}
}

func TestOptinRecordsConsentWithItsEvidence(t *testing.T) {
	e := newEnv(t, nil, order.ConsentUnknown)
	post := func(body string) events.APIGatewayV2HTTPResponse {
		req := viewRequest("1001", signed("1001"))
		req.RouteKey, req.Body = optinRoute, body
		req.Headers["content-type"] = "text/plain;charset=UTF-8"
		resp, err := e.h.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, bad := range []string{``, `{}`, `{"consent": false}`, `{"consent": "yes"}`, `{"consent": true, "email": "x@y"}`, `not json`} {
		if resp := post(bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
	if p, _ := e.store.GetProfile(context.Background(), "c-1"); p.Consent.State == order.ConsentGranted {
		t.Fatal("a refused opt-in changed the consent")
	}
	if resp := post(`{"consent": true}`); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "recorded") {
		t.Fatalf("opt-in = %d %s", resp.StatusCode, resp.Body)
	}
	p, err := e.store.GetProfile(context.Background(), "c-1")
	if err != nil || p.Consent.State != order.ConsentGranted || p.Consent.Source != "thankyou:optin" || p.Consent.Shown == "" || !p.Consent.At.Equal(placed.Add(time.Minute)) {
		t.Errorf("consent = %+v, %v", p.Consent, err)
	}
	if _, b := e.do(t, viewRequest("1001", signed("1001"))); b.Optin.Offered {
		t.Error("after opting in, the opt-in is no longer offered")
	}
}

func TestViewTriggersItsCampaignsOnce(t *testing.T) {
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	// A transactional "thanks for visiting" on the first view only.
	set.Campaigns = append(set.Campaigns, &rules.Campaign{ID: "view-thanks", Name: "x", Enabled: true, Kind: rules.Transactional,
		Trigger: rules.TriggerThankyouViewed, Variants: []rules.Variant{{Weight: 100, Actions: []rules.Action{{Type: rules.ActionEmail, Template: "post-purchase-thanks"}}}}})
	e := newEnv(t, set, order.ConsentGranted)
	for range 5 {
		if resp, _ := e.do(t, viewRequest("1001", signed("1001"))); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := len(testenv.SentEmails(t, e.email)); n != 1 {
		t.Errorf("%d emails after 5 views, want 1 (thankyou.viewed fires once per order)", n)
	}
}
