package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/attribution"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	secret    = "dev-secret"
	publicURL = "https://hooks.tsubaki-chaen.example.jp"
	// testShop is the shop the tests configure (SHOPIFY_SHOP_DOMAIN).
	testShop = "tsubaki-chaen.myshopify.com"
)

// fixedNow is the time every test request is signed and handled at.
var fixedNow = time.Date(2026, 11, 21, 0, 31, 0, 0, time.UTC)

// env is one handler wired to a fresh table and the emulators.
type env struct {
	h     *Handler
	store *store.Store
	db    *dynamodb.Client
	table string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, testenv.DynamoDBAs(t, "PurchaseFunction"), testenv.SES())
}

func newEnvWith(t *testing.T, db *dynamodb.Client, ses *sesv2.Client) *env {
	t.Helper()
	table := testenv.NewTable(t)
	return &env{h: newHandler(t, store.New(db, table), ses), store: store.New(testenv.DynamoDB(), table), db: testenv.DynamoDB(), table: table}
}

// newHandler wires a handler as main does, on the shipped rules.
func newHandler(t testing.TB, st *store.Store, ses *sesv2.Client) *Handler {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	return newHandlerWith(t, set, st, ses)
}

// newHandlerWith wires a handler on a given rule set.
func newHandlerWith(t testing.TB, set *rules.Set, st *store.Store, ses *sesv2.Client) *Handler {
	t.Helper()
	sealer, _ := unsubscribe.NewSealer(secret)
	coder, _ := coupon.NewCoder(secret)
	links, _ := clicks.NewSealer(publicURL, secret)
	mailer, err := email.NewSender(ses, set.Settings.FromName, "shop@tsubaki-chaen.example.jp", set.Settings.ReplyTo, "")
	if err != nil {
		t.Fatal(err)
	}
	runner := &campaign.Runner{Decider: campaign.Decider{Rules: set, Deciles: set.Deciles}, Store: st, Mailer: mailer, Line: line.NewDryRun(io.Discard), Unsubscribe: sealer, Clicks: links, Coupons: coder, PublicURL: publicURL, RecommendationLimit: 3}
	return &Handler{Store: st, Campaigns: runner, Rules: set, Measure: &attribution.Steps{Store: st, Clicks: st, Rules: set},
		Points: &loyalty.Steps{Ledger: st, Rules: set}, WebhookSecret: signature.Keys{secret}, ShopifySecret: signature.Keys{secret},
		Shopify: shopify.Decoder{Shop: testShop, Guests: pseudonym.New(secret)}, Now: func() time.Time { return fixedNow }, Referrals: testReferrals(st, set),
		Watch: &support.Watch{Store: st, Cases: &support.Opener{Store: st, CoolingOff: set.Settings.Support.CoolingOff}, After: set.Settings.Support.NotDeliveredAfter}}
}

// genericBody is a generic order webhook for a fresh customer address.
func genericBody(deliveryID, typ, orderID, to string, consent bool) []byte {
	return []byte(fmt.Sprintf(`{"id": %q, "type": %q, "occurred_at": "2026-11-21T09:30:00+09:00",
 "order": {"id": %q, "currency": "JPY", "total": 4300,
   "customer": {"id": "c-%s", "email": %q, "name": "高橋 美咲", "accepts_marketing": %t},
   "items": [{"sku": "SWEET-YOKAN", "name": "本練羊羹", "category": "sweets", "brand": "椿茶園", "price": 2150, "quantity": 2}],
   "coupon_codes": []}}`, deliveryID, typ, orderID, orderID, to, consent))
}

func genericRequest(body []byte) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		RouteKey: genericRoute, RawPath: "/webhooks/orders",
		Headers: map[string]string{"content-type": "application/json", "x-tsunagu-signature": signature.SignTsunagu(secret, fixedNow, body)},
		Body:    string(body),
	}
}

