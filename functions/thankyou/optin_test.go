package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// optinRequest is POST /thankyou/{orderId}/optin with a valid signature,
// {"consent": true}, from origin ("" for no Origin header).
func optinRequest(orderID, origin string) events.APIGatewayV2HTTPRequest {
	req := viewRequest(orderID, signed(orderID))
	req.RouteKey, req.Body = optinRoute, `{"consent": true}`
	req.Headers = map[string]string{"content-type": "text/plain;charset=UTF-8"}
	if origin != "" {
		req.Headers["origin"] = origin
	}
	return req
}

// TestOldLinkFromAForeignOriginLiftsNothing: the thank-you signature never
// expired, and an opt-in took effect whoever posted it: a link from an
// order 200 days old, posted from another site today, lifted the
// customer's explicit unsubscribe of day 100. Now the link has expired
// (401) and nothing changes.
func TestOldLinkFromAForeignOriginLiftsNothing(t *testing.T) {
	e := newEnv(t, nil, order.ConsentGranted)
	today := placed.Add(200 * 24 * time.Hour)
	e.h.Now = func() time.Time { return today }
	if _, err := e.store.UpdateProfile(context.Background(), "c-1", func(p *customer.Profile) bool {
		return p.Unsubscribe("email", "unsubscribe:one-click", placed.Add(100*24*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	before := testenv.Snapshot(t, e.table)
	resp := e.handle(t, optinRequest("1001", "https://evil.example"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a 200-day-old link from a foreign origin: %d %s, want 401", resp.StatusCode, resp.Body)
	}
	if changed := testenv.Changed(before, testenv.Snapshot(t, e.table)); len(changed) > 0 {
		t.Errorf("the table changed: %v", changed)
	}
	if p, err := e.store.GetProfile(context.Background(), "c-1"); err != nil || p.Reachable("email") {
		t.Errorf("the unsubscribe was lifted (reachable %v, %v)", p.Reachable("email"), err)
	}
	if n := len(testenv.SentEmails(t, e.email)); n != 0 {
		t.Errorf("%d emails sent", n)
	}
}

// handle answers one request, whatever its body.
func (e *env) handle(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned a Lambda error: %v", err)
	}
	return resp
}

// TestOptinOnlyFromTheShopsPages: the opt-in is taken only with an Origin
// in thankyou.allowed_origins; from anywhere else, or with none, 403 and
// nothing changes.
func TestOptinOnlyFromTheShopsPages(t *testing.T) {
	tests := []struct {
		name   string
		origin string
		status int
	}{
		{name: "the shop's page", origin: "https://tsubaki-chaen.example.jp", status: http.StatusOK},
		{name: "another site", origin: "https://evil.example", status: http.StatusForbidden},
		{name: "the shop's host over http", origin: "http://tsubaki-chaen.example.jp", status: http.StatusForbidden},
		{name: "a look-alike subdomain", origin: "https://tsubaki-chaen.example.jp.evil.example", status: http.StatusForbidden},
		{name: "no Origin (not a browser on the shop's page)", origin: "", status: http.StatusForbidden},
		{name: "a sandboxed frame", origin: "null", status: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, order.ConsentUnknown)
			before := testenv.Snapshot(t, e.table)
			resp := e.handle(t, optinRequest("1001", tt.origin))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tt.status)
			}
			changed := testenv.Changed(before, testenv.Snapshot(t, e.table))
			if (len(changed) > 0) != (tt.status == http.StatusOK) {
				t.Errorf("changes: %v", changed)
			}
		})
	}
}

// TestLinkExpires: a thank-you link works thankyou.link_valid_for (30d)
// after its order, the view and the opt-in alike; after, 401 and nothing
// issued or recorded.
func TestLinkExpires(t *testing.T) {
	tests := []struct {
		name   string
		age    time.Duration
		status int
	}{
		{name: "the day of the order", age: time.Minute, status: http.StatusOK},
		{name: "29 days on", age: 29 * 24 * time.Hour, status: http.StatusOK},
		{name: "30 days on", age: 30 * 24 * time.Hour, status: http.StatusOK},
		{name: "30 days and a minute on", age: 30*24*time.Hour + time.Minute, status: http.StatusUnauthorized},
		{name: "200 days on", age: 200 * 24 * time.Hour, status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, order.ConsentUnknown)
			e.h.Now = func() time.Time { return placed.Add(tt.age) }
			before := testenv.Snapshot(t, e.table)
			for _, req := range []events.APIGatewayV2HTTPRequest{viewRequest("1001", signed("1001")), optinRequest("1001", "https://tsubaki-chaen.example.jp")} {
				if resp := e.handle(t, req); resp.StatusCode != tt.status {
					t.Errorf("%s: status %d %s, want %d", req.RouteKey, resp.StatusCode, resp.Body, tt.status)
				}
			}
			if changed := testenv.Changed(before, testenv.Snapshot(t, e.table)); tt.status != http.StatusOK && len(changed) > 0 {
				t.Errorf("an expired link changed the table: %v", changed)
			}
		})
	}
}

// TestOptinAfterUnsubscribeNeedsConfirmation: an opt-in that would lift
// an explicit unsubscribe, or follow an erasure, changes nothing by
// itself: the customer gets one confirmation email (however often the
// opt-in is posted), whose link (GET|POST /optin/confirm) records the
// consent. Without an address to confirm with, 409 and nothing is sent.
func TestOptinAfterUnsubscribeNeedsConfirmation(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *customer.Profile) bool
		status int
		emails int
	}{
		{name: "unsubscribed after the order", change: func(p *customer.Profile) bool {
			return p.Unsubscribe("email", "unsubscribe:one-click", placed.Add(30*time.Second))
		}, status: http.StatusAccepted, emails: 1},
		{name: "unsubscribed before the order", change: func(p *customer.Profile) bool {
			return p.Unsubscribe("email", "unsubscribe:page", placed.Add(-24*time.Hour))
		}, status: http.StatusAccepted, emails: 1},
		{name: "erased", change: func(p *customer.Profile) bool { return p.Erase(placed.Add(30 * time.Second)) }, status: http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, order.ConsentGranted)
			ctx := context.Background()
			if _, err := e.store.UpdateProfile(ctx, "c-1", tt.change); err != nil {
				t.Fatal(err)
			}
			profile := func() customer.Profile {
				p, err := e.store.GetProfile(ctx, "c-1")
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			consent := profile().Consent
			for range 3 {
				if resp := e.handle(t, optinRequest("1001", "https://tsubaki-chaen.example.jp")); resp.StatusCode != tt.status {
					t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tt.status)
				}
			}
			if p := profile(); p.Consent != consent || p.Consent.State == order.ConsentGranted {
				t.Errorf("the opt-in took effect without confirmation: %+v", p.Consent)
			}
			mails := testenv.SentEmails(t, e.email)
			if len(mails) != tt.emails {
				t.Fatalf("%d emails, want %d", len(mails), tt.emails)
			}
			if tt.emails == 0 {
				return
			}
			m := mails[0]
			if !strings.Contains(m.Subject, "ご確認") || !strings.Contains(m.Body.Text, "https://api.example.jp/optin/confirm?token=") ||
				!strings.Contains(m.Body.HTML, "https://api.example.jp/optin/confirm?token=") || !strings.Contains(m.Body.Text, "〒604-8001") {
				t.Errorf("confirmation email: %s\n%s", m.Subject, m.Body.Text)
			}
		})
	}
}
