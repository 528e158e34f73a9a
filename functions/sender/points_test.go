package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestPointsExpiryWarnedOnceBeforeTheyLapse follows two customers' points
// from approval to expiry under the shipped rules (12 months without an
// order, warnings 30 and 7 days before, the points-expiring campaign):
// each warning is emailed once, with the points and the days left, however
// often the tick runs or the queue repeats it; a customer who orders again
// in between gets no further warning, and keeps their points.
func TestPointsExpiryWarnedOnceBeforeTheyLapse(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	ctx := context.Background()
	placed := delivered.Add(-72 * time.Hour) // deliveredOrder's
	expires := placed.AddDate(1, 0, 0)
	lapsing, reordered := testenv.UniqueEmail(t, "lapsing"), testenv.UniqueEmail(t, "reordered")
	purchase := &loyalty.Steps{Ledger: w.purchase, Rules: w.set}
	earn := func(cid, orderID string, at time.Time, delivered bool) {
		t.Helper()
		status := order.Created
		if delivered {
			status = order.Delivered
		}
		o := order.Order{ID: orderID, Currency: "JPY", PlacedAt: at, Customer: &order.Customer{ID: cid}}
		if err := purchase.Order(ctx, loyalty.OrderDelivery{Event: status, Order: o, Status: status, BroughtDetails: true, Merchandise: 12800, At: at, HeardAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for cid, to := range map[string]string{"pts-1": lapsing, "pts-2": reordered} {
		w.deliveredOrder(t, cid, to)
		earn(cid, "o-"+cid, placed, true)
	}
	// A tick runs what is due (the review requests too).
	tick := func(at time.Time) scheduler.Result { return w.tickAndDrain(t, at) }
	tick(placed.Add(14 * 24 * time.Hour)) // approves both orders' 128 points and arms the warnings
	for _, key := range []string{store.PointsExpiringKey("o-pts-1", 30*24*time.Hour), store.PointsExpiringKey("o-pts-1", 7*24*time.Hour)} {
		if tm, err := w.store.GetTimer(ctx, key); err != nil || tm.Status != store.TimerArmed || !tm.ExpiresAt.Equal(expires) {
			t.Fatalf("warning timer %s = %+v, %v", key, tm, err)
		}
	}

	tick(expires.Add(-30 * 24 * time.Hour))
	if res := tick(expires.Add(-30 * 24 * time.Hour)); res.Enqueued != 0 {
		t.Fatalf("the same tick again enqueued %d", res.Enqueued)
	}
	for _, to := range []string{lapsing, reordered} {
		mails := warnings(t, to)
		if len(mails) != 1 || !strings.Contains(mails[0].Subject, "128ポイント") || !strings.Contains(mails[0].Body.Text, "あと30日") ||
			!strings.Contains(mails[0].Body.Text, "2027年11月21日") {
			t.Fatalf("30-day warnings to %s = %+v", to, mails)
		}
	}
	// The queue delivers the same warning again: nothing more is sent.
	tm, err := w.store.GetTimer(ctx, store.PointsExpiringKey("o-pts-1", 30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(queue.Message{Timer: tm, Now: expires.Add(-30 * 24 * time.Hour)})
	if err := w.handler.fire(ctx, string(body)); err != nil {
		t.Fatal(err)
	}
	if mails := warnings(t, lapsing); len(mails) != 1 {
		t.Fatalf("a repeated warning sent again: %d emails", len(mails))
	}

	earn("pts-2", "o-pts-2-again", expires.Add(-20*24*time.Hour), false) // orders again in between
	tick(expires.Add(-7 * 24 * time.Hour))
	if mails := warnings(t, lapsing); len(mails) != 2 || !strings.Contains(mails[1].Body.Text, "あと7日") {
		t.Fatalf("7-day warning = %+v", mails)
	}
	if mails := warnings(t, reordered); len(mails) != 1 {
		t.Fatalf("a customer who ordered again was warned again: %+v", mails)
	}

	tick(expires)
	for cid, want := range map[string]int64{"pts-1": 0, "pts-2": 128} {
		ledger, err := w.store.Ledger(ctx, cid)
		if err != nil {
			t.Fatal(err)
		}
		if b := loyalty.BalanceOf(ledger); b.Approved != want {
			t.Errorf("%s approved balance after the expiry date = %d, want %d", cid, b.Approved, want)
		}
	}
}

// tickAndDrain runs the scheduler's tick as of at and the sender on
// everything it queued.
func (w *world) tickAndDrain(t *testing.T, at time.Time) scheduler.Result {
	t.Helper()
	res, err := w.ticker.Tick(context.Background(), at)
	if err != nil {
		t.Fatalf("tick at %s: %v", at, err)
	}
	w.drain(t, nil)
	return res
}

// warnings are the points expiry warnings emailed to to, leaving out the
// review requests.
func warnings(t *testing.T, to string) []testenv.Email {
	t.Helper()
	var out []testenv.Email
	for _, m := range testenv.SentEmails(t, to) {
		if strings.Contains(m.Subject, "ポイント") {
			out = append(out, m)
		}
	}
	return out
}

// TestReferralRewardTold: once a referred order's reward is issued, the
// advocate is told by the shipped referral-thanks campaign through the
// sender, with the reward (points, or the coupon with its code) and never
// the friend's order; once, however often the timer is delivered.
func TestReferralRewardTold(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	ctx := context.Background()
	coupons, _ := coupon.NewCoder("dev-secret")
	tests := []struct {
		name, advocate, orderID string
		coupon                  bool
		want                    string
	}{
		{name: "points", advocate: "adv-points", orderID: "F-points", want: "500ポイント"},
		{name: "coupon", advocate: "adv-coupon", orderID: "F-coupon", coupon: true, want: "ご紹介ありがとうクーポン"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := testenv.UniqueEmail(t, tt.advocate)
			w.deliveredOrder(t, tt.advocate, to)
			w.tickAndDrain(t, delivered.Add(8*24*time.Hour)) // the advocate's own review request, out of the way of the daily cap
			at := delivered.Add(30 * 24 * time.Hour)
			set := *w.set
			if tt.coupon {
				r := *set.Loyalty.Referral
				r.AdvocatePoints, r.AdvocateCoupon = 0, &rules.CouponSpec{Name: "ご紹介ありがとうクーポン", AmountOff: 1000, ExpiresIn: 90 * 24 * time.Hour}
				l := *set.Loyalty
				l.Referral = &r
				set.Loyalty = &l
			}
			if _, _, err := w.store.PutReferral(ctx, referral.Referral{OrderID: tt.orderID, Code: "REF-TEST", AdvocateID: tt.advocate, FriendID: "c-friend-" + tt.name,
				Status: referral.Pending, PlacedAt: delivered, At: delivered}); err != nil {
				t.Fatal(err)
			}
			approver := &referral.Approver{Store: store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), w.table), Coupons: coupons, Rules: &set}
			if _, err := approver.Approve(ctx, tt.orderID, at); err != nil {
				t.Fatal(err)
			}
			w.tickAndDrain(t, at)
			w.tickAndDrain(t, at)
			var told []testenv.Email
			for _, m := range testenv.SentEmails(t, to) {
				if strings.Contains(m.Subject, "ご紹介ありがとうございました") {
					told = append(told, m)
				}
			}
			if len(told) != 1 || !strings.Contains(told[0].Subject, tt.want) || strings.Contains(told[0].Body.Text, tt.orderID) {
				t.Fatalf("advocate told = %+v", told)
			}
			if tt.coupon {
				r, _, _ := w.store.GetReferral(ctx, tt.orderID)
				if code := strings.TrimPrefix(r.Reward, "coupon:"); !strings.Contains(told[0].Body.Text, code) {
					t.Errorf("the email does not show the coupon %s", code)
				}
			}
		})
	}
}

// TestPointsExpiryWarningWaitsOutQuietHours: a warning due at night (the
// shipped campaign's LINE action keeps quiet hours, 21:00-09:00) waits
// for the morning, and is then sent with the points it warns of: the
// wait keeps the expiry, so the audience (points_expiring >= 100) still
// sees the points.
func TestPointsExpiryWarningWaitsOutQuietHours(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	ctx := context.Background()
	placed := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC) // 22:00 in Tokyo
	expires := placed.AddDate(1, 0, 0)
	to := testenv.UniqueEmail(t, "night")
	w.deliveredOrder(t, "pts-night", to)
	purchase := &loyalty.Steps{Ledger: w.purchase, Rules: w.set}
	o := order.Order{ID: "o-pts-night", Currency: "JPY", PlacedAt: placed, Customer: &order.Customer{ID: "pts-night"}}
	if err := purchase.Order(ctx, loyalty.OrderDelivery{Event: order.Delivered, Order: o, Status: order.Delivered, BroughtDetails: true,
		Merchandise: 12800, At: placed, HeardAt: placed}); err != nil {
		t.Fatal(err)
	}
	w.tickAndDrain(t, placed.Add(14*24*time.Hour)) // approves the points, arms the warnings
	w.tickAndDrain(t, expires.Add(-30*24*time.Hour))
	if mails := warnings(t, to); len(mails) != 0 {
		t.Fatalf("a warning sent in quiet hours: %+v", mails)
	}
	morning := time.Date(2027, 10, 23, 0, 0, 0, 0, time.UTC) // 09:00 in Tokyo
	w.tickAndDrain(t, morning)
	if mails := warnings(t, to); len(mails) != 1 || !strings.Contains(mails[0].Subject, "128ポイント") {
		t.Fatalf("warnings after the quiet hours = %+v", mails)
	}
}
