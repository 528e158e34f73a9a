package store

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
)

// ledgerScenario is one customer's points history as facts: its orders
// (earned, maybe approved, refunded in parts, cancelled) and the points
// spent, expired and adjusted beside them, with the balance they come to.
type ledgerScenario struct {
	movements []loyalty.Movement
	want      loyalty.Balance
}

// randomScenario draws a history for customer, and works out its balance
// by hand, order by order, apart from loyalty.BalanceOf.
func randomScenario(rng *rand.Rand, customer string) ledgerScenario {
	var sc ledgerScenario
	at := t0
	add := func(m loyalty.Movement) {
		at = at.Add(time.Duration(rng.IntN(3600)) * time.Second)
		m.CustomerID, m.At = customer, at
		sc.movements = append(sc.movements, m)
	}
	for o := range 1 + rng.IntN(3) {
		id := fmt.Sprintf("%d", 1000+o)
		merch := rng.Int64N(50000)
		points := merch / 100
		add(loyalty.Movement{Kind: loyalty.Earned, OrderID: id, Reason: "order", Points: points, Merchandise: merch})
		approved, cancelled := rng.IntN(10) < 6, rng.IntN(10) < 2
		if approved {
			add(loyalty.Movement{Kind: loyalty.Approved, OrderID: id, Reason: "return window passed"})
		}
		var refunded int64
		for r := range rng.IntN(3) {
			part := rng.Int64N(merch*7/10 + 1)
			refunded += part
			add(loyalty.Movement{Kind: loyalty.Reversed, OrderID: id, Reason: loyalty.ReasonRefund, Ref: fmt.Sprintf("r-%s-%d", id, r), Merchandise: part})
		}
		if cancelled {
			add(loyalty.Movement{Kind: loyalty.Reversed, OrderID: id, Reason: loyalty.ReasonCancel})
		}
		// What is left: the points times the share of the merchandise
		// not refunded, rounded down; nothing of a cancelled order.
		left := int64(0)
		if !cancelled && merch > 0 {
			kept := max(merch-refunded, 0)
			left = new(big.Int).Div(new(big.Int).Mul(big.NewInt(points), big.NewInt(kept)), big.NewInt(merch)).Int64()
		}
		if approved {
			sc.want.Approved += left
		} else {
			sc.want.Pending += left
		}
	}
	for i := range rng.IntN(3) {
		p := rng.Int64N(300)
		switch rng.IntN(3) {
		case 0:
			add(loyalty.Movement{Kind: loyalty.Spent, Reason: "500円クーポン", Ref: fmt.Sprintf("reward-%d", i), Points: p})
			sc.want.Approved -= p
		case 1:
			add(loyalty.Movement{Kind: loyalty.Expired, Reason: "12か月ご注文なし", Ref: fmt.Sprintf("expiry-%d", i), Points: p})
			sc.want.Approved -= p
		default:
			p -= 150
			add(loyalty.Movement{Kind: loyalty.Adjusted, Reason: "お詫び", Ref: fmt.Sprintf("adjust-%d", i), Points: p})
			sc.want.Approved += p
		}
	}
	return sc
}

// TestLedgerConverges is a property test against the emulator: each
// customer's movements (earn, approve, partial refunds, cancel, spend,
// expire, adjust) are delivered shuffled, each one to three times. Every
// write is the first of its id or has no effect, the ledger holds each
// movement once, the balance after each delivery is that of the distinct
// movements delivered so far, and the final balance is the history's,
// however the deliveries came.
func TestLedgerConverges(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	const seed = 14
	rng := rand.New(rand.NewPCG(seed, 2026))
	for trial := range 40 {
		customer := fmt.Sprintf("c-%d", trial)
		sc := randomScenario(rng, customer)
		var deliveries []loyalty.Movement
		for _, m := range sc.movements {
			for range 1 + rng.IntN(3) {
				deliveries = append(deliveries, m)
			}
		}
		rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
		delivered := map[string]loyalty.Movement{}
		for i, m := range deliveries {
			wrote, err := s.PutMovement(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			_, seen := delivered[m.ID()]
			if wrote == seen {
				t.Fatalf("seed %d trial %d delivery %d: PutMovement(%s) wrote %v after %d copies", seed, trial, i, m.ID(), wrote, len(delivered))
			}
			delivered[m.ID()] = m
			ledger, err := s.Ledger(ctx, customer)
			if err != nil {
				t.Fatal(err)
			}
			var distinct []loyalty.Movement
			for _, d := range delivered {
				distinct = append(distinct, d)
			}
			if len(ledger) != len(delivered) {
				t.Fatalf("seed %d trial %d delivery %d: the ledger holds %d movements, %d distinct were delivered", seed, trial, i, len(ledger), len(delivered))
			}
			if got, want := loyalty.BalanceOf(ledger), loyalty.BalanceOf(distinct); got != want || got.Pending < 0 {
				t.Fatalf("seed %d trial %d delivery %d: balance %+v, want %+v (pending never negative)", seed, trial, i, got, want)
			}
		}
		ledger, err := s.Ledger(ctx, customer)
		if err != nil {
			t.Fatal(err)
		}
		if got := loyalty.BalanceOf(ledger); got != sc.want {
			t.Errorf("seed %d trial %d: final balance %+v, want %+v from %d movements", seed, trial, got, sc.want, len(sc.movements))
		}
	}
}

// TestLedgerKeepsTheFirstCopy: a movement written again with other
// content (a retried delivery after the shop edited the order) keeps the
// first, and the ledger reads back what was written.
func TestLedgerKeepsTheFirstCopy(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	first := loyalty.Movement{CustomerID: "c-1", Kind: loyalty.Earned, OrderID: "1001", Reason: "order", Points: 43, Merchandise: 4300, At: t0}
	again := first
	again.Points, again.Merchandise = 99, 9900
	for i, m := range []loyalty.Movement{first, again} {
		if wrote, err := s.PutMovement(ctx, m); err != nil || wrote != (i == 0) {
			t.Fatalf("PutMovement #%d = %v, %v", i, wrote, err)
		}
	}
	ledger, err := s.Ledger(ctx, "c-1")
	if err != nil || len(ledger) != 1 || ledger[0] != first {
		t.Errorf("ledger = %+v, %v; want only %+v", ledger, err, first)
	}
}
