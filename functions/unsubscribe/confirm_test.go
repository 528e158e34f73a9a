package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

func confirmRequest(routeKey, token string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: "/optin/confirm", RawQueryString: "token=" + url.QueryEscape(token),
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}}
}

// TestOptinConfirmation: the link of an opt-in confirmation email. GET
// asks and changes nothing; POST records the consent in the ledger, as of
// the opt-in, with its source and the wording shown, and lifts the email
// unsubscribe; confirming again changes nothing more. A link older than a
// week, or one whose opt-in came before a later unsubscribe or erasure,
// records nothing; a forged one neither.
func TestOptinConfirmation(t *testing.T) {
	optedIn := now.Add(-time.Hour)
	tests := []struct {
		name string
		// given changes the unsubscribed customer before the link is used.
		given    func(p *customer.Profile) bool
		token    func(s *unsubscribe.Sealer) string
		at       time.Time // when the link is used
		status   int
		page     string
		resumed  bool
		ledgered int // consent changes recorded by the link
	}{
		{name: "confirmed", status: 200, page: "受け取りを再開しました", resumed: true, ledgered: 1},
		{name: "on the seventh day", at: optedIn.Add(7 * 24 * time.Hour), status: 200, page: "受け取りを再開しました", resumed: true, ledgered: 1},
		{name: "after a week", at: optedIn.Add(7*24*time.Hour + time.Minute), status: 410, page: "有効期限"},
		{name: "resubscribed elsewhere, then unsubscribed again after the opt-in", given: func(p *customer.Profile) bool {
			p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: optedIn.Add(-time.Minute)})
			return p.Unsubscribe("email", "unsubscribe:one-click", optedIn.Add(time.Minute))
		}, status: 409, page: "再開できませんでした"},
		{name: "erased after the opt-in", given: func(p *customer.Profile) bool { return p.Erase(optedIn.Add(time.Minute)) }, status: 409, page: "再開できませんでした"},
		{name: "forged", token: func(*unsubscribe.Sealer) string {
			other, _ := unsubscribe.NewSealer("another-secret")
			return other.ConfirmationToken(unsubscribe.Confirmation{CustomerID: "c-1", OrderID: "1001", At: optedIn})
		}, status: 400, page: "リンクが無効です"},
		{name: "an unsubscribe token", token: func(s *unsubscribe.Sealer) string { return s.Token("c-1", "email") }, status: 400, page: "リンクが無効です"},
		{name: "an unknown customer", token: func(s *unsubscribe.Sealer) string {
			return s.ConfirmationToken(unsubscribe.Confirmation{CustomerID: "c-unknown", OrderID: "1001", At: optedIn})
		}, status: 409, page: "再開できませんでした"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st, sealer := setup(t)
			h.OptinText = "椿茶園からのお知らせ（新商品・セール情報）をメールで受け取る"
			ctx := context.Background()
			if _, err := st.UpdateProfile(ctx, "c-1", func(p *customer.Profile) bool {
				return p.Unsubscribe("email", "unsubscribe:page", optedIn.Add(-24*time.Hour))
			}); err != nil {
				t.Fatal(err)
			}
			if tt.given != nil {
				if _, err := st.UpdateProfile(ctx, "c-1", tt.given); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.at.IsZero() {
				h.Now = func() time.Time { return tt.at }
			}
			token := sealer.ConfirmationToken(unsubscribe.Confirmation{CustomerID: "c-1", OrderID: "1001", At: optedIn})
			if tt.token != nil {
				token = tt.token(sealer)
			}
			before := testenv.Snapshot(t, st.Table())
			if resp, _ := h.Handle(ctx, confirmRequest(confirmPage, token)); tt.status == 200 && (resp.StatusCode != 200 || !strings.Contains(resp.Body, "受け取りを再開する")) {
				t.Errorf("GET = %d:\n%s", resp.StatusCode, resp.Body)
			}
			if changed := testenv.Changed(before, testenv.Snapshot(t, st.Table())); len(changed) > 0 {
				t.Errorf("GET changed the table: %v", changed)
			}
			for range 2 {
				resp, err := h.Handle(ctx, confirmRequest(confirmPost, token))
				if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.page) {
					t.Fatalf("POST = %d %v, want %d %q:\n%s", resp.StatusCode, err, tt.status, tt.page, resp.Body)
				}
			}
			p, err := st.GetProfile(ctx, "c-1")
			if err != nil || p.Reachable("email") != tt.resumed {
				t.Errorf("reachable by email = %v (%v), want %v", p.Reachable("email"), err, tt.resumed)
			}
			ledger, err := st.ConsentLedger(ctx, "c-1")
			if err != nil {
				t.Fatal(err)
			}
			var confirmed []customer.ConsentChange
			for _, c := range ledger {
				if c.Source == confirmSource {
					confirmed = append(confirmed, c)
				}
			}
			if len(confirmed) != tt.ledgered {
				t.Fatalf("ledger entries of the confirmation: %+v, want %d", confirmed, tt.ledgered)
			}
			if tt.ledgered > 0 && (confirmed[0].State != string(order.ConsentGranted) || !confirmed[0].At.Equal(optedIn) || confirmed[0].Shown != h.OptinText || confirmed[0].Channel != "email") {
				t.Errorf("ledger entry %+v", confirmed[0])
			}
		})
	}
}
