package store

import (
	"context"
	"testing"
	"time"
)

// TestIssueCouponAgainKeepsItsRedemption: issuing a coupon again (a
// reloaded thank-you page, a retried trigger) returns the stored one and
// never overwrites it, so a used single-use coupon stays used.
func TestIssueCouponAgainKeepsItsRedemption(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	c := Coupon{Code: "TSN-ABCD-EFGH-JKMN", Campaign: "next-order", CustomerID: "c-1", TriggerKey: "order:1001", Name: "次回10%オフ",
		PercentOff: 10, Currency: "JPY", IssuedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour)}
	if _, first, err := s.IssueCoupon(ctx, c); err != nil || !first {
		t.Fatalf("IssueCoupon = %v, %v; want the first issue", first, err)
	}
	if _, ok, err := s.RedeemCoupon(ctx, c.Code, "1002", "c-1", t0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("RedeemCoupon = %v, %v", ok, err)
	}
	again, first, err := s.IssueCoupon(ctx, c)
	if err != nil || first || again.RedeemedOrder != "1002" {
		t.Errorf("issued again = %+v (first %v), %v; want the stored coupon, redeemed by 1002", again, first, err)
	}
	stored, err := s.GetCoupon(ctx, c.Code)
	if err != nil || stored.RedeemedOrder != "1002" {
		t.Errorf("stored coupon = %+v, %v; want it still redeemed by 1002", stored, err)
	}
	if _, ok, _ := s.RedeemCoupon(ctx, c.Code, "1003", "c-1", t0.Add(2*time.Hour)); ok {
		t.Error("the coupon was redeemed a second time")
	}
}
