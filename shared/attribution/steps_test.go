package attribution

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	steps *Steps
	st    *store.Store
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	return fixture{steps: &Steps{Store: st, Clicks: st, Rules: set}, st: st}
}

// sent records a campaign message sent at a time, as the runner does.
func (f fixture) sent(t *testing.T, key, campaign, customerID string, at time.Time) {
	t.Helper()
	rec := store.MessageRecord{Key: key, CampaignID: campaign, Channel: "email", CustomerID: customerID}
	if _, _, err := f.st.ClaimMessage(context.Background(), rec, at); err != nil {
		t.Fatal(err)
	}
	rec.ClaimedAt = at.UTC()
	if err := f.st.FinishMessage(context.Background(), rec, store.MessageSent, "", "ses-1", at); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) counts(t *testing.T, campaign, sk string) store.Counts {
	t.Helper()
	got, err := f.st.StatsBetween(context.Background(), store.CampaignStatsPartition(campaign), sk, sk)
	if err != nil {
		t.Fatal(err)
	}
	return got[sk]
}

// placed applies an order.created delivery of customerID's order as the
// purchase webhook does: fresh when the delivery newly placed the order in
// the profile, not when it retries one that did.
func (f fixture) placed(ctx context.Context, id, customerID string, at time.Time, fresh bool, codes ...string) {
	o := order.Order{ID: id, Currency: "JPY", Total: 4300, PlacedAt: at, Customer: &order.Customer{ID: customerID}, CouponCodes: codes,
		Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 4300, Quantity: 1}}}
	f.steps.OrderApplied(ctx, Delivery{Order: o, Status: order.Created, Created: true, At: at, Counts: customer.Counts{Placed: fresh, Day: at}})
}

// TestAttributionPrecedenceAndTakeBack walks an order's attribution
// through the store: a coupon of a campaign first, then the last click
// within its window, then the last message received within its window,
// each recorded once per order; refunds and the cancellation take the
// revenue back once.
func TestAttributionPrecedenceAndTakeBack(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	const cid = "c-attr"
	base := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo
	f.sent(t, "m-thanks", "thanks", cid, base.Add(-2*time.Hour))
	if _, err := f.st.RecordClick(ctx, store.Click{MessageKey: "m-news", CampaignID: "news", Variant: "b", CustomerID: cid, URL: "https://shop.example/",
		At: base.Add(-2 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.IssueCoupon(ctx, store.Coupon{Code: "TSN-AAAA-BBBB-CCCC", Campaign: "nudge", Variant: "a", CustomerID: cid,
		Currency: "JPY", IssuedAt: base.Add(-72 * time.Hour), ExpiresAt: base.Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.st.RedeemCoupon(ctx, "TSN-AAAA-BBBB-CCCC", "o-coupon", cid, base); err != nil || !ok {
		t.Fatalf("redeem = %v, %v", ok, err)
	}
	f.placed(ctx, "o-coupon", cid, base, true, "tsn-aaaa-bbbb-cccc")
	f.placed(ctx, "o-coupon", cid, base, false, "tsn-aaaa-bbbb-cccc") // a retry: counted once
	f.placed(ctx, "o-click", cid, base.Add(time.Hour), true)
	f.placed(ctx, "o-late", cid, base.Add(3*24*time.Hour+time.Hour), true) // the click is 5 days and 1 hour old
	f.sent(t, "m-recent", "thanks", cid, base.Add(4*24*time.Hour))
	f.placed(ctx, "o-recv", cid, base.Add(4*24*time.Hour+3*time.Hour), true)
	tests := []struct {
		order, via, campaign string
	}{
		{"o-coupon", ViaCoupon, "nudge"},
		{"o-click", ViaClick, "news"},
		{"o-late", "", ""},
		{"o-recv", ViaReceive, "thanks"},
	}
	for _, tt := range tests {
		t.Run(tt.order, func(t *testing.T) {
			a, err := f.st.GetAttribution(ctx, tt.order)
			if tt.via == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("attribution = %+v, %v; want none", a, err)
				}
				return
			}
			if err != nil || a.Via != tt.via || a.CampaignID != tt.campaign || a.Total != 4300 {
				t.Errorf("attribution = %+v, %v; want %s via %s", a, err, tt.campaign, tt.via)
			}
		})
	}
	wantCounts := func(campaign, sk string, want store.Counts) {
		t.Helper()
		if got := f.counts(t, campaign, sk); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s %s = %v, want %v", campaign, sk, got, want)
		}
	}
	wantCounts("nudge", "DAY#2026-11-20#a", store.Counts{"coupons_redeemed": 1, "converted": 1, "revenue": 4300})
	wantCounts("news", "DAY#2026-11-20#b", store.Counts{"converted": 1, "revenue": 4300})
	wantCounts("thanks", "DAY#2026-11-24#-", store.Counts{"converted": 1, "revenue": 4300})

	// A refund, heard of twice, then the cancellation, heard of twice: the
	// revenue goes back to 0 on the order's day, never below.
	refund := order.Refund{ID: "r-1", Amount: 1000, Currency: "JPY", At: base.Add(2 * 24 * time.Hour)}
	f.steps.Refunded(ctx, "o-click", refund)
	f.steps.Refunded(ctx, "o-click", refund)
	wantCounts("news", "DAY#2026-11-20#b", store.Counts{"converted": 1, "revenue": 3300})
	cancelled := order.Order{ID: "o-click", Currency: "JPY", Total: 4300, PlacedAt: base.Add(time.Hour), Customer: &order.Customer{ID: cid}}
	for range 2 {
		f.steps.OrderApplied(ctx, Delivery{Order: cancelled, Status: order.Cancelled, At: base.Add(3 * 24 * time.Hour)})
	}
	wantCounts("news", "DAY#2026-11-20#b", store.Counts{"converted": 1, "revenue": 0})
	// A refund after the cancellation takes nothing more.
	f.steps.Refunded(ctx, "o-click", order.Refund{ID: "r-2", Amount: 500, Currency: "JPY", At: base.Add(4 * 24 * time.Hour)})
	wantCounts("news", "DAY#2026-11-20#b", store.Counts{"converted": 1, "revenue": 0})
}
