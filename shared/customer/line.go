package customer

import "time"

// LinkLine records that the customer linked LINE user userID to this
// profile (LINE's account link). It reports whether anything changed.
func (p *Profile) LinkLine(userID string) bool {
	if userID == "" || p.LineUserID == userID {
		return false
	}
	p.LineUserID = userID
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

// ResumeLine takes fresh consent to LINE messages from the customer's
// LINE user at t (a follow: adding the account as a friend again or
// unblocking it, or an opt-in from the chat) and lifts a LINE
// unsubscribe recorded before t. Consent older than the unsubscribe, or
// from another LINE user than the linked one, changes nothing.
func (p *Profile) ResumeLine(userID string, t time.Time) bool {
	at, unsubscribed := p.Unsubscribed["line"]
	if userID == "" || p.LineUserID != userID || !unsubscribed || !at.Before(t) {
		return false
	}
	delete(p.Unsubscribed, "line")
	p.noteConsent(ConsentChange{Channel: "line", State: "resubscribed", Source: "line:follow", At: t})
	return true
}
