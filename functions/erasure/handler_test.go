package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/dataexport"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	secret = "dev-secret"
	shop   = "tsubaki-chaen.myshopify.com"
)

var (
	now   = time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	keyer = pseudonym.New("test-pseudonym-secret")
)

func genericRequest(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: genericRoute, Body: body,
		Headers: map[string]string{"x-tsunagu-signature": signature.SignTsunagu(secret, now, []byte(body))}}
}

// shopifyRequestTo is a Shopify webhook to one of the function's routes,
// signed and from the configured shop.
func shopifyRequestTo(route, topic, webhookID, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: route, Body: body,
		Headers: map[string]string{"x-shopify-topic": topic, "x-shopify-hmac-sha256": signature.SignShopify(secret, []byte(body)),
			"x-shopify-shop-domain": shop, "x-shopify-webhook-id": webhookID}}
}

// shopifyRequest is a customers/redact-route request, as the earlier tests
// sent them.
func shopifyRequest(topic, body string) events.APIGatewayV2HTTPRequest {
	return shopifyRequestTo(redactRoute, topic, "", body)
}

// documented reads one of Shopify's documented compliance bodies.
func documented(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", "compliance", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newHandler wires a handler as main does, on the table and the SES
// emulator under the function's IAM policies in template.yaml, telling
// contact about exports.
func newHandler(t *testing.T, table, contact string) *Handler {
	t.Helper()
	// The notice goes as in AWS: the stack's From address and
	// configuration set, under the function's SES policy.
	mailer, err := email.NewSender(testenv.SESAs(t, "ErasureFunction"), "椿茶園", testenv.SenderEmail, "", testenv.ConfigurationSet)
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Store: store.New(testenv.DynamoDBAs(t, "ErasureFunction"), table), WebhookSecret: signature.Keys{secret}, ShopifySecret: signature.Keys{secret},
		Compliance: shopify.Compliance{Shop: shop, Guests: keyer}, Mailer: mailer, ShopContact: contact, Now: func() time.Time { return now }}
}

