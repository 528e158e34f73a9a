package campaign

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Trigger is one occasion to run campaigns for a customer.
type Trigger struct {
	// Event is the trigger name campaigns subscribe to ("order.created").
	Event rules.Trigger
	// Key identifies this occurrence, so the same occurrence seen twice
	// makes the same message keys ("order:1001:order.created").
	Key string
	// At is the time decisions are made for (now, or a timer's due time).
	At      time.Time
	Profile customer.Profile
	Order   order.Order
	// Campaign, when set, limits the run to one campaign: a timer firing.
	Campaign string
	// Fired is true when a timer brings the trigger back after its wait:
	// the campaign's delay is over.
	Fired bool
	// SKU is the product a lifecycle.replenishment trigger is about.
	SKU string
	// PointsExpireAt is when the customer's points expire, and
	// PointsExpiring how many, for a loyalty.points_expiring trigger.
	PointsExpireAt time.Time
	PointsExpiring int64
	// Coupon and PointsGiven are what the trigger itself gave the
	// customer (a referral.reward_approved trigger's reward), shown as
	// {{.Coupon}} (unless the campaign issues its own) and
	// {{.Points.Awarded}}.
	Coupon      *store.Coupon
	PointsGiven int64
}

// Verdict is what was decided for one campaign.
type Verdict string

// Verdicts. Send goes ahead; Wait arms a timer; the rest do nothing, and
// all but Inactive and NotInAudience are recorded in the message log.
const (
	Send                 Verdict = "send"
	Wait                 Verdict = "wait"
	Inactive             Verdict = "inactive"
	NotInAudience        Verdict = "not_in_audience"
	NoConsent            Verdict = "no_consent"
	NoAddress            Verdict = "no_address"
	HeldOut              Verdict = "held_out"
	SuppressedByPriority Verdict = "suppressed_by_priority"
	Capped               Verdict = "capped"
	OrderCancelled       Verdict = "order_cancelled"
	Unsubscribed         Verdict = "unsubscribed"
	// CoolingOff: no marketing while a support case cools off.
	CoolingOff Verdict = "cooling_off"
)

// Decision is the verdict for one campaign, with its reason.
type Decision struct {
	Campaign *rules.Campaign
	Verdict  Verdict
	// Reason explains the verdict: the failing part of the audience, the
	// cap reached, the wait ("delay" or "quiet_hours").
	Reason string
	// Variant is the A/B arm the customer is in ("" without variants).
	Variant string
	Actions []rules.Action
	// DueAt is when a waiting campaign goes on.
	DueAt time.Time
	// Awarded is what the campaign's points actions gave so far, for the
	// messages after them ({{.Points.Awarded}}).
	Awarded int64
}

// Recorded reports whether the decision is kept in the message log.
func (d Decision) Recorded() bool {
	switch d.Verdict {
	case Send, Inactive, NotInAudience, Wait:
		return false
	}
	return true
}

// Decider makes the decisions for a trigger without side effects, so runs,
// simulations and backtests decide alike.
type Decider struct {
	Rules *rules.Set
	// Deciles are the decile bounds in force (the nightly job's, or the
	// configured ones).
	Deciles [9]int64
	// Explain names the failing part of an audience in the reason, at the
	// cost of evaluating its parts again (for simulations and backtests).
	Explain bool
}

