package kpi

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/lift"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// counted is one stats item's counters, as the functions add them.
type counted struct {
	pk, day, variant string
	counts           store.Counts
}

// write adds each item's counters with AddCounts.
func write(t *testing.T, st *store.Store, items []counted) {
	t.Helper()
	for _, it := range items {
		day, err := time.ParseInLocation(time.DateOnly, it.day, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		sk := store.DayKey(day, tokyo)
		if it.pk != store.ShopStatsPartition {
			sk = store.CampaignStatsKey(day, tokyo, it.variant)
		}
		if err := st.AddCounts(context.Background(), it.pk, sk, day, it.counts); err != nil {
			t.Fatal(err)
		}
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestCompute(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	shop, thanks, ab := store.ShopStatsPartition, store.CampaignStatsPartition("thanks"), store.CampaignStatsPartition("ab")
	write(t, st, []counted{
		// The previous period (2026-10-02..10-31) and the October cohort.
		{pk: shop, day: "2026-10-15", counts: store.Counts{"orders": 5, "revenue": 20000, "first_orders": 5, "active_2026-10": 5}},
		// Outside both periods: counts in neither.
		{pk: shop, day: "2026-10-01", counts: store.Counts{"orders": 100, "revenue": 1}},
		{pk: shop, day: "2026-11-01", counts: store.Counts{
			"orders": 10, "revenue": 50000, "first_orders": 4, "repeat_orders": 6, "cross_sell_orders": 3, "coupon_orders": 2,
			"email_sent": 1000, "email_delivered": 980, "email_bounced": 20, "email_complained": 2, "email_unsubscribed": 5,
			"active_2026-11": 4, "active_2026-10": 1,
		}},
		// Second orders: of November's first-time buyers (counted) and of
		// October's (not theirs to count), some after the period.
		{pk: shop, day: "2026-11-20", counts: store.Counts{"orders": 2, "revenue": 8000, "repeat_orders": 2, "second30_2026-11-01": 1, "second60_2026-11-01": 1, "second90_2026-11-01": 1, "second30_2026-10-15": 2}},
		{pk: shop, day: "2026-12-20", counts: store.Counts{"orders": 1, "second60_2026-11-01": 1, "second90_2026-11-01": 1}},
		{pk: thanks, day: "2026-11-03", counts: store.Counts{
			"sent": 100, "delivered": 95, "clicked": 20, "converted": 8, "revenue": 40000, "coupons_issued": 50, "coupons_redeemed": 10,
			"assigned_treatment": 900, "converted_treatment": 90, "revenue_treatment": 450000, "revenue_sq_treatment": 90 * 5000 * 5000,
			"assigned_holdout": 100, "converted_holdout": 5, "revenue_holdout": 25000, "revenue_sq_holdout": 5 * 5000 * 5000,
		}},
		{pk: thanks, day: "2026-11-04", counts: store.Counts{"sent": 10, "delivered": 10}},
		{pk: ab, day: "2026-11-05", variant: "a", counts: store.Counts{"sent": 50, "assigned_treatment": 50, "converted_treatment": 5}},
		{pk: ab, day: "2026-11-05", variant: "b", counts: store.Counts{"sent": 50, "assigned_treatment": 50, "converted_treatment": 15}},
		{pk: thanks, day: "2026-11-02", counts: store.Counts{"assigned_exposed": 950, "converted_exposed": 95, "assigned_control": 50, "converted_control": 4}},
	})
	for _, d := range []string{"2026-10-31", "2026-11-20", "2026-11-28", "2026-12-02"} {
		if err := st.SaveSnapshot(ctx, store.Snapshot{Date: d, Customers: 9}); err != nil {
			t.Fatal(err)
		}
	}

	p, err := ParsePeriod("2026-11-01", "2026-11-30", tokyo)
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 12, 3, 12, 0, 0, 0, tokyo)
	f, err := Compute(ctx, st, p, []Campaign{{ID: "thanks", Name: "お礼"}, {ID: "quiet"}, {ID: "ab"}}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if f.Previous.String() != "2026-10-02..2026-10-31" || f.Empty {
		t.Errorf("previous period %s, empty %v", f.Previous, f.Empty)
	}
	if f.Shop.Counts["orders"] != 12 || f.Shop.Counts["revenue"] != 58000 || f.PreviousShop.Counts["orders"] != 5 {
		t.Errorf("orders %d, revenue %d, previous orders %d; want 12, 58000, 5", f.Shop.Counts["orders"], f.Shop.Counts["revenue"], f.PreviousShop.Counts["orders"])
	}
	near(t, "AOV", f.Shop.AOV(), 58000.0/12)
	near(t, "repeat order rate", f.Shop.RepeatOrderRate(), 8.0/12)
	near(t, "cross-sell rate", f.Shop.CrossSellRate(), 3.0/8)
	for i, want := range []Conversion{{Days: 30, FirstOrders: 4, Converted: 1}, {Days: 60, FirstOrders: 4, Converted: 2}, {Days: 90, FirstOrders: 4, Converted: 2}} {
		if f.SecondPurchase[i] != want {
			t.Errorf("second purchase within %d days = %+v, want %+v (the window has not elapsed on Dec 3)", want.Days, f.SecondPurchase[i], want)
		}
	}
	// October's first-time buyers: 5 on the 15th, 2 of them back within
	// 30 days (counted on November 20th).
	if prev := f.PreviousSecondPurchase[0]; prev.FirstOrders != 5 || prev.Converted != 2 || !prev.Complete {
		t.Errorf("previous period's second purchase within 30 days = %+v, want 2 of 5, complete", prev)
	}
	if len(f.Cohorts) != 2 || f.Cohorts[0].Month != "2026-10" || len(f.Cohorts[0].Active) != 2 || f.Cohorts[0].Active[1] != 1 || f.Cohorts[1].Active[0] != 4 {
		t.Errorf("cohorts = %+v; want October (5, then 1) and November (4)", f.Cohorts)
	}
	near(t, "October's retention a month on", f.Cohorts[0].Retention(1), 0.2)
	// November's first-time buyers: two second orders within 90 days.
	if f.Cohorts[0].Repeated != 0 || f.Cohorts[1].Repeated != 2 {
		t.Errorf("cohorts' repeats within 90 days = %d, %d; want 0 (October's were counted within 30 days only), 2", f.Cohorts[0].Repeated, f.Cohorts[1].Repeated)
	}
	near(t, "November's repeat rate", f.Cohorts[1].RepeatRate(), 0.5)

	d := f.Deliverability
	near(t, "complaint rate", d.ComplaintRate(), 2.0/980)
	near(t, "bounce rate", d.BounceRate(), 0.02)
	levels := map[string]Level{}
	for _, c := range d.Checks {
		levels[c.Name] = c.Level
	}
	if levels["complaint"] != Near || levels["complaint_ses"] != Fine || levels["bounce"] != Fine || d.Worst() != Near {
		t.Errorf("checks = %+v; want complaints near 0.3%%, the rest fine", d.Checks)
	}

	if len(f.Campaigns) != 2 || f.Campaigns[0].ID != "thanks" || f.Campaigns[1].ID != "ab" {
		t.Fatalf("campaigns = %+v; want thanks and ab (quiet counted nothing)", f.Campaigns)
	}
	th := f.Campaigns[0]
	if th.Counts["sent"] != 110 || th.Counts["delivered"] != 105 {
		t.Errorf("thanks funnel: %v", th.Counts)
	}
	near(t, "coupon redemption", th.CouponRedemption(), 0.2)
	near(t, "thanks lift", th.Lift.Lift, 1) // 10% against 5%
	if th.Lift.Outcome != lift.NeedsData || th.Lift.NeedMore <= 0 {
		t.Errorf("thanks: outcome %d, need %d more; 100 held out cannot show a 10%% lift", th.Lift.Outcome, th.Lift.NeedMore)
	}
	abf := f.Campaigns[1]
	if len(abf.Variants) != 2 || abf.Variants[0].Name != "a" || abf.VariantTest.DF != 1 || abf.VariantTest.PValue >= 0.05 {
		t.Errorf("ab: variants %+v, test %+v; want a and b, 10%% against 30%% significant", abf.Variants, abf.VariantTest)
	}
	if f.Global == nil || f.Global.Lift.Treatment.Customers != 950 || f.Global.Lift.Control.Customers != 50 {
		t.Errorf("global control: %+v", f.Global)
	}
	if f.Snapshot == nil || f.Snapshot.Date != "2026-11-28" {
		t.Errorf("snapshot = %+v; want the latest in the period, 2026-11-28", f.Snapshot)
	}
	if f.PreviousSnapshot == nil || f.PreviousSnapshot.Date != "2026-10-31" {
		t.Errorf("previous snapshot = %+v; want the previous period's last night, 2026-10-31", f.PreviousSnapshot)
	}

	// A period with nothing in it says so.
	empty, err := ParsePeriod("2025-01-01", "2025-01-31", tokyo)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Compute(ctx, st, empty, []Campaign{{ID: "thanks"}}, asOf); err != nil || !f.Empty {
		t.Errorf("January 2025: empty %v, %v; want empty", f != nil && f.Empty, err)
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		name, from, to string
		previous       string
		days           int
		wantErr        bool
	}{
		{name: "a month", from: "2026-11-01", to: "2026-11-30", previous: "2026-10-02..2026-10-31", days: 30},
		{name: "a day", from: "2026-11-01", to: "2026-11-01", previous: "2026-10-31..2026-10-31", days: 1},
		{name: "across a year", from: "2026-01-01", to: "2026-12-31", previous: "2025-01-01..2025-12-31", days: 365},
		{name: "backwards", from: "2026-11-30", to: "2026-11-01", wantErr: true},
		{name: "not a date", from: "2026-11", to: "2026-11-30", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.from, tt.to, tokyo)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if err == nil && (p.Days() != tt.days || p.Previous().String() != tt.previous) {
				t.Errorf("%d days, previous %s; want %d, %s", p.Days(), p.Previous(), tt.days, tt.previous)
			}
		})
	}
}