func shopifyRequest(topic, webhookID string, body []byte) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		RouteKey: shopifyRoute, RawPath: "/webhooks/shopify/orders",
		Headers: map[string]string{"content-type": "application/json", "x-shopify-topic": topic, "x-shopify-webhook-id": webhookID,
			"x-shopify-shop-domain": testShop, "x-shopify-hmac-sha256": signature.SignShopify(secret, body)},
		Body: string(body),
	}
}

type answerBody struct {
	Accepted  bool               `json:"accepted"`
	Duplicate bool               `json:"duplicate"`
	Status    string             `json:"order_status"`
	Messages  []campaign.Outcome `json:"messages"`
	Coupons   []couponUse        `json:"coupons"`
	Test      string             `json:"test"`
	Ignored   string             `json:"ignored"`
	Error     string             `json:"error"`
	Fields    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"fields"`
}

// thanks is the outcome of the shipped post-purchase email in an answer.
func thanks(a answerBody) campaign.Outcome {
	for _, m := range a.Messages {
		if m.Campaign == "post-purchase-thanks" {
			return m
		}
	}
	return campaign.Outcome{}
}

func (e *env) do(t *testing.T, req events.APIGatewayV2HTTPRequest) (int, answerBody) {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned a Lambda error: %v", err)
	}
	var a answerBody
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatalf("answer is not JSON: %q", resp.Body)
	}
	return resp.StatusCode, a
}

// items returns every item in the test's table. Tests may scan; handlers may not.
func (e *env) items(t *testing.T) []map[string]any {
	t.Helper()
	out, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	var res []map[string]any
	for _, it := range out.Items {
		m := map[string]any{}
		for k, v := range it {
			m[k] = v
		}
		res = append(res, m)
	}
	return res
}

func TestPostPurchaseEmailArrives(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "misaki")
	status, a := e.do(t, genericRequest(genericBody("evt-1", "order.created", "1001", to, true)))
	if status != http.StatusOK || !a.Accepted || a.Duplicate || thanks(a).Status != "sent" {
		t.Fatalf("answer = %d %+v", status, a)
	}
	mails := testenv.SentEmails(t, to)
	if len(mails) != 1 {
		t.Fatalf("SES received %d emails, want 1", len(mails))
	}
	m := mails[0]
	// The one-click link is direct (not through the click redirect) and
	// names the customer, the channel and the message it came with.
	sealer, _ := unsubscribe.NewSealer(secret)
	listUnsub := m.Header("List-Unsubscribe")
	prefix := "<" + publicURL + "/unsubscribe?token="
	if !strings.HasPrefix(listUnsub, prefix) || !strings.HasSuffix(listUnsub, ">") {
		t.Errorf("List-Unsubscribe = %q, want <%s...>", listUnsub, prefix)
	} else if r, err := sealer.Open(strings.TrimSuffix(strings.TrimPrefix(listUnsub, prefix), ">")); err != nil ||
		r.CustomerID != "c-1001" || r.Channel != "email" || r.CampaignID != "post-purchase-thanks" || r.MessageKey == "" {
		t.Errorf("List-Unsubscribe token opens as %+v, %v", r, err)
	}
	if got := m.Header("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	for _, part := range []struct{ name, body string }{{"html", m.Body.HTML}, {"text", m.Body.Text}} {
		for _, want := range []string{"椿茶園", "〒604-8001 京都府京都市中京区", "support@tsubaki-chaen.example.jp", "配信停止", "羊羹に合う宇治煎茶"} {
			if !strings.Contains(part.body, want) {
				t.Errorf("%s body lacks %q", part.name, want)
			}
		}
	}
	// The email as rendered, against golden files (go test -update rewrites).
	golden.Check(t, "post-purchase-thanks.subject.txt", m.Subject)
	golden.Check(t, "post-purchase-thanks.html", m.Body.HTML)
	golden.Check(t, "post-purchase-thanks.txt", m.Body.Text)

	p, err := e.store.GetProfile(context.Background(), "c-1001")
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != 1 || p.TotalSpent != 4300 || p.Stage != "new" || p.CategoryCounts["sweets"] != 2 || p.RFM.R != 5 || p.Consent.Source != "webhook:generic" {
		t.Errorf("profile = %+v", p)
	}
	o, err := e.store.GetOrder(context.Background(), "1001")
	if err != nil || o.Status != "order.created" || o.Order.Total != 4300 {
		t.Errorf("order = %+v, %v", o, err)
	}
}

func TestNoConsentNoMarketingEmail(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "kenji")
	status, a := e.do(t, genericRequest(genericBody("evt-2", "order.created", "2001", to, false)))
	if status != http.StatusOK || thanks(a).Status != "no_consent" {
		t.Fatalf("answer = %d %+v", status, a)
	}
	if n := len(testenv.SentEmails(t, to)); n != 0 {
		t.Errorf("a customer without consent got %d marketing emails", n)
	}
	log, err := e.store.CustomerMessages(context.Background(), "c-2001", fixedNow.Add(-time.Hour))
	if err != nil || len(log) != 2 {
		t.Fatalf("want both marketing decisions recorded: %+v %v", log, err)
	}
	for _, rec := range log {
		if rec.Status != store.MessageSkipped || rec.Reason != "no_consent" {
			t.Errorf("decision = %+v, want skipped for no_consent", rec)
		}
	}
}

func TestDuplicateDeliveries(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "misaki")
	body := genericBody("evt-dup", "order.created", "3001", to, true)
	_, first := e.do(t, genericRequest(body))
	status, second := e.do(t, genericRequest(body))
	if first.Duplicate || status != http.StatusOK || !second.Duplicate {
		t.Fatalf("first duplicate=%v, second = %d duplicate=%v", first.Duplicate, status, second.Duplicate)
	}
	if n := len(testenv.SentEmails(t, to)); n != 1 {
		t.Errorf("%d emails after a duplicate delivery, want 1", n)
	}
}

func TestConcurrentDeliveriesHaveOneEffect(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "misaki")
	req := genericRequest(genericBody("evt-20", "order.created", "4001", to, true))
	var wg sync.WaitGroup
	answers := make(chan answerBody, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, a := e.do(t, req)
			if status != http.StatusOK {
				t.Errorf("status %d: %+v", status, a)
			}
			answers <- a
		}()
	}
	wg.Wait()
	close(answers)
	firsts := 0
	for a := range answers {
		if !a.Duplicate {
			firsts++
		}
	}
	if firsts != 1 {
		t.Errorf("%d answers said not duplicate, want exactly 1", firsts)
	}
	if n := len(testenv.SentEmails(t, to)); n != 1 {
		t.Errorf("%d emails after 20 concurrent deliveries, want 1", n)
	}
	p, err := e.store.GetProfile(context.Background(), "c-4001")
	if err != nil || p.OrderCount != 1 || p.TotalSpent != 4300 {
		t.Errorf("profile after 20 deliveries: count %d spent %d (%v), want 1 and 4300", p.OrderCount, p.TotalSpent, err)
	}
	orders, profiles, messages, assignments := 0, 0, 0, 0
	for _, it := range e.items(t) {
		switch pk, sk := fmt.Sprint(it["pk"]), fmt.Sprint(it["sk"]); {
		case strings.Contains(pk, "ORDER#"):
			orders++
		case strings.Contains(sk, "PROFILE"):
			profiles++
		case strings.Contains(pk, "MESSAGE#") && strings.Contains(fmt.Sprint(it["status"]), string(store.MessageAssigned)):
			assignments++
		case strings.Contains(pk, "MESSAGE#"):
			messages++
		}
	}
	if orders != 1 || profiles != 1 || messages != 1 || assignments != 1 {
		t.Errorf("stored %d orders, %d profiles, %d messages, %d assignments; want 1 each", orders, profiles, messages, assignments)
	}
	// Counted once, however many copies: the order, and the email.
	e.wantCounts(t, store.ShopStatsPartition, "DAY#2026-11-21", store.Counts{"orders": 1, "revenue": 4300, "first_orders": 1, "active_2026-11": 1})
	e.wantCounts(t, store.CampaignStatsPartition("post-purchase-thanks"), "DAY#2026-11-21#-", store.Counts{"sent": 1, "assigned_treatment": 1, "assigned_exposed": 1})
}

func TestShopifyOrders(t *testing.T) {
	e := newEnv(t)
	create, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", "orders-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	to := testenv.UniqueEmail(t, "misaki")
	create = []byte(strings.ReplaceAll(string(create), "misaki@example.jp", to))
	status, a := e.do(t, shopifyRequest("orders/create", "wh-create-1", create))
	if status != http.StatusOK || thanks(a).Status != "sent" {
		t.Fatalf("orders/create = %d %+v", status, a)
	}
	cancel, _ := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", "orders-cancelled.json"))
	status, a = e.do(t, shopifyRequest("orders/cancelled", "wh-cancel-1", cancel))
	if status != http.StatusOK || a.Status != "order.cancelled" {
		t.Fatalf("orders/cancelled = %d %+v", status, a)
	}
	p, err := e.store.GetProfile(context.Background(), "115310627314723954")
	if err != nil || p.OrderCount != 0 || p.TotalSpent != 0 || p.Stage != "none" {
		t.Errorf("a cancelled order must be taken back out: %+v %v", p, err)
	}
	if n := len(testenv.SentEmails(t, to)); n != 1 {
		t.Errorf("%d emails, want 1", n)
	}
}

func TestOutOfOrderCancelFirst(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "misaki")
	cancel := []byte(`{"id":"evt-c","type":"order.cancelled","occurred_at":"2026-11-21T09:40:00+09:00","order":{"id":"5001"}}`)
	if status, a := e.do(t, genericRequest(cancel)); status != http.StatusOK || a.Status != "order.cancelled" {
		t.Fatalf("cancel = %d %+v", status, a)
	}
	status, a := e.do(t, genericRequest(genericBody("evt-cr", "order.created", "5001", to, true)))
	if status != http.StatusOK || a.Status != "order.cancelled" || len(a.Messages) != 0 {
		t.Fatalf("late create = %d %+v; want the order to stay cancelled and no message", status, a)
	}
	if n := len(testenv.SentEmails(t, to)); n != 0 {
		t.Errorf("a cancelled order got %d thank-you emails", n)
	}
	p, err := e.store.GetProfile(context.Background(), "c-5001")
	if err != nil || p.OrderCount != 0 {
		t.Errorf("profile = %+v %v", p, err)
	}
}

func TestBadInputIsRefusedAndNothingStored(t *testing.T) {
	valid := genericBody("evt-bad", "order.created", "6001", "x@example.jp", true)
	huge := []byte(`{"id":"` + strings.Repeat("x", 300<<10) + `"}`)
	sign := func(body []byte, at time.Time) events.APIGatewayV2HTTPRequest {
		req := genericRequest(body)
		req.Headers["x-tsunagu-signature"] = signature.SignTsunagu(secret, at, body)
		return req
	}
	replace := func(old, new string) []byte { return []byte(strings.Replace(string(valid), old, new, 1)) }
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		fields []string
	}{
		{name: "unsigned", req: func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			delete(r.Headers, "x-tsunagu-signature")
			return r
		}(), status: 401},
		{name: "wrong secret", req: func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.Headers["x-tsunagu-signature"] = signature.SignTsunagu("not-the-secret", fixedNow, valid)
			return r
		}(), status: 401},
		{name: "stale", req: sign(valid, fixedNow.Add(-10*time.Minute)), status: 401},
		{name: "body changed after signing", req: func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.Body = strings.Replace(r.Body, "4300", "1", 1)
			return r
		}(), status: 401},
		{name: "shopify unsigned", req: func() events.APIGatewayV2HTTPRequest {
			r := shopifyRequest("orders/create", "w", valid)
			r.Headers["x-shopify-hmac-sha256"] = "bm9wZQ=="
			return r
		}(), status: 401},
		{name: "malformed json", req: sign([]byte(`{"id": "evt",`), fixedNow), status: 400, fields: []string{"body"}},
		{name: "missing fields", req: sign([]byte(`{"type":"order.created"}`), fixedNow), status: 400, fields: []string{"id", "occurred_at", "order"}},
		{name: "negative quantity", req: sign(replace(`"quantity": 2`, `"quantity": -2`), fixedNow), status: 400, fields: []string{"order.items[0].quantity"}},
		{name: "unknown currency", req: sign(replace(`"JPY"`, `"XXY"`), fixedNow), status: 400, fields: []string{"order.currency"}},
		{name: "non-utf8", req: sign([]byte("{\"id\":\"\xff\"}"), fixedNow), status: 400, fields: []string{"body"}},
		{name: "bad base64", req: func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.IsBase64Encoded = true
			r.Body = "!!"
			return r
		}(), status: 400, fields: []string{"body"}},
		{name: "over 256 KiB", req: sign(huge, fixedNow), status: 413},
		{name: "shopify without topic", req: func() events.APIGatewayV2HTTPRequest {
			r := shopifyRequest("", "w", valid)
			delete(r.Headers, "x-shopify-topic")
			return r
		}(), status: 400, fields: []string{"X-Shopify-Topic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			status, a := e.do(t, tt.req)
			if status != tt.status {
				t.Fatalf("status = %d (%+v), want %d", status, a, tt.status)
			}
			for _, f := range tt.fields {
				found := false
				for _, got := range a.Fields {
					found = found || strings.HasPrefix(got.Field, f)
				}
				if !found {
					t.Errorf("answer does not name %q: %+v", f, a.Fields)
				}
			}
			if items := e.items(t); len(items) != 0 {
				t.Errorf("a refused request stored %d items", len(items))
			}
		})
	}
}

func TestBase64Body(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "misaki")
	req := genericRequest(genericBody("evt-b64", "order.created", "7001", to, true))
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(req.Body)), true
	if status, a := e.do(t, req); status != http.StatusOK || thanks(a).Status != "sent" {
		t.Fatalf("base64 body = %d %+v", status, a)
	}
}

// TestOutagesAreRetriedToOneEffect takes DynamoDB, then SES, away: each
// answers 503 so the shop retries, and the retry finishes the job once.
func TestOutagesAreRetriedToOneEffect(t *testing.T) {
	dead := "http://127.0.0.1:1" // nothing listens there
	deadDB := dynamodb.NewFromConfig(testenv.AWSConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dead); o.RetryMaxAttempts = 1 })
	deadSES := sesv2.NewFromConfig(testenv.AWSConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(dead); o.RetryMaxAttempts = 1 })
	to := testenv.UniqueEmail(t, "misaki")
	req := genericRequest(genericBody("evt-outage", "order.created", "8001", to, true))

	down := newEnvWith(t, deadDB, testenv.SES())
	if status, _ := down.do(t, req); status != http.StatusServiceUnavailable {
		t.Fatalf("DynamoDB down: status %d, want 503", status)
	}

	sesDown := newEnvWith(t, testenv.DynamoDBAs(t, "PurchaseFunction"), deadSES)
	if status, _ := sesDown.do(t, req); status != http.StatusServiceUnavailable {
		t.Fatalf("SES down: status %d, want 503", status)
	}
	// The order and profile are stored, the message released for retry,
	// the delivery not marked done.
	if done, _ := sesDown.store.DeliveryDone(context.Background(), "generic", "evt-outage", fixedNow); done {
		t.Fatal("a failed delivery must not be marked done")
	}
	// The retry, with SES back, against the same table.
	back := *sesDown
	back.h = newHandler(t, sesDown.store, testenv.SES())
	status, a := back.do(t, req)
	if status != http.StatusOK || a.Duplicate || thanks(a).Status != "sent" {
		t.Fatalf("retry = %d %+v", status, a)
	}
	if n := len(testenv.SentEmails(t, to)); n != 1 {
		t.Errorf("%d emails after an outage and a retry, want 1", n)
	}
	p, _ := sesDown.store.GetProfile(context.Background(), "c-8001")
	if p.OrderCount != 1 {
		t.Errorf("order count after retry = %d, want 1", p.OrderCount)
	}
}

func TestCouponRedemptionIsRecordedWithItsCampaign(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issued, _, err := e.store.IssueCoupon(ctx, store.Coupon{Code: "TSN-ABCD-EFGH-JKMN", Campaign: "second-purchase-nudge", CustomerID: "c-9001",
		Name: "10%OFF", PercentOff: 10, Currency: "JPY", IssuedAt: fixedNow.Add(-24 * time.Hour), ExpiresAt: fixedNow.Add(29 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	use := func(deliveryID, orderID string) answerBody {
		body := genericBody(deliveryID, "order.created", orderID, testenv.UniqueEmail(t, "misaki"), true)
		body = []byte(strings.Replace(string(body), `"coupon_codes": []`, `"coupon_codes": ["tsn-abcd-efgh-jkmn", "SHOP-OWN-CODE"]`, 1))
		body = []byte(strings.Replace(string(body), `"c-`+orderID+`"`, `"c-9001"`, 1))
		status, a := e.do(t, genericRequest(body))
		if status != http.StatusOK {
			t.Fatalf("status %d: %+v", status, a)
		}
		return a
	}
	a := use("evt-coupon-1", "9001")
	if len(a.Coupons) != 2 || !a.Coupons[0].Redeemed || a.Coupons[0].Campaign != "second-purchase-nudge" || a.Coupons[1].Redeemed {
		t.Fatalf("coupons = %+v", a.Coupons)
	}
	got, _ := e.store.GetCoupon(ctx, issued.Code)
	if got.RedeemedOrder != "9001" {
		t.Errorf("coupon = %+v, want redeemed by order 9001", got)
	}
	// The order is the coupon's campaign's conversion, once.
	if at, err := e.store.GetAttribution(ctx, "9001"); err != nil || at.Via != "coupon" || at.CampaignID != "second-purchase-nudge" || at.Total != 4300 {
		t.Errorf("attribution = %+v, %v; want the coupon's campaign", at, err)
	}
	e.wantCounts(t, store.CampaignStatsPartition("second-purchase-nudge"), "DAY#2026-11-21#-", store.Counts{"coupons_redeemed": 1, "converted": 1, "revenue": 4300})
	if again := use("evt-coupon-2", "9002"); again.Coupons[0].Redeemed {
		t.Errorf("a single-use coupon was redeemed twice: %+v", again.Coupons)
	}
}

func TestOrdersUseAndTeachTheCatalog(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	err := e.store.ImportCatalog(ctx, []store.Product{
		{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", Brand: "椿茶園", Price: 2150, Currency: "JPY", URL: "https://shop.example/yokan", InStock: true},
		{SKU: "TEA-SENCHA", Name: "宇治煎茶", Category: "tea", Brand: "椿茶園", Price: 1600, Currency: "JPY", URL: "https://shop.example/sencha", InStock: true},
		{SKU: "TEA-GYOKURO", Name: "玉露", Category: "tea", Brand: "椿茶園", Price: 3200, Currency: "JPY", URL: "https://shop.example/gyokuro", InStock: true},
	}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	// An order whose item carries no category: the catalog fills it in.
	body := strings.Replace(string(genericBody("evt-cat-1", "order.created", "10001", testenv.UniqueEmail(t, "m"), true)), `"category": "sweets", "brand": "椿茶園", `, "", 1)
	if status, a := e.do(t, genericRequest([]byte(body))); status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, a)
	}
	o, err := e.store.GetOrder(ctx, "10001")
	if err != nil || o.Order.Items[0].Category != "sweets" || o.Order.Items[0].Brand != "椿茶園" {
		t.Fatalf("order = %+v, %v; want the category and brand from the catalog", o, err)
	}
	if len(o.Recommend) < 2 || o.Recommend[0] != "TEA-SENCHA" {
		t.Errorf("recommendations kept with the order = %v", o.Recommend)
	}
	// The same customer then buys tea: "bought yokan, later sencha" is learnt.
	later := strings.NewReplacer(`"evt-cat-1"`, `"evt-cat-2"`, `"id": "10001"`, `"id": "10002"`, `"c-10001"`, `"c-10001"`,
		`"sku": "SWEET-YOKAN", "name": "本練羊羹", "price": 2150`, `"sku": "TEA-SENCHA", "name": "宇治煎茶", "price": 1600`,
		`"occurred_at": "2026-11-21T09:30:00+09:00"`, `"occurred_at": "2026-11-21T09:31:00+09:00"`).Replace(body)
	later = strings.Replace(later, `"c-10002"`, `"c-10001"`, 1)
	if status, a := e.do(t, genericRequest([]byte(later))); status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, a)
	}
	// A duplicate delivery teaches nothing more.
	e.do(t, genericRequest([]byte(later)))
	cat, err := e.store.ReadCatalog(ctx, store.CatalogQuery{Affinity: []string{"SWEET-YOKAN"}})
	if err != nil || cat.Affinity["SWEET-YOKAN"]["TEA-SENCHA"] != 1 {
		t.Errorf("affinity of the yokan = %v, %v; want sencha counted once", cat.Affinity["SWEET-YOKAN"], err)
	}
}

// TestCancelledOrderCancelsItsTimers: the waits an order armed (the
// second-purchase nudge's delay, the tea's replenishment reminder) are
// cancelled with the order, so none of them fires.
func TestCancelledOrderCancelsItsTimers(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "misaki")
	create := []byte(`{"id":"evt-t1","type":"order.created","occurred_at":"2026-11-21T09:30:00+09:00","order":{"id":"6001","currency":"JPY","total":1600,` +
		`"customer":{"id":"c-6001","email":"` + to + `","accepts_marketing":true,"consent_at":"2026-11-21T09:30:00+09:00"},` +
		`"items":[{"sku":"TEA-SENCHA","name":"宇治煎茶 100g","category":"tea","price":1600,"quantity":1}]}}`)
	if status, a := e.do(t, genericRequest(create)); status != http.StatusOK {
		t.Fatalf("create = %d %+v", status, a)
	}
	timers := func() map[string]int {
		byStatus := map[string]int{}
		for _, it := range e.items(t) {
			if pk, _ := it["pk"].(*types.AttributeValueMemberS); pk != nil && strings.HasPrefix(pk.Value, "TIMER#") {
				byStatus[it["status"].(*types.AttributeValueMemberS).Value]++
			}
		}
		return byStatus
	}
	if armed := timers(); armed[store.TimerArmed] < 2 {
		t.Fatalf("timers after the order: %v; want the nudge's delay and the replenishment reminder armed", armed)
	}
	cancel := []byte(`{"id":"evt-t2","type":"order.cancelled","occurred_at":"2026-11-21T09:40:00+09:00","order":{"id":"6001"}}`)
	if status, a := e.do(t, genericRequest(cancel)); status != http.StatusOK || a.Status != "order.cancelled" {
		t.Fatalf("cancel = %d %+v", status, a)
	}
	if got := timers(); got[store.TimerArmed] != 0 || got[store.TimerCancelled] < 2 {
		t.Errorf("timers after the cancellation: %v; want every one cancelled", got)
	}
}
