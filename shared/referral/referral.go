package referral

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Status is where a referral stands.
type Status string

// The statuses of a referral.
const (
	// Pending: the checks passed; rewarded once the order passes the
	// return window (Approve).
	Pending Status = "pending"
	// Review: over the advocate's weekly limit; the shop looks first.
	Review Status = "review"
	// Refused: a fraud check failed; nothing is rewarded.
	Refused Status = "refused"
	// Cancelled: the friend's order was cancelled or refunded; nothing is
	// rewarded.
	Cancelled Status = "cancelled"
	// Rewarded: the advocate's reward was issued.
	Rewarded Status = "rewarded"
)

// Statuses lists every status, for the command line.
var Statuses = []Status{Pending, Review, Refused, Cancelled, Rewarded}

// Reasons recorded with a status.
const (
	ReasonFirstOrder     = "first_order"          // pending: a new customer's first order
	ReasonSameCustomer   = "same_customer"        // refused: the friend is the advocate
	ReasonSameEmail      = "same_email"           // refused: the advocate's email address
	ReasonSamePhone      = "same_phone"           // refused: the advocate's phone number
	ReasonSameAddress    = "same_address"         // refused: the advocate's address
	ReasonSameLineUser   = "same_line_user"       // refused: the advocate's LINE user
	ReasonNotNew         = "not_new"              // refused: the friend ordered before
	ReasonCodeUsed       = "code_already_used"    // refused: the friend used this code on another order
	ReasonWeeklyLimit    = "over_weekly_limit"    // review: more than max_per_week this week
	ReasonCancelled      = "order_cancelled"      // cancelled
	ReasonRefunded       = "order_refunded"       // cancelled
	ReasonWindowPassed   = "return_window_passed" // rewarded
	ReasonApprovedByShop = "approved_by_shop"     // pending, from review
	ReasonRejectedByShop = "rejected_by_shop"     // refused, from review
)

// markReasons is the refusal of a friend sharing a mark of each kind with
// the advocate, in the order they are checked.
var markReasons = []struct{ kind, reason string }{
	{MarkEmail, ReasonSameEmail}, {MarkPhone, ReasonSamePhone}, {MarkAddress, ReasonSameAddress}, {MarkLineUser, ReasonSameLineUser},
}

// Referral is a friend's order carrying an advocate's code, with the
// outcome of the checks. It holds ids and times, no contact details.
type Referral struct {
	OrderID    string
	Code       string
	AdvocateID string
	FriendID   string
	Status     Status
	Reason     string
	PlacedAt   time.Time
	// At is when the status was last set.
	At time.Time
	// Reward names what was issued: "points:<n>" or "coupon:<code>".
	Reward string
}

// Owner is a referral code's entry: whose it is and the marks of the
// contact details their orders named.
type Owner struct {
	Code       string
	CustomerID string
	Marks      []string
}

// Store is what the referral steps need of the store.
type Store interface {
	// IndexCode records a customer's code with the marks of an order
	// (adding to those recorded); false when the code is another
	// customer's.
	IndexCode(ctx context.Context, o Owner, at time.Time) (bool, error)
	// CodeOwner reads a code's entry; false when no customer has it.
	CodeOwner(ctx context.Context, code string) (Owner, bool, error)
	// ProfileContact is what a customer's profile says they are
	// recognised by now (email, LINE user); the zero Contact for a
	// customer without a profile.
	ProfileContact(ctx context.Context, customerID string) (Contact, error)
	// ClaimUse records that a friend used a code on an order: false when
	// the friend used it on another order.
	ClaimUse(ctx context.Context, code, friendID, orderID string, at time.Time) (bool, error)
	// CountWeek adds an order to the advocate's referred orders of the
	// week starting at week and returns how many it holds.
	CountWeek(ctx context.Context, advocateID string, week time.Time, orderID string) (int, error)
	// PutReferral records a referral unless its order has one, and
	// returns the stored one and whether this call wrote it.
	PutReferral(ctx context.Context, r Referral) (Referral, bool, error)
	// SetReferralStatus moves a referral from one of the statuses from to
	// to, with its reason; false when it is absent or in none of them.
	SetReferralStatus(ctx context.Context, orderID string, from []Status, to Status, reason, reward string, at time.Time) (bool, error)
}

