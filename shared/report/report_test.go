package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/browser"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// asOf is when the fixture's report is made: three days after November.
var asOf = time.Date(2026, 12, 3, 9, 0, 0, 0, tokyo)

// names are the shop's and two segments'.
var names = Names{Shop: "椿茶園", Segments: map[string]string{"vip": "上位10%の購入額、またはロイヤル顧客", "tea_lovers": "お茶をよく買うお客様"}}

var campaigns = []kpi.Campaign{
	{ID: "post-purchase-thanks", Name: "購入お礼とおすすめ"},
	{ID: "second-purchase-nudge", Name: "2回目購入のおすすめ"},
	{ID: "winback", Name: "休眠顧客の呼び戻し"},
	{ID: "birthday-coupon", Name: "誕生日クーポン"},
}

// fixture writes fixed counters with AddCounts, as the functions would:
// a year of cohorts, November and October's shop counters, three
// campaigns (a lift shown, one too small to tell, an A/B test), the
// global control group and a nightly snapshot.
func fixture(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	add := func(pk, day, variant string, c store.Counts) {
		d, err := time.ParseInLocation(time.DateOnly, day, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		sk := store.DayKey(d, tokyo)
		if pk != store.ShopStatsPartition {
			sk = store.CampaignStatsKey(d, tokyo, variant)
		}
		if err := st.AddCounts(ctx, pk, sk, d, c); err != nil {
			t.Fatal(err)
		}
	}
	shop := store.ShopStatsPartition
	// Cohorts: each month's first-time buyers, and how many of them
	// ordered again in each later month (on its 10th).
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, tokyo)
	for m := 0; m < 12; m++ {
		cohort := start.AddDate(0, m, 0)
		size := int64(400 + 37*m)
		if cohort.Month() == time.July || cohort.Month() == time.December {
			size += 300 // お中元, お歳暮
		}
		name := "active_" + cohort.Format("2006-01")
		add(shop, cohort.AddDate(0, 0, 4).Format(time.DateOnly), "", store.Counts{name: size, "first_orders": size})
		if m < 11 { // a second order within 90 days, a month on
			add(shop, cohort.AddDate(0, 1, 9).Format(time.DateOnly), "", store.Counts{"second90_" + cohort.AddDate(0, 0, 4).Format(time.DateOnly): size * int64(18+m) / 100})
		}
		for k := 1; m+k < 12; k++ {
			add(shop, cohort.AddDate(0, k, 9).Format(time.DateOnly), "", store.Counts{name: size * int64(30-2*k) / 100 / int64(k)})
		}
	}
	// October (the previous period) and November.
	add(shop, "2026-10-20", "", store.Counts{
		"orders": 1480, "revenue": 6_512_000, "first_orders": 20, "repeat_orders": 880, "cross_sell_orders": 190, "coupon_orders": 160,
		"email_sent": 9200, "email_delivered": 9050, "email_bounced": 150, "email_complained": 9, "email_unsubscribed": 40,
		"nps_promoters": 40, "nps_passives": 30, "nps_detractors": 30,
	})
	add(shop, "2026-11-15", "", store.Counts{
		"orders": 1710, "revenue": 7_695_000, "first_orders": 30, "repeat_orders": 1040, "cross_sell_orders": 260, "coupon_orders": 240,
		"email_sent": 12000, "email_delivered": 11760, "email_bounced": 240, "email_complained": 21, "email_unsubscribed": 66,
		"nps_promoters": 50, "nps_passives": 30, "nps_detractors": 20,
	})
	// Second orders of November's first-time buyers (the first orders of
	// the 5th), some in December.
	add(shop, "2026-11-28", "", store.Counts{"second30_2026-11-05": 61, "second60_2026-11-05": 61, "second90_2026-11-05": 61})
	add(shop, "2026-12-02", "", store.Counts{"second60_2026-11-05": 9, "second90_2026-11-05": 9})

	thanks := store.CampaignStatsPartition("post-purchase-thanks")
	add(thanks, "2026-11-15", "", store.Counts{
		"sent": 16000, "delivered": 15700, "bounced": 300, "complained": 12, "unsubscribed": 50, "opened": 7000, "clicked": 2300, "clicks": 2900,
		"converted": 1900, "revenue": 8_550_000, "coupons_issued": 16000, "coupons_redeemed": 1100,
		"assigned_treatment": 16000, "converted_treatment": 1920, "revenue_treatment": 8_640_000, "revenue_sq_treatment": 1920 * 4500 * 4500 * 13 / 10,
		"assigned_holdout": 16000, "converted_holdout": 1600, "revenue_holdout": 7_200_000, "revenue_sq_holdout": 1600 * 4500 * 4500 * 13 / 10,
	})
	nudge := store.CampaignStatsPartition("second-purchase-nudge")
	add(nudge, "2026-11-15", "", store.Counts{
		"sent": 900, "delivered": 880, "clicked": 120, "converted": 60, "revenue": 270_000,
		"assigned_treatment": 900, "converted_treatment": 60, "revenue_treatment": 270_000, "revenue_sq_treatment": 60 * 4500 * 4500,
		"assigned_holdout": 100, "converted_holdout": 5, "revenue_holdout": 22_500, "revenue_sq_holdout": 5 * 4500 * 4500,
	})
	winback := store.CampaignStatsPartition("winback")
	for v, conv := range map[string]int64{"a": 40, "b": 75} {
		add(winback, "2026-11-20", v, store.Counts{
			"sent": 1000, "delivered": 980, "clicked": 90 + conv, "converted": conv, "revenue": conv * 5200,
			"assigned_treatment": 1000, "converted_treatment": conv, "revenue_treatment": conv * 5200, "revenue_sq_treatment": conv * 5200 * 5200,
		})
	}
	// The global comparison, as the campaigns count it on their own items.
	add(thanks, "2026-11-15", "", store.Counts{
		"assigned_exposed": 184000, "converted_exposed": 18860, "revenue_exposed": 84_870_000, "revenue_sq_exposed": 18860 * 4500 * 4500 * 13 / 10,
		"assigned_control": 16000, "converted_control": 1600, "revenue_control": 7_200_000, "revenue_sq_control": 1600 * 4500 * 4500 * 13 / 10,
	})
	shares := []int64{4_100_000, 1_800_000, 1_200_000, 900_000, 700_000, 520_000, 400_000, 300_000, 210_000, 120_000}
	snap := store.Snapshot{Date: "2026-11-30", ComputedAt: time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC), Customers: 5000,
		Stages: map[string]store.Share{
			"new": {Customers: 1900, Revenue: 1_900_000}, "repeat": {Customers: 1200, Revenue: 3_000_000}, "loyal": {Customers: 400, Revenue: 4_800_000},
			"at_risk": {Customers: 700, Revenue: 1_050_000}, "dormant": {Customers: 800, Revenue: 500_000},
		},
		Segments:   map[string]store.Share{"vip": {Customers: 620, Revenue: 5_900_000}, "tea_lovers": {Customers: 1400, Revenue: 4_200_000}},
		LineLinked: 1250, LineFollowing: 1100, EmailConsenting: 3100, MigrationSince: "2026-10-30",
		Migration: map[string]map[string]int{
			"none": {"new": 250}, "new": {"new": 1650, "repeat": 180, "at_risk": 120}, "repeat": {"repeat": 1000, "loyal": 60, "at_risk": 90},
			"loyal": {"loyal": 340}, "at_risk": {"repeat": 20, "at_risk": 490, "dormant": 110}, "dormant": {"dormant": 690},
		},
	}
	for i, r := range shares {
		snap.Deciles[i] = store.Share{Customers: 500, Revenue: r}
		snap.Revenue += r
	}
	snap.RepeatCustomers = 1600
	if err := st.SaveSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	// October's last night, for the repeat rate's change.
	if err := st.SaveSnapshot(ctx, store.Snapshot{Date: "2026-10-31", Customers: 4800, RepeatCustomers: 1488}); err != nil {
		t.Fatal(err)
	}
	return st
}

