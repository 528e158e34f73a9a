package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestReferralLink visits referral links through the local gateway, as
// deployed (the function's template grants only): a customer's code is
// counted and leads to the landing page with the code; anything else
// leads to the shop's home page, counted for no one, never to an error.
func TestReferralLink(t *testing.T) {
	s := newStack(t)
	s.now = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	s.h.Referrals = Referrals{Visits: s.h.Store.(*store.Store), Programme: s.set.Referral(), ShopURL: s.set.Settings.Shop.URL}
	coder, _ := referral.NewCoder(secret)
	ctx := context.Background()
	known := coder.Code("c-advocate")
	if ok, err := s.store.IndexCode(ctx, referral.Owner{Code: known, CustomerID: "c-advocate"}, s.now); err != nil || !ok {
		t.Fatalf("index code: %v %v", ok, err)
	}
	home := s.set.Settings.Shop.URL
	const linePreview = "facebookexternalhit/1.1;line-poker/1.0"
	tests := []struct {
		name, path, agent, location string
		visits                      int64 // of the known code, after the visit
	}{
		{"a customer's code", "/r/ref/" + known, browser, home + "/?ref=" + known, 1},
		{"the same code typed loosely", "/r/ref/" + strings.ToLower(strings.ReplaceAll(known, "-", "")), browser, home + "/?ref=" + known, 2},
		{"LINE's preview of the shared link", "/r/ref/" + known, linePreview, home + "/?ref=" + known, 2},
		{"a well-formed code no customer has", "/r/ref/" + coder.Code("c-nobody"), browser, home, 2},
		{"not a code at all", "/r/ref/%3Cscript%3E", browser, home, 2},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.srv+tt.path, nil)
			req.Header.Set("User-Agent", tt.agent)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.location {
				t.Errorf("GET %s = %d to %q, want 302 to %q", tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.location)
			}
			if n, err := s.store.ReferralVisits(ctx, known); err != nil || n != tt.visits {
				t.Errorf("visits of the known code = %d (%v), want %d", n, err, tt.visits)
			}
		})
	}
	for _, item := range testenv.Snapshot(t, s.store.Table()) {
		if strings.Contains(item, "REFCODE#") && !strings.Contains(item, known) {
			t.Errorf("a visit left an entry for a code no customer has: %.200s", item)
		}
	}
}
