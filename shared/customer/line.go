package customer

import (
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// LinkLine records that the customer linked LINE user userID to this
// profile (LINE's account link, or the shop's webhook). Whether that LINE
// user follows the shop's account is not known until FollowLine says so.
// It reports whether anything changed.
func (p *Profile) LinkLine(userID string) bool {
	if userID == "" || p.LineUserID == userID {
		return false
	}
	p.LineUserID = userID
	p.LineFollowedAt = time.Time{}
	return true
}

// UnlinkLine forgets LINE user userID when it is the one linked, because
// that LINE user has since been linked to another customer. It reports
// whether anything changed.
func (p *Profile) UnlinkLine(userID string) bool {
	if userID == "" || p.LineUserID != userID {
		return false
	}
	p.LineUserID = ""
	p.LineFollowedAt = time.Time{}
	return true
}

// UnfollowLine records that the customer's LINE user blocked the shop's
// LINE account at t: no more LINE messages to this customer. An event
// about another LINE user than the linked one changes nothing.
func (p *Profile) UnfollowLine(userID string, t time.Time) bool {
	if userID == "" || p.LineUserID != userID {
		return false
	}
	return p.Unsubscribe("line", "line:unfollow", t)
}

// LINE consent sources: how the customer's LINE user said it wants the
// shop's LINE messages.
const (
	// LineSourceFollow is adding the shop's LINE account as a friend, or
	// unblocking it.
	LineSourceFollow = "line:follow"
	// LineSourceAccountLink is completing the account link from the chat.
	LineSourceAccountLink = "line:account_link"
	// LineSourceOptIn is the opt-in button in the chat.
	LineSourceOptIn = "line:optin"
)

// FollowLine records that the customer's LINE user follows the shop's LINE
// account as of t, which is its consent to LINE messages, kept in the
// ledger with source (one of the LineSource constants). A LINE unsubscribe
// or block recorded before t is lifted; one after t stands. An event about
// another LINE user than the linked one, or a follow already known,
// changes nothing.
func (p *Profile) FollowLine(userID, source string, t time.Time) bool {
	if userID == "" || p.LineUserID != userID {
		return false
	}
	t = t.UTC()
	at, unsubscribed := p.Unsubscribed["line"]
	switch {
	case unsubscribed && !at.Before(t):
		return false
	case unsubscribed:
		delete(p.Unsubscribed, "line")
		p.noteConsent(ConsentChange{Channel: "line", State: "resubscribed", Source: source, At: t})
	case !p.LineFollowedAt.IsZero():
		return false
	default:
		p.noteConsent(ConsentChange{Channel: "line", State: string(order.ConsentGranted), Source: source, At: t})
	}
	p.LineFollowedAt = t
	return true
}

// LineConsented reports whether LINE marketing may reach the customer:
// a linked LINE user known to follow the shop's account and not blocked
// or unsubscribed since.
func (p *Profile) LineConsented() bool {
	return p.LineUserID != "" && !p.LineFollowedAt.IsZero() && p.Reachable("line")
}
