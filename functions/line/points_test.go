package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// withPoints gives the fixture's handler its points desk under the
// shipped rules (rewards yen500 and yen1000), on the handler's own store
// (LineFunction's grants), and c-1 approved and pending points.
func (f fixture) withPoints(t *testing.T, approved, pending int64) {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	handlerStore := f.h.Store.(*store.Store)
	coder, _ := coupon.NewCoder("dev-secret")
	refs, _ := referral.NewCoder("dev-secret")
	f.h.Points = &PointsDesk{Ledger: handlerStore, Redeemer: &redeem.Redeemer{Store: handlerStore, Coupons: coder, Rules: set},
		Referrals: refs, Rules: set, PublicURL: "https://api.tsubaki-chaen.example.jp"}
	ctx := context.Background()
	for _, m := range []loyalty.Movement{
		{CustomerID: "c-1", Kind: loyalty.Adjusted, Reason: "移行", Ref: "import", Points: approved, At: now.Add(-24 * time.Hour)},
		{CustomerID: "c-1", Kind: loyalty.Earned, OrderID: "1001", Reason: "order", Points: pending, Merchandise: pending * 100, At: now.Add(-time.Hour)},
	} {
		if _, err := f.st.PutMovement(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func pointsPostback(id, data, u string) ev {
	return userEvent("postback", id, now.Add(2*time.Hour), u).with("postback", map[string]any{"data": data})
}

// TestPointsCard: the rich menu's ポイント確認 (action=points) answers a
// linked customer with the points card (golden): the balance, pending
// and expiring points, an exchange button per reward the balance covers,
// the referral link. A user not linked is invited to link instead.
func TestPointsCard(t *testing.T) {
	f := setup(t)
	f.linked(t, "c-1", user, now)
	f.withPoints(t, 1200, 43)
	answer(t, f.deliver(t, pointsPostback("p1", "action=points", user), pointsPostback("p2", "action=points", otherUser)))
	replies := f.line.Requests(lineapi.ReplyPath)
	if len(replies) != 2 {
		t.Fatalf("%d replies, want the card and the invitation", len(replies))
	}
	golden.Check(t, "reply-points-card.json", indent(t, replies[0].Body))
	if !strings.Contains(string(replies[1].Body), "アカウント連携") {
		t.Errorf("an unlinked user got %s", replies[1].Body)
	}
}

// TestPointsExchangeInTheChat exchanges points from the card's buttons: a
// coupon replied once per LINE event, however often LINE redelivers it;
// over the balance or an unknown reward, a reply saying so and nothing
// spent.
func TestPointsExchangeInTheChat(t *testing.T) {
	f := setup(t)
	f.linked(t, "c-1", user, now)
	f.withPoints(t, 1200, 43)
	exchange := pointsPostback("r1", "action=redeem&reward=yen1000", user)
	answer(t, f.deliver(t, exchange))
	answer(t, f.deliver(t, exchange.redelivered()))
	answer(t, f.deliver(t, pointsPostback("r2", "action=redeem&reward=yen500", user)))      // 200 left
	answer(t, f.deliver(t, pointsPostback("r3", "action=redeem&reward=yen5000", user)))     // no such reward
	answer(t, f.deliver(t, pointsPostback("r4", "action=redeem&reward=yen500", otherUser))) // not linked
	replies := f.line.Requests(lineapi.ReplyPath)
	want := []string{"TSN-", "ポイントが足りません（ご利用いただけるポイント: 200 pt）", "この交換はいまは受け付けていません"}
	if len(replies) < len(want) {
		t.Fatalf("%d replies, want at least %d", len(replies), len(want))
	}
	for i, w := range want {
		if !strings.Contains(string(replies[i].Body), w) {
			t.Errorf("reply %d = %s, want %q", i, replies[i].Body, w)
		}
	}
	golden.Check(t, "reply-points-exchanged.json", indent(t, replies[0].Body))
	ledger, err := f.st.Ledger(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	spends := 0
	for _, m := range ledger {
		if m.Kind == loyalty.Spent {
			spends++
		}
	}
	if b := loyalty.BalanceOf(ledger); spends != 1 || b.Approved != 200 || b.Pending != 43 {
		t.Errorf("%d spends, balance %+v; want one, 200 approved, 43 pending", spends, b)
	}
}

// TestPointsAtTheRate: with a rate (1 pt = 1円 in steps of 100 pt) the
// card offers the largest exchange the balance covers (golden), and its
// postback (action=redeem&reward=pt-1200) replies the coupon; an amount
// off the step is refused and nothing more is spent.
func TestPointsAtTheRate(t *testing.T) {
	f := setup(t)
	f.linked(t, "c-1", user, now)
	f.withPoints(t, 1250, 43)
	f.h.Points.Rules.Loyalty.Rate = &rules.RewardRate{ValuePerPoint: 1, Step: 100}
	answer(t, f.deliver(t, pointsPostback("p1", "action=points", user)))
	answer(t, f.deliver(t, pointsPostback("r1", "action=redeem&reward=pt-1200", user)))
	answer(t, f.deliver(t, pointsPostback("r2", "action=redeem&reward=pt-50", user)))
	replies := f.line.Requests(lineapi.ReplyPath)
	if len(replies) != 3 {
		t.Fatalf("%d replies, want the card, the coupon and the refusal", len(replies))
	}
	golden.Check(t, "reply-points-card-rate.json", indent(t, replies[0].Body))
	for i, w := range []string{"TSN-", "この交換はいまは受け付けていません"} {
		if !strings.Contains(string(replies[i+1].Body), w) {
			t.Errorf("reply %d = %s, want %q", i+1, replies[i+1].Body, w)
		}
	}
	ledger, err := f.st.Ledger(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if b := loyalty.BalanceOf(ledger); b.Approved != 50 || b.Pending != 43 {
		t.Errorf("balance %+v; want 50 approved, 43 pending", b)
	}
}
