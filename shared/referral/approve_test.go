package referral_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestApprove approves referrals against the emulator: a pending one is
// rewarded once however often it is approved, a reward interrupted after
// the status moved is issued on the retry, and referrals that are not
// pending reward nothing.
func TestApprove(t *testing.T) {
	shipped, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	withCoupon := *shipped
	loyaltyRules := *shipped.Loyalty
	programme := *loyaltyRules.Referral
	programme.AdvocatePoints, programme.AdvocateCoupon = 0, &rules.CouponSpec{Name: "ご紹介御礼", AmountOff: 1000, ExpiresIn: 90 * 24 * time.Hour}
	loyaltyRules.Referral, withCoupon.Loyalty = &programme, &loyaltyRules

	placed := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	now := placed.Add(20 * 24 * time.Hour)
	tests := []struct {
		name   string
		set    *rules.Set
		status referral.Status // "" for no referral
		// interrupted: an earlier approval moved the status, then stopped.
		interrupted bool
		wantErr     error
		points      int64 // the advocate's approved balance after
		coupons     int   // reward coupons issued
	}{
		{name: "pending, points", set: shipped, status: referral.Pending, points: 500},
		{name: "pending, a coupon", set: &withCoupon, status: referral.Pending, coupons: 1},
		{name: "rewarded, the reward interrupted", set: shipped, status: referral.Pending, interrupted: true, points: 500},
		{name: "in review", set: shipped, status: referral.Review, wantErr: referral.ErrNotApprovable},
		{name: "refused", set: shipped, status: referral.Refused, wantErr: referral.ErrNotApprovable},
		{name: "cancelled", set: shipped, status: referral.Cancelled, wantErr: referral.ErrNotApprovable},
		{name: "no referral", set: shipped, wantErr: referral.ErrNotApprovable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			table := testenv.NewTable(t)
			st := store.New(testenv.DynamoDB(), table)
			coder, _ := coupon.NewCoder("dev-secret")
			a := &referral.Approver{Store: st, Coupons: coder, Rules: tt.set}
			if tt.status != "" {
				r := referral.Referral{OrderID: "F1", Code: "REF-A4WCE-0P8G4", AdvocateID: "c-adv", FriendID: "c-friend", Status: tt.status, Reason: "x", PlacedAt: placed, At: placed}
				if _, _, err := st.PutReferral(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if tt.interrupted {
				if ok, err := st.SetReferralStatus(ctx, "F1", []referral.Status{referral.Pending}, referral.Rewarded, referral.ReasonWindowPassed, "points:500", now); err != nil || !ok {
					t.Fatalf("move to rewarded: %v %v", ok, err)
				}
			}
			for attempt := range 3 {
				r, err := a.Approve(ctx, "F1", now.Add(time.Duration(attempt)*time.Hour))
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("attempt %d: Approve = %+v, %v; want %v", attempt, r, err, tt.wantErr)
				}
				if err == nil && (r.Status != referral.Rewarded || r.Reward == "") {
					t.Errorf("attempt %d: Approve = %+v, want rewarded with its reward", attempt, r)
				}
			}
			ledger, err := st.Ledger(ctx, "c-adv")
			if err != nil {
				t.Fatal(err)
			}
			if b := loyalty.BalanceOf(ledger); b.Approved != tt.points || len(ledger) > 1 {
				t.Errorf("advocate's ledger %+v, balance %+v; want %d points in at most one movement", ledger, b, tt.points)
			}
			stored, found, err := st.GetReferral(ctx, "F1")
			if err != nil {
				t.Fatal(err)
			}
			rewarded := tt.points > 0 || tt.coupons > 0
			if found && (stored.Status == referral.Rewarded) != rewarded {
				t.Errorf("stored referral %+v; rewarded %v", stored, rewarded)
			}
			issued := 0
			if code, ok := strings.CutPrefix(stored.Reward, "coupon:"); found && ok {
				c, err := st.GetCoupon(ctx, code)
				if err != nil || c.CustomerID != "c-adv" || c.AmountOff != 1000 || c.Campaign != referral.CouponCampaign {
					t.Errorf("reward coupon %+v, %v", c, err)
				}
				issued++
			}
			if issued != tt.coupons {
				t.Errorf("%d coupons issued, want %d", issued, tt.coupons)
			}
		})
	}
}

// TestDecide records the shop's decisions on referrals in review: approved
// becomes pending (then rewarded by Approve), rejected refused; a
// referral not in review is left alone.
func TestDecide(t *testing.T) {
	shipped, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		status  referral.Status
		approve bool
		want    referral.Status
		reason  string
		wantErr error
	}{
		{"approved", referral.Review, true, referral.Pending, referral.ReasonApprovedByShop, nil},
		{"rejected", referral.Review, false, referral.Refused, referral.ReasonRejectedByShop, nil},
		{"not in review", referral.Refused, true, referral.Refused, referral.ReasonSameEmail, referral.ErrNotInReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
			r := referral.Referral{OrderID: "F1", AdvocateID: "c-adv", FriendID: "c-friend", Status: tt.status, Reason: referral.ReasonSameEmail, PlacedAt: at, At: at}
			if tt.status == referral.Review {
				r.Reason = referral.ReasonWeeklyLimit
			}
			if _, _, err := st.PutReferral(ctx, r); err != nil {
				t.Fatal(err)
			}
			if _, err := referral.Decide(ctx, st, "F1", tt.approve, at.Add(time.Hour)); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decide: %v, want %v", err, tt.wantErr)
			}
			got, _, err := st.GetReferral(ctx, "F1")
			if err != nil || got.Status != tt.want || got.Reason != tt.reason {
				t.Fatalf("referral %+v, %v; want %s %s", got, err, tt.want, tt.reason)
			}
			if got.Status != referral.Pending {
				return
			}
			coder, _ := coupon.NewCoder("dev-secret")
			if r, err := (&referral.Approver{Store: st, Coupons: coder, Rules: shipped}).Approve(ctx, "F1", at.Add(20*24*time.Hour)); err != nil || r.Status != referral.Rewarded {
				t.Errorf("approved by the shop, then Approve = %+v, %v; want rewarded", r, err)
			}
		})
	}
}

// TestIssued reads the reward recorded with a referral.
func TestIssued(t *testing.T) {
	tests := []struct {
		reward  string
		code    string
		points  int64
		wantErr bool
	}{
		{reward: "points:500", points: 500},
		{reward: "coupon:TSN-AAAA-BBBB-CCCC", code: "TSN-AAAA-BBBB-CCCC"},
		{reward: ""},
		{reward: "points:many", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.reward, func(t *testing.T) {
			code, points, err := referral.Referral{Reward: tt.reward}.Issued()
			if code != tt.code || points != tt.points || (err != nil) != tt.wantErr {
				t.Errorf("Issued() = %q, %d, %v; want %q, %d, error %v", code, points, err, tt.code, tt.points, tt.wantErr)
			}
		})
	}
}