// seed stores a customer with contact details, consent and a linked LINE
// user, as the purchase and LINE functions would have.
func seed(t *testing.T, st *store.Store, id, email string) {
	t.Helper()
	ctx := context.Background()
	lineUser := "U" + strings.Repeat("0", 24) + id[len(id)-min(len(id), 8):]
	if _, err := st.UpdateProfile(ctx, id, func(p *customer.Profile) bool {
		return p.ApplyContact(order.Customer{ID: id, Email: email, Name: "高橋 美咲", LineUserID: lineUser,
			Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:shopify", At: now.Add(-48 * time.Hour)}}, now.Add(-48*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LinkLineUser(ctx, lineUser, id, now.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

type reply struct {
	Accepted      bool   `json:"accepted"`
	Duplicate     bool   `json:"duplicate"`
	Topic         string `json:"topic"`
	Known         bool   `json:"known"`
	Erased        bool   `json:"profile_erased"`
	LineLinks     int    `json:"line_links_removed"`
	DataRequest   string `json:"data_request"`
	ShopRedaction string `json:"shop_redaction"`
	Error         string `json:"error"`
	Fields        []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"fields"`
}

func do(t *testing.T, h *Handler, req events.APIGatewayV2HTTPRequest) (int, reply) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned a Lambda error: %v", err)
	}
	var r reply
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatalf("answer is not JSON: %q", resp.Body)
	}
	return resp.StatusCode, r
}

func TestErasureWebhooks(t *testing.T) {
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	h := newHandler(t, table, testenv.UniqueEmail(t, "shop"))
	guestEmail := "Guest.Buyer@example.jp"
	seed(t, st, "c-1", "misaki@example.jp")
	seed(t, st, "191167", "john@example.com")
	seed(t, st, keyer.GuestCustomerID(guestEmail), guestEmail)

	tests := []struct {
		name     string
		req      events.APIGatewayV2HTTPRequest
		customer string
		want     reply
	}{
		{"generic", genericRequest(`{"customer_id": "c-1"}`), "c-1", reply{Accepted: true, Known: true, Erased: true, LineLinks: 1}},
		{"generic again", genericRequest(`{"customer_id": "c-1"}`), "c-1", reply{Accepted: true, Known: true}},
		{"shopify customer", shopifyRequest("customers/redact", documented(t, "customers-redact.json")), "191167", reply{Accepted: true, Topic: "customers/redact", Known: true, Erased: true, LineLinks: 1}},
		{"shopify guest by address, keyed", shopifyRequestTo(complianceRoute, "customers/redact", "wh-guest", `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "guest.buyer@example.jp"}, "orders_to_redact": []}`), keyer.GuestCustomerID(guestEmail), reply{Accepted: true, Topic: "customers/redact", Known: true, Erased: true, LineLinks: 1}},
		{"unknown customer", genericRequest(`{"customer_id": "c-never-seen"}`), "", reply{Accepted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := do(t, h, tt.req)
			if status != 200 || got.Accepted != tt.want.Accepted || got.Topic != tt.want.Topic || got.Known != tt.want.Known || got.Erased != tt.want.Erased || got.LineLinks != tt.want.LineLinks {
				t.Fatalf("answer %d %+v, want 200 %+v", status, got, tt.want)
			}
			if tt.customer == "" {
				return
			}
			p, err := st.GetProfile(context.Background(), tt.customer)
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != "" || p.Name != "" || p.LineUserID != "" || p.ErasedAt.IsZero() {
				t.Errorf("profile after erasure still holds personal data: %+v", p)
			}
		})
	}
}

// TestComplianceTopicsOnOneRoute runs Shopify's documented body of each
// compliance topic through the real handler on the one route README
// names.
func TestComplianceTopicsOnOneRoute(t *testing.T) {
	table := testenv.NewTable(t)
	st, ctx := store.New(testenv.DynamoDB(), table), context.Background()
	contact := testenv.UniqueEmail(t, "shop")
	h := newHandler(t, table, contact)
	seed(t, st, "191167", "john@example.com")
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("customers/data_request keeps the export customer show prints, and tells the shop", func(t *testing.T) {
		body := documented(t, "customers-data_request.json")
		var want bytes.Buffer
		e, err := dataexport.Collect(ctx, st, "191167")
		if err != nil {
			t.Fatal(err)
		}
		e.Write(&want, set.Settings)

		status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, "wh-data-1", body))
		if status != 200 || !got.Accepted || got.Duplicate || got.DataRequest != "9999" {
			t.Fatalf("answer %d %+v, want 200 for data request 9999", status, got)
		}
		rec, err := st.GetExport(ctx, "9999", now)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := dataexport.Unmarshal(rec.Content)
		if err != nil {
			t.Fatal(err)
		}
		var gotText bytes.Buffer
		kept.Write(&gotText, set.Settings)
		if gotText.String() != want.String() || !strings.Contains(gotText.String(), "john@example.com") {
			t.Errorf("kept export:\n%s\nwant what customer show prints:\n%s", gotText.String(), want.String())
		}
		if !rec.ExpiresAt.Equal(now.Add(store.ExportRetention)) || rec.NotifiedAt.IsZero() {
			t.Errorf("export kept until %v, notified %v; want 30 days and notified", rec.ExpiresAt, rec.NotifiedAt)
		}
		mails := testenv.SentEmails(t, contact)
		if len(mails) != 1 {
			t.Fatalf("%d notices to the shop, want 1", len(mails))
		}
		m := mails[0]
		if !strings.Contains(m.Body.Text, "customer export --request 9999") || strings.Contains(m.Subject+m.Body.Text+m.Body.HTML, "john@example.com") || strings.Contains(m.Body.Text, "191167") {
			t.Errorf("notice %q:\n%s\nwant the fetch command and no personal data", m.Subject, m.Body.Text)
		}

		// Redelivered (same webhook id), or the same body under a new id:
		// the same answer, no second notice, the first export kept.
		for _, id := range []string{"wh-data-1", "wh-data-replayed"} {
			status, got = do(t, h, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, id, body))
			if status != 200 || !got.Duplicate {
				t.Errorf("redelivery %s: answer %d %+v, want 200 duplicate", id, status, got)
			}
		}
		if n := len(testenv.SentEmails(t, contact)); n != 1 {
			t.Errorf("%d notices after redeliveries, want 1", n)
		}
	})

	t.Run("customers/redact erases", func(t *testing.T) {
		status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-redact-1", documented(t, "customers-redact.json")))
		if status != 200 || !got.Known || !got.Erased || got.Duplicate {
			t.Fatalf("answer %d %+v, want 200 erased", status, got)
		}
		p, err := st.GetProfile(ctx, "191167")
		if err != nil || p.Email != "" || p.Name != "" || p.ErasedAt.IsZero() {
			t.Errorf("profile after redact: %+v %v", p, err)
		}
		if _, err := st.GetExport(ctx, "9999", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the customer's data export after the erasure: %v, want ErrNotFound", err)
		}
	})

	t.Run("shop/redact answers at once and records the request for the job", func(t *testing.T) {
		before := testenv.Snapshot(t, table)
		status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.ShopRedactTopic, "wh-shop-1", documented(t, "shop-redact.json")))
		if status != 200 || got.ShopRedaction != "pending" {
			t.Fatalf("answer %d %+v, want 200 pending", status, got)
		}
		r, err := st.GetShopRedaction(ctx, "954889")
		if err != nil || r.ShopDomain != shop || !r.RequestedAt.Equal(now) || !r.FinishedAt.IsZero() {
			t.Errorf("recorded shop redaction = %+v, %v", r, err)
		}
		pending, err := st.PendingShopRedactions(ctx)
		if err != nil || len(pending) != 1 {
			t.Errorf("pending shop redactions = %+v, %v; want this one", pending, err)
		}
		// The request path erases nothing itself (that is the job's).
		for _, c := range testenv.Changed(before, testenv.Snapshot(t, table)) {
			if strings.Contains(c, "CUSTOMER#") && strings.Contains(c, "PROFILE") {
				t.Errorf("the webhook changed a profile: %.200s", c)
			}
		}
	})
}

// flakyMailer fails its first sends as SES does under throttling, then
// sends through the SES emulator.
type flakyMailer struct {
	Mailer
	failures atomic.Int64
}

func (m *flakyMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	if m.failures.Add(-1) >= 0 {
		return "", errors.New("send email: TooManyRequestsException (injected)")
	}
	return m.Mailer.Send(ctx, msg)
}

// TestDataRequestTellsTheShopOnce: 20 copies of one data request at once,
// and a send that fails and is retried, keep one export and send one
// notice.
func TestDataRequestTellsTheShopOnce(t *testing.T) {
	table := testenv.NewTable(t)
	st, ctx := store.New(testenv.DynamoDB(), table), context.Background()
	contact := testenv.UniqueEmail(t, "shop")
	h := newHandler(t, table, contact)
	seed(t, st, "191167", "john@example.com")
	body := documented(t, "customers-data_request.json")

	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			resp, err := h.Handle(ctx, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, fmt.Sprintf("wh-copy-%d", i), body))
			if err != nil {
				t.Error(err)
			}
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("copy %d answered %d, want 200", i, s)
		}
	}
	if n := len(testenv.SentEmails(t, contact)); n != 1 {
		t.Errorf("%d notices for 20 copies, want 1", n)
	}

	// Another request whose notice fails once: 503, then the retry sends it.
	flaky := &flakyMailer{Mailer: h.Mailer}
	flaky.failures.Store(1)
	h.Mailer = flaky
	other := strings.Replace(body, `"id": 9999`, `"id": 10000`, 1)
	if status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, "wh-flaky", other)); status != 503 {
		t.Fatalf("answer with SES failing = %d %+v, want 503", status, got)
	}
	if status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, "wh-flaky", other)); status != 200 || got.Duplicate {
		t.Fatalf("retry = %d %+v, want 200", status, got)
	}
	if n := len(testenv.SentEmails(t, contact)); n != 2 {
		t.Errorf("%d notices after the retried request, want 2 (one each)", n)
	}

	// A customer tsunagu never saw: the export says so.
	unknown := strings.NewReplacer(`"id": 9999`, `"id": 10001`, `"id": 191167`, `"id": 424242`).Replace(body)
	if status, got := do(t, h, shopifyRequestTo(complianceRoute, shopify.DataRequestTopic, "wh-unknown", unknown)); status != 200 || got.DataRequest != "10001" {
		t.Fatalf("data request for nobody known = %d %+v", status, got)
	}
	rec, err := st.GetExport(ctx, "10001", now)
	if err != nil {
		t.Fatal(err)
	}
	e, err := dataexport.Unmarshal(rec.Content)
	if err != nil || e.Known || e.CustomerID != "424242" {
		t.Errorf("export for nobody known = %+v, %v; want \"no data held\"", e, err)
	}
}

// TestCapturedDeliveriesCannotErase: Shopify signs the body only. A
// captured order delivery posted to a redact address with
// X-Shopify-Topic: customers/redact carries a customer, but is not a
// redact request; a body for another shop is not this shop's.
func TestCapturedDeliveriesCannotErase(t *testing.T) {
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	h := newHandler(t, table, testenv.UniqueEmail(t, "shop"))
	seed(t, st, "207119551", "bob.norman@hostmail.com") // the customer of the captured order
	seed(t, st, "191167", "john@example.com")
	orderBody := documented(t, "orders-create.json")
	otherShop := strings.ReplaceAll(documented(t, "customers-redact.json"), shop, "other-shop.myshopify.com")
	tests := []struct {
		name  string
		req   events.APIGatewayV2HTTPRequest
		field string // the field the refusal must name
	}{
		{"an order on the redact route", shopifyRequestTo(redactRoute, shopify.RedactTopic, "wh-order-1", orderBody), "orders_to_redact"},
		{"an order on the compliance route", shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-order-2", orderBody), "orders_to_redact"},
		{"an order as a shop redact", shopifyRequestTo(complianceRoute, shopify.ShopRedactTopic, "wh-order-3", orderBody), "customer"},
		{"a data request on the redact-only route", shopifyRequestTo(redactRoute, shopify.DataRequestTopic, "wh-data", documented(t, "customers-data_request.json")), "X-Shopify-Topic"},
		{"another shop's body", shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-other", otherShop), "shop_domain"},
		{"another shop's header", testenv.WithHeader(shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-hdr", documented(t, "customers-redact.json")), "x-shopify-shop-domain", "other-shop.myshopify.com"), shopify.ShopDomainHeader},
		{"no shop header", testenv.WithHeader(shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-nohdr", documented(t, "customers-redact.json")), "x-shopify-shop-domain", ""), shopify.ShopDomainHeader},
	}
	// A refusal is the shop's mistake, logged as information, not an error.
	var logs bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testenv.Snapshot(t, table)
			logs.Reset()
			status, got := do(t, h, tt.req)
			if strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("a refusal logged an error: %s", logs.String())
			}
			named := false
			for _, f := range got.Fields {
				named = named || f.Field == tt.field
			}
			if status != 400 || !named {
				t.Errorf("answer %d %+v, want 400 naming %s", status, got, tt.field)
			}
			if changed := testenv.Changed(before, testenv.Snapshot(t, table)); len(changed) > 0 {
				t.Errorf("a refused request changed %d items: %.500s", len(changed), strings.Join(changed, "\n"))
			}
		})
	}
	for _, id := range []string{"207119551", "191167"} {
		if p, err := st.GetProfile(context.Background(), id); err != nil || p.Email == "" || !p.ErasedAt.IsZero() {
			t.Errorf("customer %s after refused requests: %+v %v; want untouched", id, p, err)
		}
	}
}

// TestUnconfiguredShopLocally: on the local stack (no shop configured) a
// delivery from any shop is taken.
func TestUnconfiguredShopLocally(t *testing.T) {
	table := testenv.NewTable(t)
	h := newHandler(t, table, testenv.UniqueEmail(t, "shop"))
	h.Compliance.Shop = ""
	req := testenv.WithHeader(shopifyRequestTo(complianceRoute, shopify.RedactTopic, "wh-local",
		strings.ReplaceAll(documented(t, "customers-redact.json"), shop, "dev-shop.myshopify.com")), "x-shopify-shop-domain", "")
	if status, got := do(t, h, req); status != 200 || !got.Accepted {
		t.Errorf("answer %d %+v, want 200", status, got)
	}
}

// failingStore fails every erasure, as an unreachable DynamoDB would.
type failingStore struct{ Store }

func (failingStore) EraseCustomer(context.Context, string, time.Time) (store.Erasure, error) {
	return store.Erasure{}, errors.New("get profile: connection refused")
}

func TestStoreFailureAsksForARetry(t *testing.T) {
	h := &Handler{Store: failingStore{}, WebhookSecret: signature.Keys{secret}, ShopifySecret: signature.Keys{secret}, Now: func() time.Time { return now }}
	resp, err := h.Handle(context.Background(), genericRequest(`{"customer_id": "c-1"}`))
	if err != nil || resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Errorf("answer %d %v %v, want 503 with Retry-After", resp.StatusCode, resp.Headers, err)
	}
}