// Steps writes what order deliveries do to referrals: each customer's
// code entry, and the referral of a friend's order, each by one
// conditional write under a deterministic key, so a retried or
// duplicated delivery converges.
type Steps struct {
	Store Store
	Coder *Coder
	Rules *rules.Set
}

// OrderDelivery is what one delivery did to an order, as the purchase
// webhook knows it once the order and the buyer's profile are stored.
type OrderDelivery struct {
	// Sent is the order as the delivery told it: its codes, the buyer's
	// contact details and the shipping address (never stored).
	Sent order.Order
	// CustomerID is the buyer as stored; Status the order's status.
	CustomerID string
	Status     order.EventType
	// Placed is set for the delivery that brought the order's details
	// (order.created, or its retry).
	Placed bool
	// Refunded is set when the delivery told of money given back.
	Refunded bool
	// Profile is the buyer's profile after the delivery.
	Profile customer.Profile
	At      time.Time
}

// programme is the referral programme, nil when the shop runs none.
func (s *Steps) programme() *rules.Referral {
	if s.Rules == nil {
		return nil
	}
	return s.Rules.Referral()
}

// Order runs the referral steps of one delivery: a placed order indexes
// its buyer's code and, when it carries another customer's code, records
// the referral with its checks; a cancellation or a refund cancels a
// referral that was not yet rewarded or refused. It returns the referral
// of a placed order as stored (a retry's too), the zero Referral when
// there is none.
func (s *Steps) Order(ctx context.Context, d OrderDelivery) (Referral, error) {
	p := s.programme()
	if p == nil || d.CustomerID == "" {
		return Referral{}, nil
	}
	var placed Referral
	if d.Placed {
		var err error
		if placed, err = s.place(ctx, p, d); err != nil {
			return Referral{}, err
		}
	}
	if d.Status == order.Cancelled || d.Refunded {
		reason := ReasonCancelled
		if d.Status != order.Cancelled {
			reason = ReasonRefunded
		}
		moved, err := s.Store.SetReferralStatus(ctx, d.Sent.ID, []Status{Pending, Review}, Cancelled, reason, "", d.At)
		if err != nil {
			return Referral{}, err
		}
		if moved {
			slog.InfoContext(ctx, "referral cancelled", "order_id", d.Sent.ID, "reason", reason)
			placed.Status = Cancelled
		}
	}
	return placed, nil
}

// place indexes the buyer's own code and records the referral of a
// friend's order carrying another customer's code, which it returns as
// stored.
func (s *Steps) place(ctx context.Context, p *rules.Referral, d OrderDelivery) (Referral, error) {
	own := Owner{Code: s.Coder.Code(d.CustomerID), CustomerID: d.CustomerID, Marks: s.Coder.Marks(contactOf(d))}
	ok, err := s.Store.IndexCode(ctx, own, d.At)
	if err != nil {
		return Referral{}, err
	}
	if !ok {
		slog.WarnContext(ctx, "referral code shared by two customers", "customer_id", d.CustomerID)
	}
	code := CodeIn(d.Sent)
	if code == "" {
		return Referral{}, nil
	}
	r, err := s.check(ctx, p, code, d)
	if err != nil || r.OrderID == "" {
		return Referral{}, err
	}
	stored, wrote, err := s.Store.PutReferral(ctx, r)
	if err != nil {
		return Referral{}, err
	}
	if wrote {
		slog.InfoContext(ctx, "referral recorded", "order_id", stored.OrderID, "advocate_id", stored.AdvocateID, "status", stored.Status, "reason", stored.Reason)
	}
	return stored, nil
}

