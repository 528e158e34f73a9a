package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

var nonceField = regexp.MustCompile(`name="nonce" value="[^"]*"`)

// TestPointsPageGolden: the confirm page of a programme with fixed
// rewards and a rate (1 pt = 1円 in steps of 100 pt), as the customer sees
// it, and the exchange at the rate: 1,200 of 1,200 approved points for a
// 1,200円 coupon; an amount off the step or over the balance spends
// nothing.
func TestPointsPageGolden(t *testing.T) {
	f := newFixture(t, "https://api.example.jp")
	f.h.Rules.Loyalty.Rate = &rules.RewardRate{ValuePerPoint: 1, Step: 100}
	token := strings.TrimPrefix(f.links.URL("c-1", sent), "https://api.example.jp/points/")
	tests := []struct {
		name, golden string
		body         string
		route        string
		status       int
	}{
		{name: "the page offers the rate's 1,200 pt", golden: "points-page.html", route: pageRoute, status: 200},
		{name: "off the step", route: postRoute, body: "reward=pt-1250&nonce=nonce-off-the-step-0001", status: 400},
		{name: "over the balance", route: postRoute, body: "reward=pt-1300&nonce=nonce-over-balance-0001", status: 409},
		{name: "1,200 pt at the rate", golden: "points-exchanged.html", route: postRoute, body: "reward=pt-1200&nonce=nonce-rate-exchange-01", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, before := f.spends(t)
			resp, err := f.h.Handle(context.Background(), request(tt.route, token, tt.body))
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("answer = %d, %v; want %d:\n%s", resp.StatusCode, err, tt.status, resp.Body)
			}
			if tt.golden != "" {
				// The form's nonce is new on every page.
				golden.Check(t, tt.golden, nonceField.ReplaceAllString(resp.Body, `name="nonce" value="NONCE"`))
			}
			if _, after := f.spends(t); tt.status != 200 && after != before {
				t.Errorf("a refused exchange spent: %d spends, was %d", after, before)
			}
		})
	}
	if b, n := f.spends(t); n != 1 || b.Approved != 0 || b.Pending != 43 {
		t.Errorf("%d spends, balance %+v; want one, 0 approved, 43 pending", n, b)
	}
}