// Decide returns a decision for every campaign the trigger concerns, in
// priority order. sent are the customer's marketing messages counted
// against caps so far.
func (d *Decider) Decide(t Trigger, sent []store.Send) []Decision {
	set := d.Rules
	out := make([]Decision, 0, len(set.Campaigns))
	var env *rules.Env
	var machine vm.VM // one expression VM for all the campaigns of this trigger
	prioritySlotTaken := false
	for _, c := range set.Campaigns {
		if c.Trigger != t.Event || (t.Campaign != "" && c.ID != t.Campaign) {
			continue
		}
		dec := Decision{Campaign: c}
		dec.Variant, dec.Actions = variantFor(c, t.Profile.ID)
		if !c.IsActive(t.At) {
			dec.Verdict, dec.Reason = Inactive, activeReason(c)
			out = append(out, dec)
			continue
		}
		if env == nil {
			e := set.NewEnv(string(t.Event), t.Profile, t.Order, d.Deciles, t.At)
			e.ReplenishSKU = t.SKU
			if !t.PointsExpireAt.IsZero() {
				e.PointsExpiring, e.PointsDaysLeft = t.PointsExpiring, DaysLeft(t.At, t.PointsExpireAt)
			}
			env = &e
		}
		in, err := c.InAudience(&machine, env)
		switch {
		case err != nil:
			dec.Verdict, dec.Reason = NotInAudience, "audience could not be evaluated: "+err.Error()
		case !in:
			dec.Verdict, dec.Reason = NotInAudience, "audience is false"
			if d.Explain {
				dec.Reason = "false: " + c.FailingPart(env)
			}
		case t.Order.ID != "" && t.Event != rules.TriggerOrderCancelled && orderCancelled(t):
			dec.Verdict, dec.Reason = OrderCancelled, "the order was cancelled"
		case !subscribed(t.Profile, dec.Actions):
			dec.Verdict, dec.Reason = Unsubscribed, "unsubscribed from the campaign's channels"
		case c.Kind == rules.Marketing && !consented(t.Profile, dec.Actions):
			dec.Verdict, dec.Reason = NoConsent, "no marketing consent on the campaign's channels"
		case !reachable(t.Profile, dec.Actions):
			dec.Verdict, dec.Reason = NoAddress, "no address for any of the campaign's channels"
		case !deliverable(t.Profile, dec.Actions, c.Kind == rules.Marketing):
			dec.Verdict, dec.Reason = NoAddress, "no channel with an address, consent and no unsubscribe"
		case !t.Fired && !c.Delay.IsZero():
			dec.Verdict, dec.Reason, dec.DueAt = Wait, "delay "+c.Delay.String(), c.Delay.Due(t.At, set.Settings.Location)
		case c.Kind == rules.Marketing && t.At.Before(t.Profile.CoolingUntil):
			dec.Verdict, dec.Reason = CoolingOff, "cooling off after a support case until "+t.Profile.CoolingUntil.In(set.Settings.Location).Format(time.DateOnly)
		case c.Kind == rules.Marketing && prioritySlotTaken:
			dec.Verdict, dec.Reason = SuppressedByPriority, "a higher-priority campaign fires on this event"
		default:
			if c.Kind == rules.Marketing {
				prioritySlotTaken = true
				if reason := CapReason(set, c, t.At, sent, reservationKey(c.ID, t)); reason != "" {
					dec.Verdict, dec.Reason = Capped, reason
					break
				}
				if InGlobalControl(set.Settings.Measurement, t.Profile.ID) {
					dec.Verdict, dec.Reason = HeldOut, ReasonGlobalControl
					break
				}
			}
			// Held out where the treatment is sent: after the delay, the
			// priority slot and the caps, so both groups are counted at
			// the same decision point and are comparable.
			if c.Holdout > 0 && bucket("holdout", c.ID, t.Profile.ID) < c.Holdout {
				dec.Verdict, dec.Reason = HeldOut, fmt.Sprintf("in the %d%% holdout", c.Holdout)
				break
			}
			if due, ok := quietUntil(set, dec.Actions, t.At); ok {
				dec.Verdict, dec.Reason, dec.DueAt = Wait, "quiet_hours", due
				break
			}
			dec.Verdict = Send
		}
		out = append(out, dec)
	}
	return out
}

// CapReason returns why one more marketing message from campaign c at time
// at would break a cap, given what was sent, or "" when it would not. The
// send with key self is this very message counted by an earlier attempt;
// it does not count against itself.
func CapReason(set *rules.Set, c *rules.Campaign, at time.Time, sent []store.Send, self string) string {
	check := func(caps []rules.Cap, scope string, count func(store.Send) bool) string {
		for _, cp := range caps {
			n := 0
			for _, s := range sent {
				if s.Key != self && at.Sub(s.At) < cp.Per && count(s) {
					n++
				}
			}
			if n >= cp.Max {
				return fmt.Sprintf("%s cap: %d per %s reached", scope, cp.Max, rules.FormatDuration(cp.Per))
			}
		}
		return ""
	}
	if r := check(set.Settings.Distance.Caps, "shop-wide", func(store.Send) bool { return true }); r != "" {
		return r
	}
	return check(c.Caps, "campaign", func(s store.Send) bool { return s.Campaign == c.ID })
}

// reservationKey is the key a campaign's firing for one trigger occurrence
// is counted against the caps under.
func reservationKey(campaignID string, t Trigger) string {
	return MessageKey(campaignID, -1, t.Key, t.Profile.ID)
}

// CapWindow is the longest window any cap looks back over: sends older than
// this no longer matter.
func CapWindow(set *rules.Set) time.Duration {
	longest := time.Duration(0)
	for _, cp := range set.Settings.Distance.Caps {
		longest = max(longest, cp.Per)
	}
	for _, c := range set.Campaigns {
		for _, cp := range c.Caps {
			longest = max(longest, cp.Per)
		}
	}
	return longest
}

