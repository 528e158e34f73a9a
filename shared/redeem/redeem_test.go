package redeem

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var at = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

// newRedeemer is a redeemer on a fresh table under the shipped rules
// (rewards yen500: 500 pt, yen1000: 1,000 pt with a 3,000円 minimum)
// with a rate added (1 pt = 1円 in steps of 100 pt: pt-<n>), and the
// store to seed and check with.
func newRedeemer(t *testing.T) (*Redeemer, *store.Store) {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	set.Loyalty.Rate = &rules.RewardRate{ValuePerPoint: 1, Step: 100}
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	coder, _ := coupon.NewCoder("dev-secret")
	return &Redeemer{Store: st, Coupons: coder, Rules: set}, st
}

// give puts approved points (an adjustment) and pending ones (an order
// earned, not approved) into a customer's ledger.
func give(t *testing.T, st *store.Store, cid string, approved, pending int64) {
	t.Helper()
	ctx := context.Background()
	if approved > 0 {
		if _, err := st.PutMovement(ctx, loyalty.Movement{CustomerID: cid, Kind: loyalty.Adjusted, Reason: "test", Ref: "seed", Points: approved, At: at.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if pending > 0 {
		if _, err := st.PutMovement(ctx, loyalty.Movement{CustomerID: cid, Kind: loyalty.Earned, OrderID: "o-" + cid, Reason: "order", Points: pending, Merchandise: pending * 100, At: at.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

func balance(t *testing.T, st *store.Store, cid string) (loyalty.Balance, int) {
	t.Helper()
	ledger, err := st.Ledger(context.Background(), cid)
	if err != nil {
		t.Fatal(err)
	}
	spends := 0
	for _, m := range ledger {
		if m.Kind == loyalty.Spent {
			spends++
		}
	}
	return loyalty.BalanceOf(ledger), spends
}

func TestRedeem(t *testing.T) {
	tests := []struct {
		name              string
		approved, pending int64
		reward            string
		wantErr           error
		wantApproved      int64
		wantAmountOff     int64
	}{
		{name: "500 of 1,200 approved", approved: 1200, reward: "yen500", wantApproved: 700, wantAmountOff: 500},
		{name: "exactly the balance", approved: 1000, reward: "yen1000", wantApproved: 0, wantAmountOff: 1000},
		{name: "pending points cannot be spent", approved: 400, pending: 800, reward: "yen500", wantErr: ErrNotEnoughPoints, wantApproved: 400},
		{name: "over the balance", approved: 999, reward: "yen1000", wantErr: ErrNotEnoughPoints, wantApproved: 999},
		{name: "no points at all", reward: "yen500", wantErr: ErrNotEnoughPoints},
		{name: "an unknown reward", approved: 5000, reward: "yen5000", wantErr: ErrUnknownReward, wantApproved: 5000},
		{name: "at the rate: 300 of 450 approved", approved: 450, reward: "pt-300", wantApproved: 150, wantAmountOff: 300},
		{name: "at the rate: over the balance", approved: 450, reward: "pt-500", wantErr: ErrNotEnoughPoints, wantApproved: 450},
		{name: "at the rate: pending points cannot be spent", approved: 100, pending: 900, reward: "pt-200", wantErr: ErrNotEnoughPoints, wantApproved: 100},
		{name: "at the rate: not a multiple of the step", approved: 450, reward: "pt-250", wantErr: ErrUnknownReward, wantApproved: 450},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, st := newRedeemer(t)
			cid := fmt.Sprintf("c-redeem-%d", i)
			give(t, st, cid, tt.approved, tt.pending)
			req := Request{CustomerID: cid, RewardID: tt.reward, Key: "test:" + cid, At: at}
			res, err := r.Redeem(context.Background(), req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Redeem error = %v, want %v", err, tt.wantErr)
			}
			b, spends := balance(t, st, cid)
			if b.Approved != tt.wantApproved || b.Pending != tt.pending {
				t.Errorf("balance after = %+v, want approved %d pending %d", b, tt.wantApproved, tt.pending)
			}
			if tt.wantErr != nil {
				if spends != 0 {
					t.Errorf("a refused redemption spent: %d spends", spends)
				}
				return
			}
			c, err := st.GetCoupon(context.Background(), res.Coupon.Code)
			if err != nil || c.AmountOff != tt.wantAmountOff || c.CustomerID != cid || c.Campaign != CouponCampaign || !c.ExpiresAt.Equal(at.Add(90*24*time.Hour)) {
				t.Errorf("coupon = %+v, %v", c, err)
			}
			// The same request again (a retry, a double tap): the same
			// coupon, nothing more spent.
			again, err := r.Redeem(context.Background(), req)
			if err != nil || again.Coupon.Code != res.Coupon.Code {
				t.Errorf("retry = %+v, %v; want coupon %s", again, err, res.Coupon.Code)
			}
			if b, spends := balance(t, st, cid); spends != 1 || b.Approved != tt.wantApproved {
				t.Errorf("after a retry: %d spends, balance %+v", spends, b)
			}
		})
	}
}

// TestRedeemRaces: twelve different redemptions of 500 points at once on
// 1,200 approved points: exactly two succeed, each with its own coupon,
// and the balance is 200, never negative.
func TestRedeemRaces(t *testing.T) {
	r, st := newRedeemer(t)
	give(t, st, "c-race", 1200, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]bool{}
	refused := 0
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Redeem(context.Background(), Request{CustomerID: "c-race", RewardID: "yen500", Key: fmt.Sprintf("race:%d", i), At: at})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				codes[res.Coupon.Code] = true
			case errors.Is(err, ErrNotEnoughPoints):
				refused++
			default:
				t.Errorf("redemption %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	b, spends := balance(t, st, "c-race")
	if len(codes) != 2 || refused != 10 || spends != 2 || b.Approved != 200 {
		t.Errorf("%d coupons, %d refused, %d spends, balance %+v; want 2, 10, 2, 200", len(codes), refused, spends, b)
	}
}

// TestRedeemFinishesAfterACrash: a try that spent and died before the
// coupon is finished by the retry, which spends nothing more.
func TestRedeemFinishesAfterACrash(t *testing.T) {
	r, st := newRedeemer(t)
	give(t, st, "c-crash", 800, 0)
	ctx := context.Background()
	if _, err := st.PutMovement(ctx, loyalty.Movement{CustomerID: "c-crash", Kind: loyalty.Spent, Reason: "reward:yen500", Ref: "1", Points: 500, Request: "test:crash", At: at}); err != nil {
		t.Fatal(err)
	}
	res, err := r.Redeem(ctx, Request{CustomerID: "c-crash", RewardID: "yen500", Key: "test:crash", At: at.Add(time.Minute)})
	if err != nil || res.Coupon.AmountOff != 500 || !res.Coupon.IssuedAt.Equal(at) {
		t.Fatalf("retry after a crash = %+v, %v", res, err)
	}
	if b, spends := balance(t, st, "c-crash"); spends != 1 || b.Approved != 300 {
		t.Errorf("%d spends, balance %+v; want 1 and 300", spends, b)
	}
}