func figures(t *testing.T, st *store.Store, from, to string) *kpi.Figures {
	t.Helper()
	p, err := kpi.ParsePeriod(from, to, tokyo)
	if err != nil {
		t.Fatal(err)
	}
	f, err := kpi.Compute(context.Background(), st, p, campaigns, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestGolden(t *testing.T) {
	st := fixture(t)
	tests := []struct {
		name, from, to string
		want           []string // in the summary
	}{
		{
			name: "november", from: "2026-11-01", to: "2026-11-30",
			want: []string{"売上", "¥7,695,000", "▲ +18.2%", "1,710件", "NPS（おすすめ度）", "+30", "▲ +20", "効果あり", "差は確認できません", "各グループにあと約31,000人", "暫定"},
		},
		{name: "empty", from: "2024-01-01", to: "2024-01-31", want: []string{"この期間のデータはありません。"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := figures(t, st, tt.from, tt.to)
			var html, sum bytes.Buffer
			if err := HTML(&html, f, names); err != nil {
				t.Fatal(err)
			}
			if err := Summary(&sum, f, names); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name+".html", html.String())
			golden.Check(t, tt.name+".txt", sum.String())
			for _, w := range tt.want {
				if !strings.Contains(sum.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, sum.String())
				}
			}
		})
	}
}

