package rules

import (
	"reflect"
	"testing"
	"testing/fstest"
	"time"
)

func TestReferral(t *testing.T) {
	const earn = "earn: {amount_per_point: 100}\n"
	tests := []struct {
		name    string
		content string
		want    *Referral
		link    string // for code AB12
	}{
		{name: "no section, no programme", content: earn, want: nil},
		{name: "points, default cap and link", content: earn + "referral:\n  friend: {percent_off: 10}\n  advocate: {points: 300}\n",
			want: &Referral{Friend: Discount{PercentOff: 10}, AdvocatePoints: 300, MaxPerWeek: DefaultReferralsPerWeek},
			link: "https://tsubaki-chaen.example.jp/?ref=AB12"},
		{name: "a coupon, a cap and a landing page",
			content: earn + "referral:\n  friend: {amount_off: 500, min_order: 3000}\n  advocate:\n    coupon: {name: ご紹介御礼, amount_off: 1000, expires_in: 90d}\n" +
				"  max_per_week: 2\n  landing_url: https://tsubaki-chaen.example.jp/pages/welcome?ref={code}&utm_source=referral\n",
			want: &Referral{Friend: Discount{AmountOff: 500, MinOrder: 3000}, MaxPerWeek: 2,
				AdvocateCoupon: &CouponSpec{Name: "ご紹介御礼", AmountOff: 1000, ExpiresIn: 90 * 24 * time.Hour},
				LandingURL:     "https://tsubaki-chaen.example.jp/pages/welcome?ref={code}&utm_source=referral"},
			link: "https://tsubaki-chaen.example.jp/pages/welcome?ref=AB12&utm_source=referral"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			fsys[LoyaltyFile] = &fstest.MapFile{Data: []byte(tt.content)}
			set, err := LoadFS(fsys, "rules")
			if err != nil {
				t.Fatal(err)
			}
			got := set.Loyalty.Referral
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Referral = %+v, want %+v", got, tt.want)
			}
			if got != nil {
				if link := got.Link(set.Settings.Shop.URL, "AB12"); link != tt.link {
					t.Errorf("Link = %q, want %q", link, tt.link)
				}
			}
		})
	}
}
