package main

import (
	"context"
	"maps"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var now = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*Handler, *store.Store, *unsubscribe.Sealer) {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	if _, err := st.UpdateProfile(context.Background(), "c-1", func(p *customer.Profile) bool {
		return p.ApplyContact(order.Customer{ID: "c-1", Email: "misaki@example.jp", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: now.Add(-time.Hour)}}, now.Add(-time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	sealer, _ := unsubscribe.NewSealer("dev-secret")
	return &Handler{Store: store.New(testenv.DynamoDBAs(t, "UnsubscribeFunction"), table), Tokens: sealer, Shop: set.Settings.Shop, Location: set.Settings.Location, Now: func() time.Time { return now }}, st, sealer
}

func request(routeKey, token, body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: "/unsubscribe", RawQueryString: "token=" + url.QueryEscape(token), Body: body,
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}}
}

func TestUnsubscribe(t *testing.T) {
	tests := []struct {
		name      string
		routeKey  string
		body      string
		status    int
		page      string
		wantState order.ConsentState
		source    string
	}{
		{name: "GET only asks", routeKey: pageRoute, status: 200, page: "配信停止の確認", wantState: order.ConsentGranted},
		{name: "one-click POST", routeKey: oneClickPost, body: "List-Unsubscribe=One-Click", status: 200, page: "配信を停止しました", wantState: order.ConsentDenied, source: "unsubscribe:one-click"},
		{name: "the page's button", routeKey: oneClickPost, body: "", status: 200, page: "配信を停止しました", wantState: order.ConsentDenied, source: "unsubscribe:page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st, sealer := setup(t)
			resp, err := h.Handle(context.Background(), request(tt.routeKey, sealer.Token("c-1", "email"), tt.body))
			if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.page) || !strings.Contains(resp.Body, "〒604-8001") {
				t.Fatalf("answer %d %v:\n%s", resp.StatusCode, err, resp.Body)
			}
			p, _ := st.GetProfile(context.Background(), "c-1")
			if p.Consent.State != tt.wantState || (tt.source != "" && (p.Consent.Source != tt.source || p.Reachable("email"))) {
				t.Errorf("profile consent = %+v, reachable %v", p.Consent, p.Reachable("email"))
			}
		})
	}
}

func TestUnsubscribeRefusesBadTokens(t *testing.T) {
	h, st, _ := setup(t)
	other, _ := unsubscribe.NewSealer("another-secret")
	for _, token := range []string{"", "garbage", other.Token("c-1", "email")} {
		resp, _ := h.Handle(context.Background(), request(oneClickPost, token, "List-Unsubscribe=One-Click"))
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, "リンクが無効です") {
			t.Errorf("token %q: %d", token, resp.StatusCode)
		}
	}
	if p, _ := st.GetProfile(context.Background(), "c-1"); p.Consent.State != order.ConsentGranted {
		t.Error("a bad token changed the profile")
	}
}

// TestUnsubscribeCounted: a new unsubscribe adds to the shop's counters
// of its channel and, when the link names the message it came from, to
// that campaign's; unsubscribing again, or only asking (GET), counts
// nothing more. Tokens from before messages were named still unsubscribe.
func TestUnsubscribeCounted(t *testing.T) {
	msg := unsubscribe.Recipient{CustomerID: "c-1", Channel: "email", MessageKey: "k-1", CampaignID: "second-purchase-nudge", Variant: "b"}
	tests := []struct {
		name      string
		recipient unsubscribe.Recipient
		shop      store.Counts
		campaign  store.Counts
	}{
		{name: "a token without the message", recipient: unsubscribe.Recipient{CustomerID: "c-1", Channel: "email"}, shop: store.Counts{"email_unsubscribed": 1}},
		{name: "a token naming the message", recipient: msg, shop: store.Counts{"email_unsubscribed": 1}, campaign: store.Counts{"unsubscribed": 1}},
		{name: "LINE", recipient: unsubscribe.Recipient{CustomerID: "c-1", Channel: "line"}, shop: store.Counts{"line_unsubscribed": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st, sealer := setup(t)
			ctx := context.Background()
			token := sealer.RecipientToken(tt.recipient)
			for _, routeKey := range []string{pageRoute, oneClickPost, oneClickPost} {
				if resp, err := h.Handle(ctx, request(routeKey, token, "List-Unsubscribe=One-Click")); err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s = %d, %v", routeKey, resp.StatusCode, err)
				}
			}
			day := store.DayKey(now, h.Location)
			shop, err := st.StatsBetween(ctx, store.ShopStatsPartition, day, day)
			if err != nil || !maps.Equal(shop[day], tt.shop) {
				t.Errorf("shop counters = %v, %v; want %v", shop, err, tt.shop)
			}
			campaign, err := st.StatsBetween(ctx, store.CampaignStatsPartition(msg.CampaignID), day, day+"~")
			if sk := store.CampaignStatsKey(now, h.Location, msg.Variant); err != nil || !maps.Equal(campaign[sk], tt.campaign) || len(campaign) > 1 {
				t.Errorf("campaign counters = %v, %v; want %s: %v", campaign, err, sk, tt.campaign)
			}
		})
	}
}
