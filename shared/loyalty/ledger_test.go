package loyalty

import "testing"

func TestBalanceOf(t *testing.T) {
	earned := Movement{CustomerID: "c-1", Kind: Earned, OrderID: "1001", Points: 43, Merchandise: 4300}
	approved := Movement{CustomerID: "c-1", Kind: Approved, OrderID: "1001"}
	cancel := Movement{CustomerID: "c-1", Kind: Reversed, OrderID: "1001", Reason: ReasonCancel}
	refund := func(ref string, merch int64) Movement {
		return Movement{CustomerID: "c-1", Kind: Reversed, OrderID: "1001", Reason: ReasonRefund, Ref: ref, Merchandise: merch}
	}
	spent := Movement{CustomerID: "c-1", Kind: Spent, Ref: "reward-1", Points: 40}
	tests := []struct {
		name   string
		ledger []Movement
		want   Balance
	}{
		{name: "nothing", want: Balance{}},
		{name: "earned: pending", ledger: []Movement{earned}, want: Balance{Pending: 43}},
		{name: "approved", ledger: []Movement{earned, approved}, want: Balance{Approved: 43}},
		{name: "approved before earned (reordered)", ledger: []Movement{approved, earned}, want: Balance{Approved: 43}},
		{name: "cancelled while pending", ledger: []Movement{earned, cancel}, want: Balance{}},
		{name: "cancellation first, then the order", ledger: []Movement{cancel, earned}, want: Balance{}},
		{name: "a partial refund takes points pro rata, rounded down", ledger: []Movement{earned, refund("r1", 1000)}, want: Balance{Pending: 33}},
		{name: "two partial refunds", ledger: []Movement{earned, refund("r1", 1000), refund("r2", 2150)}, want: Balance{Pending: 11}},
		{name: "refunds over the merchandise leave nothing", ledger: []Movement{earned, refund("r1", 3000), refund("r2", 3000)}, want: Balance{}},
		{name: "a duplicate refund counts once", ledger: []Movement{earned, refund("r1", 2150), refund("r1", 2150)}, want: Balance{Pending: 21}},
		{name: "a refund of no merchandise takes nothing", ledger: []Movement{earned, refund("r1", 0)}, want: Balance{Pending: 43}},
		{name: "refund after approval and spending: negative", ledger: []Movement{earned, approved, spent, refund("r1", 4300)}, want: Balance{Approved: -40}},
		{name: "expired and adjusted", ledger: []Movement{earned, approved,
			{CustomerID: "c-1", Kind: Expired, Ref: "expiry-1", Points: 10}, {CustomerID: "c-1", Kind: Adjusted, Ref: "adj-1", Points: -5},
			{CustomerID: "c-1", Kind: Adjusted, Ref: "adj-2", Points: 100}}, want: Balance{Approved: 128}},
		{name: "huge amounts do not overflow", ledger: []Movement{{Kind: Earned, OrderID: "9", Points: 1 << 40, Merchandise: 1 << 50}, {Kind: Reversed, OrderID: "9", Reason: ReasonRefund, Ref: "r", Merchandise: 1 << 49}},
			want: Balance{Pending: 1 << 39}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BalanceOf(tt.ledger); got != tt.want {
				t.Errorf("BalanceOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMovementID(t *testing.T) {
	tests := []struct {
		m    Movement
		want string
	}{
		{Movement{Kind: Earned, OrderID: "1001"}, "earned#1001"},
		{Movement{Kind: Approved, OrderID: "1001"}, "approved#1001"},
		{Movement{Kind: Reversed, OrderID: "1001", Reason: ReasonCancel}, "reversed#1001#cancel"},
		{Movement{Kind: Reversed, OrderID: "1001", Reason: ReasonRefund, Ref: "889"}, "reversed#1001#refund#889"},
		{Movement{Kind: Spent, Ref: "reward-1"}, "spent#reward-1"},
		{Movement{Kind: Expired, Ref: "2027-01"}, "expired#2027-01"},
		{Movement{Kind: Adjusted, Ref: "adj-7"}, "adjusted#adj-7"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.m.ID(); got != tt.want {
				t.Errorf("ID = %q, want %q", got, tt.want)
			}
		})
	}
}