// quietUntil reports whether any message action's channel is in its quiet
// hours at t, and when the last of them ends.
func quietUntil(set *rules.Set, actions []rules.Action, t time.Time) (time.Time, bool) {
	var until time.Time
	quiet := false
	for _, a := range actions {
		if a.Type == rules.ActionPoints {
			continue // points tell nobody
		}
		w, ok := set.Settings.Distance.Quiet[channelOf(a)]
		if ok && w.Contains(t, set.Settings.Location) {
			quiet = true
			if end := w.End(t, set.Settings.Location); end.After(until) {
				until = end
			}
		}
	}
	return until, quiet
}

// channelOf is the channel a message action sends on; review requests go
// by email.
func channelOf(a rules.Action) string {
	if a.OnLine() {
		return "line"
	}
	return "email"
}

// messageChannel is the channel a message action sends on ("" for an
// action that sends no message).
func messageChannel(a rules.Action) string {
	if noChannel(a) {
		return ""
	}
	return channelOf(a)
}

// noChannel reports whether an action sends no message of its own: a
// coupon (shown by the campaign's messages) or bonus points.
func noChannel(a rules.Action) bool {
	return a.Type == rules.ActionCoupon || a.Type == rules.ActionPoints
}

func reachable(p customer.Profile, actions []rules.Action) bool {
	for _, a := range actions {
		switch messageChannel(a) {
		case "email":
			if p.Email != "" {
				return true
			}
		case "line":
			if p.LineUserID != "" {
				return true
			}
		}
	}
	// A campaign of coupons and points only still needs someone to tell;
	// it has no channel, so it is reachable whenever it has actions at all.
	for _, a := range actions {
		if !noChannel(a) {
			return false
		}
	}
	return len(actions) > 0
}

// deliverable reports whether one channel of the actions has it all: an
// address, no unsubscribe and, for marketing, consent. The checks above
// name what is missing; this one catches them met on different channels
// (email consent without an address, a LINE user not following). A
// campaign of coupons only has no channel and is deliverable.
func deliverable(p customer.Profile, actions []rules.Action, marketing bool) bool {
	channels := 0
	for _, a := range actions {
		var address string
		switch messageChannel(a) {
		case "email":
			address = p.Email
		case "line":
			address = p.LineUserID
		default:
			continue
		}
		channels++
		one := []rules.Action{a}
		if address != "" && subscribed(p, one) && (!marketing || consented(p, one)) {
			return true
		}
	}
	return channels == 0
}

// consented reports whether the customer agreed to marketing on at least
// one of the actions' channels: email consent for email and review
// requests, following the shop's LINE account for LINE. Coupons alone
// reach the customer by email, so they need email consent.
func consented(p customer.Profile, actions []rules.Action) bool {
	emailConsent := p.Consent.State == order.ConsentGranted
	messages := false
	for _, a := range actions {
		switch messageChannel(a) {
		case "email":
			messages = true
			if emailConsent {
				return true
			}
		case "line":
			messages = true
			if p.LineConsented() {
				return true
			}
		}
	}
	return !messages && emailConsent
}

// subscribed reports whether any of the actions' channels may still be used
// for the customer; unsubscribing holds for transactional messages too. A
// campaign of coupons only has no channel to leave.
func subscribed(p customer.Profile, actions []rules.Action) bool {
	channels := 0
	for _, a := range actions {
		if noChannel(a) {
			continue
		}
		channels++
		if p.Reachable(channelOf(a)) {
			return true
		}
	}
	return channels == 0
}

func orderCancelled(t Trigger) bool {
	s, ok := t.Profile.Orders[t.Order.ID]
	return ok && s.Status == order.Cancelled
}

func activeReason(c *rules.Campaign) string {
	if !c.Enabled {
		return "switched off (enabled: false)"
	}
	return "outside its active dates"
}

// variantFor picks a customer's A/B arm: the same every time for the same
// customer and campaign.
func variantFor(c *rules.Campaign, customerID string) (string, []rules.Action) {
	if len(c.Variants) == 1 {
		return c.Variants[0].Name, c.Variants[0].Actions
	}
	b := bucket("variant", c.ID, customerID)
	for _, v := range c.Variants {
		if b < v.Weight {
			return v.Name, v.Actions
		}
		b -= v.Weight
	}
	last := c.Variants[len(c.Variants)-1]
	return last.Name, last.Actions
}

// bucket maps (purpose, campaign, customer) to 0..99, uniformly and
// deterministically across processes; holdout and variants use different
// purposes so they are independent. FNV-1a with a splitmix64 finalizer is
// fast and mixes well enough for percentages.
func bucket(purpose, campaignID, customerID string) int {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(campaignID))
	h.Write([]byte{0})
	h.Write([]byte(customerID))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return int(x % 100)
}