// TestEscaped checks that names from the rules reach the page as text.
func TestEscaped(t *testing.T) {
	f := figures(t, fixture(t), "2026-11-01", "2026-11-30")
	f.Campaigns[0].Name = `<script>alert("x")</script>`
	var b bytes.Buffer
	if err := HTML(&b, f, Names{Shop: `椿<b>茶園</b>`, Segments: map[string]string{"vip": "<i>上位</i>"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") || strings.Contains(b.String(), "<b>") || strings.Contains(b.String(), "<i>") {
		t.Error("a campaign, shop or segment name reached the page as markup")
	}
}

// TestInBrowser opens the report in Chromium at a phone's and a desktop's
// width: no console errors, nothing fetched, no sideways scroll, and every
// chart drawn with a size and shapes.
func TestInBrowser(t *testing.T) {
	ctx := t.Context()
	if err := emulator.Install(ctx, filepath.Join(testenv.Root(), "infra", "local")); err != nil {
		t.Fatal(err)
	}
	f := figures(t, fixture(t), "2026-11-01", "2026-11-30")
	path := filepath.Join(t.TempDir(), "report.html")
	var b bytes.Buffer
	if err := HTML(&b, f, names); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, vp := range []browser.Viewport{{Width: 375, Height: 740}, {Width: 1280, Height: 900}} {
		t.Run(fmt.Sprintf("%dpx", vp.Width), func(t *testing.T) {
			p, err := browser.InspectPage(ctx, browser.PageConfig{URL: "file://" + path, Viewport: vp})
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range p.Problems(vp.Width) {
				t.Error(problem)
			}
			want := []string{"kpis", "second-purchase", "cohorts", "lift", "deciles", "deliverability", "funnel"}
			if !slices.Equal(p.Sections, want) {
				t.Errorf("sections %q, want %q", p.Sections, want)
			}
			// The heat map, the decile chart, and the lift charts of the
			// global control and the campaign with enough customers.
			if charts := p.ChartsBySection(); charts["cohorts"] != 1 || charts["deciles"] != 1 || charts["lift"] != 2 {
				t.Errorf("charts by section: %v", charts)
			}
			if !strings.Contains(p.Text, "各グループにあと約") {
				t.Error("the campaign without enough customers does not say how many more it needs")
			}
		})
	}
}