// contactOf is what the buyer of a delivery is recognised by.
func contactOf(d OrderDelivery) Contact {
	ct := Contact{Address: d.Sent.ShippingAddress, Email: d.Profile.Email, LineUserID: d.Profile.LineUserID}
	if c := d.Sent.Customer; c != nil {
		ct.Phone = c.Phone
		if c.Email != "" {
			ct.Email = c.Email
		}
		if c.LineUserID != "" {
			ct.LineUserID = c.LineUserID
		}
	}
	return ct
}

// check decides a friend's order with a code: the zero Referral for a
// code no customer has (the friend keeps the shop's discount; nobody is
// referred), otherwise the referral with its status and reason.
func (s *Steps) check(ctx context.Context, p *rules.Referral, code string, d OrderDelivery) (Referral, error) {
	owner, found, err := s.Store.CodeOwner(ctx, code)
	if err != nil || !found {
		if err == nil {
			slog.InfoContext(ctx, "referral code unknown", "order_id", d.Sent.ID)
		}
		return Referral{}, err
	}
	r := Referral{OrderID: d.Sent.ID, Code: code, AdvocateID: owner.CustomerID, FriendID: d.CustomerID, PlacedAt: d.Sent.PlacedAt.UTC(), At: d.At.UTC()}
	decide := func(st Status, reason string) (Referral, error) { r.Status, r.Reason = st, reason; return r, nil }
	switch {
	case d.Status == order.Cancelled:
		return decide(Cancelled, ReasonCancelled)
	case d.Refunded:
		return decide(Cancelled, ReasonRefunded)
	}
	if owner.CustomerID == d.CustomerID {
		return decide(Refused, ReasonSameCustomer)
	}
	advocate, err := s.Store.ProfileContact(ctx, owner.CustomerID)
	if err != nil {
		return r, fmt.Errorf("read advocate of referral %s: %w", d.Sent.ID, err)
	}
	theirs := map[string]bool{}
	for _, m := range append(owner.Marks, s.Coder.Marks(advocate)...) {
		theirs[m] = true
	}
	mine := map[string]bool{}
	for _, m := range s.Coder.Marks(contactOf(d)) {
		mine[m] = true
	}
	for _, mr := range markReasons {
		for m := range mine {
			if theirs[m] && kindOf(m) == mr.kind {
				return decide(Refused, mr.reason)
			}
		}
	}
	if orderedBefore(d.Profile, d.Sent.ID, d.Sent.PlacedAt) {
		return decide(Refused, ReasonNotNew)
	}
	first, err := s.Store.ClaimUse(ctx, code, d.CustomerID, d.Sent.ID, d.At)
	if err != nil {
		return r, err
	}
	if !first {
		return decide(Refused, ReasonCodeUsed)
	}
	n, err := s.Store.CountWeek(ctx, owner.CustomerID, WeekOf(d.Sent.PlacedAt, s.Rules.Settings.Location), d.Sent.ID)
	if err != nil {
		return r, err
	}
	if n > p.MaxPerWeek {
		return decide(Review, ReasonWeeklyLimit)
	}
	return decide(Pending, ReasonFirstOrder)
}

// kindOf is the kind of a mark ("email:…" → email).
func kindOf(mark string) string {
	kind, _, _ := strings.Cut(mark, ":")
	return kind
}

// orderedBefore reports whether a profile holds any order, in any status,
// placed before the given one, or orders folded into its archive.
func orderedBefore(p customer.Profile, orderID string, placedAt time.Time) bool {
	if p.Archive.Orders > 0 {
		return true
	}
	for id, s := range p.Orders {
		if id != orderID && s.PlacedAt.Before(placedAt) {
			return true
		}
	}
	return false
}

// WeekOf returns the start (Monday 00:00 in loc) of the week t falls in:
// the week referral.max_per_week counts referred orders in.
func WeekOf(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}
