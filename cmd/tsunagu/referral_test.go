package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestReferralList lists referrals by status from the emulator, in the
// shop's zone, oldest first, with ids only.
func TestReferralList(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	st, ctx := store.New(testenv.DynamoDB(), table), context.Background()
	t0 := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC) // 10:00 JST
	for i, r := range []referral.Referral{
		{OrderID: "F2", AdvocateID: "c-adv", FriendID: "c-f2", Status: referral.Review, Reason: referral.ReasonWeeklyLimit, PlacedAt: t0.Add(time.Hour)},
		{OrderID: "F1", AdvocateID: "c-adv", FriendID: "c-f1", Status: referral.Review, Reason: referral.ReasonWeeklyLimit, PlacedAt: t0},
		{OrderID: "F3", AdvocateID: "c-adv", FriendID: "c-f3", Status: referral.Refused, Reason: referral.ReasonSameEmail, PlacedAt: t0},
	} {
		r.Code, r.At = "REF-A4WCE-0P8G4", r.PlacedAt.Add(time.Duration(i)*time.Second)
		if _, _, err := st.PutReferral(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		status string
		want   []string // lines' words, in order
	}{
		{"review", []string{"ORDER PLACED ADVOCATE FRIEND STATUS REASON SINCE REWARD",
			"F1 2026-11-20 10:00 c-adv c-f1 review over_weekly_limit 2026-11-20 10:00 -",
			"F2 2026-11-20 11:00 c-adv c-f2 review over_weekly_limit 2026-11-20 11:00 -",
			"2 review referrals"}},
		{"refused", []string{"ORDER PLACED ADVOCATE FRIEND STATUS REASON SINCE REWARD",
			"F3 2026-11-20 10:00 c-adv c-f3 refused same_email 2026-11-20 10:00 -", "1 refused referrals"}},
		{"rewarded", []string{"no rewarded referrals"}},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			out, err := capture(t, referralCommand, "list", "--status", tt.status, "--table", table, "--rules", rulesDir())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				got = append(got, strings.Join(strings.Fields(line), " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("referral list --status %s:\n%s\nwant:\n%s", tt.status, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := capture(t, referralCommand, "list", "--status", "approved", "--table", table); err != errUsage {
		t.Errorf("an unknown status: %v, want the usage", err)
	}

	// The shop's decisions: F1 approved (pending), F2 rejected (refused),
	// F3 not in review (left alone).
	for _, d := range []struct{ verb, order, out string }{
		{"approve", "F1", "referral of order F1: pending\n"}, {"reject", "F2", "referral of order F2: refused\n"}, {"approve", "F3", ""},
	} {
		out, err := capture(t, referralCommand, d.verb, d.order, "--table", table)
		if out != d.out || (err != nil) != (d.out == "") || err != nil && !errors.Is(err, referral.ErrNotInReview) {
			t.Errorf("referral %s %s = %q, %v; want %q", d.verb, d.order, out, err, d.out)
		}
	}
	out, err := capture(t, referralCommand, "list", "--status", "review", "--table", table, "--rules", rulesDir())
	if err != nil || strings.TrimSpace(out) != "no review referrals" {
		t.Errorf("after the decisions, review lists %q, %v", out, err)
	}
}
