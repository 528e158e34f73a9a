package loyalty

import (
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Summary is a customer's points as messages and pages show them.
type Summary struct {
	Balance
	// Expiring is the approved points that expire at ExpiresAt unless
	// the customer orders again: the approved balance when positive and
	// the programme has an expiry, else 0 (and ExpiresAt zero).
	Expiring  int64
	ExpiresAt time.Time
}

// Summarize sums a customer's ledger up under programme p: the balance,
// and when the approved points lapse — the programme's months after the
// customer's latest order that was not cancelled, as the expiry timers
// decide.
func Summarize(p *rules.Loyalty, ledger []Movement) Summary {
	s := Summary{Balance: BalanceOf(ledger)}
	if p == nil || p.ExpiryMonths <= 0 || s.Approved <= 0 {
		return s
	}
	if last, ok := latestOrder(ledger); ok {
		s.Expiring, s.ExpiresAt = s.Approved, last.At.UTC().AddDate(0, p.ExpiryMonths, 0)
	}
	return s
}

// latestOrder is the earned movement of the ledger's latest order that
// was not cancelled; false when there is none.
func latestOrder(ledger []Movement) (Movement, bool) {
	cancelled := map[string]bool{}
	for _, m := range ledger {
		if m.Kind == Reversed && m.Reason == ReasonCancel {
			cancelled[m.OrderID] = true
		}
	}
	var last Movement
	for _, m := range ledger {
		if m.Kind == Earned && !cancelled[m.OrderID] && m.At.After(last.At) {
			last = m
		}
	}
	return last, !last.At.IsZero()
}
