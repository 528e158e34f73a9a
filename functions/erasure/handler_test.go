package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "dev-secret"

var now = time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)

func genericRequest(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: genericRoute, Body: body,
		Headers: map[string]string{"x-tsunagu-signature": signature.SignTsunagu(secret, now, []byte(body))}}
}

func shopifyRequest(topic, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: shopifyRoute, Body: body,
		Headers: map[string]string{"x-shopify-topic": topic, "x-shopify-hmac-sha256": signature.SignShopify(secret, []byte(body))}}
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
	Accepted  bool   `json:"accepted"`
	Known     bool   `json:"known"`
	Erased    bool   `json:"profile_erased"`
	LineLinks int    `json:"line_links_removed"`
	Error     string `json:"error"`
	Fields    []struct {
		Field string `json:"field"`
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
	h := &Handler{Store: store.New(testenv.DynamoDBAs(t, "ErasureFunction"), table), WebhookSecret: signature.Keys{secret}, ShopifySecret: signature.Keys{secret}, Now: func() time.Time { return now }}
	guestEmail := "Guest.Buyer@example.jp"
	seed(t, st, "c-1", "misaki@example.jp")
	seed(t, st, "191167", "john@example.com")
	seed(t, st, shopify.GuestCustomerID(guestEmail), guestEmail)

	tests := []struct {
		name     string
		req      events.APIGatewayV2HTTPRequest
		customer string
		want     reply
	}{
		{"generic", genericRequest(`{"customer_id": "c-1"}`), "c-1", reply{Accepted: true, Known: true, Erased: true, LineLinks: 1}},
		{"generic again", genericRequest(`{"customer_id": "c-1"}`), "c-1", reply{Accepted: true, Known: true}},
		{"shopify customer", shopifyRequest("customers/redact", `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"}, "orders_to_redact": [299938]}`), "191167", reply{Accepted: true, Known: true, Erased: true, LineLinks: 1}},
		{"shopify guest by address", shopifyRequest("customers/redact", `{"shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"email": "guest.buyer@example.jp"}, "orders_to_redact": []}`), shopify.GuestCustomerID(guestEmail), reply{Accepted: true, Known: true, Erased: true, LineLinks: 1}},
		{"unknown customer", genericRequest(`{"customer_id": "c-never-seen"}`), "", reply{Accepted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := do(t, h, tt.req)
			if status != 200 || got.Accepted != tt.want.Accepted || got.Known != tt.want.Known || got.Erased != tt.want.Erased || got.LineLinks != tt.want.LineLinks {
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

func namesField(r reply, field string) bool {
	for _, f := range r.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

type failingStore struct{}

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
