// Package customer keeps a customer's profile: contact details, marketing
// consent, and purchase statistics (counts, spend, categories, brands, RFM
// scores, lifecycle stage) derived from the orders applied to it.
//
// A profile is a pure function of the orders and contact updates applied to
// it, whatever their order or repetition, so duplicated and out-of-order
// deliveries converge to the same state.
package customer

import (
	"maps"
	"sort"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// Stage is a customer's lifecycle stage.
type Stage string

// Lifecycle stages. StageNone is a customer with no standing order (for
// example, their only order was cancelled).
const (
	StageNone    Stage = "none"
	StageNew     Stage = "new"
	StageRepeat  Stage = "repeat"
	StageLoyal   Stage = "loyal"
	StageAtRisk  Stage = "at_risk"
	StageDormant Stage = "dormant"
)

// Thresholds configure RFM scoring and lifecycle stages; marketers set them
// in rules/settings.yaml.
type Thresholds struct {
	// Currency is the shop currency; Monetary counts spend in it.
	Currency string
	// RecencyDays are the upper bounds (days since last order) for R scores
	// 5, 4, 3 and 2; anything older scores 1.
	RecencyDays [4]int
	// FrequencyOrders are the lower bounds (orders) for F scores 2, 3, 4 and 5.
	FrequencyOrders [4]int
	// Monetary are the lower bounds (minor units spent) for M scores 2, 3, 4 and 5.
	Monetary [4]int64
	// LoyalMinOrders is how many orders make a customer loyal.
	LoyalMinOrders int
	// AtRiskAfterDays and DormantAfterDays are days since the last order.
	AtRiskAfterDays  int
	DormantAfterDays int
}

// OrderSummary is what a profile keeps of one order: enough to add it to
// the statistics and to take it back out when it is cancelled.
type OrderSummary struct {
	PlacedAt   time.Time       `dynamodbav:"placed_at"`
	Currency   string          `dynamodbav:"currency"`
	Total      int64           `dynamodbav:"total"`
	Status     order.EventType `dynamodbav:"status"`
	Categories map[string]int  `dynamodbav:"categories,omitempty"`
	Brands     map[string]int  `dynamodbav:"brands,omitempty"`
	SKUs       []string        `dynamodbav:"skus,omitempty,stringset"`
	HasDetails bool            `dynamodbav:"has_details"`
	// Revision counts the changes to the order's amounts (edits, refunds)
	// the store had applied; a later one replaces the summary.
	Revision int `dynamodbav:"revision,omitempty"`
}

// Summarize reduces an order in a given status to its summary: what it
// counts for in spend (its total less refunds) and, of its product lines
// only, categories, brands and products (custom lines, gift cards and tips
// are money, not tastes).
func Summarize(o order.Order, status order.EventType) OrderSummary {
	s := OrderSummary{PlacedAt: o.PlacedAt.UTC(), Currency: o.Currency, Total: o.Spent(), Status: status, HasDetails: o.HasDetails(), Revision: o.Revision}
	seen := map[string]bool{}
	for _, it := range o.Products() {
		if it.Category != "" {
			if s.Categories == nil {
				s.Categories = map[string]int{}
			}
			s.Categories[it.Category] += it.Quantity
		}
		if it.Brand != "" {
			if s.Brands == nil {
				s.Brands = map[string]int{}
			}
			s.Brands[it.Brand] += it.Quantity
		}
		if !seen[it.SKU] {
			seen[it.SKU] = true
			s.SKUs = append(s.SKUs, it.SKU)
		}
	}
	sort.Strings(s.SKUs)
	return s.bounded()
}

// supersedes reports whether s carries newer knowledge than old: a later
// lifecycle status, or the same status with the order details filled in,
// or a later revision of its amounts.
func (s OrderSummary) supersedes(old OrderSummary) bool {
	if r, oldR := s.Status.Rank(), old.Status.Rank(); r != oldR {
		return r > oldR
	}
	if s.HasDetails != old.HasDetails {
		return s.HasDetails
	}
	return s.Revision > old.Revision
}

// Consent is the customer's current marketing consent with its evidence.
type Consent struct {
	State  order.ConsentState `dynamodbav:"state"`
	Source string             `dynamodbav:"source,omitempty"`
	At     time.Time          `dynamodbav:"at"`
	// Shown is the wording the customer agreed to, when tsunagu showed it.
	Shown string `dynamodbav:"shown,omitempty"`
	// Standing is true when the statement is the shop's record as it
	// stood, not a dated act of the customer (see order.Consent).
	Standing bool `dynamodbav:"standing,omitempty"`
}

// ConsentChange is one change of a customer's consent, kept as evidence:
// what they said, on which channel, through what, when, and the wording
// they were shown when tsunagu showed it.
type ConsentChange struct {
	Channel string    `dynamodbav:"channel"`
	State   string    `dynamodbav:"state"`
	Source  string    `dynamodbav:"source"`
	At      time.Time `dynamodbav:"at"`
	Shown   string    `dynamodbav:"shown,omitempty"`
}

// ConsentChanges lists the consent changes made to this copy of the
// profile since it was read, for the store to keep as evidence.
func (p *Profile) ConsentChanges() []ConsentChange { return p.consentChanges }

func (p *Profile) noteConsent(c ConsentChange) {
	c.At = c.At.UTC()
	p.consentChanges = append(p.consentChanges, c)
}

// Unsubscribe records that the customer unsubscribed from a channel at t
// (through source, such as "unsubscribe:one-click"); for email it also
// withdraws the marketing consent. Unsubscribing again changes nothing.
func (p *Profile) Unsubscribe(channel, source string, t time.Time) bool {
	if _, done := p.Unsubscribed[channel]; done && !p.Resubscribed(channel) {
		return false
	}
	if p.Unsubscribed == nil {
		p.Unsubscribed = map[string]time.Time{}
	}
	p.Unsubscribed[channel] = t.UTC()
	if channel == "email" {
		p.Consent = Consent{State: order.ConsentDenied, Source: source, At: t.UTC()}
	}
	p.noteConsent(ConsentChange{Channel: channel, State: "unsubscribed", Source: source, At: t})
	return true
}

// Resubscribed reports whether fresh consent arrived after the customer
// unsubscribed from the channel (email consent is the evidence kept): a
// dated grant newer than the unsubscribe, not a shop's standing flag.
func (p *Profile) Resubscribed(channel string) bool {
	at, ok := p.Unsubscribed[channel]
	return ok && channel == "email" && p.Consent.State == order.ConsentGranted && !p.Consent.Standing && p.Consent.At.After(at)
}

// Reachable reports whether anything may be sent on a channel: never after
// an unsubscribe, unless fresh consent came after it.
func (p *Profile) Reachable(channel string) bool {
	_, unsubscribed := p.Unsubscribed[channel]
	return !unsubscribed || p.Resubscribed(channel)
}

// RecordConsent takes a consent statement the customer made through
// tsunagu (the thank-you page opt-in), touching nothing else. Like consent
// from a webhook, it only replaces an older statement.
func (p *Profile) RecordConsent(c Consent) bool {
	c.At = c.At.UTC()
	if !c.outranks(p.Consent) {
		return false
	}
	p.Consent = c
	p.noteConsent(ConsentChange{Channel: "email", State: string(c.State), Source: c.Source, At: c.At, Shown: c.Shown})
	return true
}

// Erase removes the customer's personal data at t: contact details, LINE
// user and birthday. Order summaries and the statistics derived from them
// stay, as anonymous counts. Marketing consent is withdrawn as of t, and
// ErasedAt (which holds no personal data) stays, so contact details from a
// delivery of an order placed, or made, at or before t are never taken
// again: a late, redelivered or replayed webhook cannot bring the data
// back. An order placed after the erasure is a new relationship and is
// kept. Erasing again changes nothing.
func (p *Profile) Erase(t time.Time) bool {
	t = t.UTC()
	if !p.ErasedAt.IsZero() && p.Email == "" && p.Name == "" && p.LineUserID == "" && p.Birthday == "" {
		return false
	}
	p.Email, p.Name, p.LineUserID, p.Birthday = "", "", "", ""
	p.LineFollowedAt = time.Time{}
	if t.After(p.ErasedAt) {
		p.ErasedAt = t
	}
	if t.After(p.ContactAt) {
		p.ContactAt = t
	}
	p.RecordConsent(Consent{State: order.ConsentDenied, Source: "erasure", At: t})
	return true
}

// RFM holds recency, frequency and monetary scores from 1 (low) to 5 (high).
type RFM struct {
	R int `dynamodbav:"r"`
	F int `dynamodbav:"f"`
	M int `dynamodbav:"m"`
}

// Profile is one customer as tsunagu knows them.
type Profile struct {
	ID         string `dynamodbav:"customer_id"`
	Email      string `dynamodbav:"email,omitempty"`
	Name       string `dynamodbav:"name,omitempty"`
	LineUserID string `dynamodbav:"line_user_id,omitempty"`
	// LineFollowedAt is since when the linked LINE user is known to follow
	// the shop's LINE account (zero: not known to).
	LineFollowedAt time.Time `dynamodbav:"line_followed_at,omitempty"`
	// Birthday is "MM-DD", or "" when unknown.
	Birthday  string    `dynamodbav:"birthday,omitempty"`
	ContactAt time.Time `dynamodbav:"contact_at"`
	Consent   Consent   `dynamodbav:"consent"`
	// Unsubscribed holds, by channel ("email", "line"), when the customer
	// unsubscribed. Nothing is sent on such a channel, marketing or not,
	// until fresh consent newer than that arrives.
	Unsubscribed map[string]time.Time `dynamodbav:"unsubscribed,omitempty"`
	// ErasedAt is when the customer's personal data was erased (their
	// request, or the shop's deletion webhook); zero if never.
	ErasedAt time.Time `dynamodbav:"erased_at,omitempty"`
	// CoolingUntil is until when marketing keeps away from the customer
	// after a support case (a complaint, a low score or review); zero: no
	// case. Transactional messages still go.
	CoolingUntil time.Time `dynamodbav:"cooling_until,omitempty"`
	// LastNPS is the customer's latest "would you recommend" score (0-10)
	// and LastNPSAt when they gave it (zero: never; see NPS).
	LastNPS   int       `dynamodbav:"last_nps"`
	LastNPSAt time.Time `dynamodbav:"last_nps_at,omitempty"`
	// consentChanges is what this copy changed, not stored with it.
	consentChanges []ConsentChange

	// Orders holds a summary of each of the latest orders applied (at most
	// MaxRecentOrders after Recompute), by order id.
	Orders map[string]OrderSummary `dynamodbav:"orders"`
	// Archive sums up the orders folded out of Orders.
	Archive Archive `dynamodbav:"archive"`
	// Applied names the latest deliveries whose order changes were applied
	// (at most maxAppliedChanges), so a retry is not applied twice.
	Applied []string `dynamodbav:"applied,omitempty"`

	// Statistics derived from Orders and Archive by Recompute; cancelled
	// orders excluded.
	OrderCount     int            `dynamodbav:"order_count"`
	TotalSpent     int64          `dynamodbav:"total_spent"` // in the shop currency
	FirstOrderAt   time.Time      `dynamodbav:"first_order_at"`
	LastOrderAt    time.Time      `dynamodbav:"last_order_at"`
	AverageOrder   int64          `dynamodbav:"average_order"`
	CategoryCounts map[string]int `dynamodbav:"category_counts"`
	BrandCounts    map[string]int `dynamodbav:"brand_counts"`
	// AsOf is the latest event time applied; RFM and Stage are as of then,
	// so they too are independent of processing order.
	AsOf  time.Time `dynamodbav:"as_of"`
	RFM   RFM       `dynamodbav:"rfm"`
	Stage Stage     `dynamodbav:"stage"`
	// Rank is the id of the customer's member rank (loyalty.yaml ranks:),
	// set by the purchase webhook and the nightly job (shared/rank); ""
	// when the shop has no ranks or the customer was not ranked yet.
	Rank string `dynamodbav:"rank,omitempty"`
	// RankChange is the latest change of Rank, kept so that a retried
	// delivery of the order that made it runs its campaigns (once, by
	// its key) even when the first attempt stopped after writing.
	RankChange *RankChange `dynamodbav:"rank_change,omitempty"`
}

// RankChange is a change of a customer's member rank as its campaigns
// run it.
type RankChange struct {
	// Trigger is loyalty.rank_up or loyalty.rank_down; Key the change's
	// idempotency key (rank:<customer>:<from>-><to>:<day>).
	Trigger string `dynamodbav:"trigger"`
	Key     string `dynamodbav:"key"`
	// OrderID is the order whose delivery made the change; "" for the
	// nightly job.
	OrderID string `dynamodbav:"order_id,omitempty"`
}

// RecordNPS keeps score, given at at, as the latest NPS answer unless a
// later one is kept; it reports whether that changed anything.
func (p *Profile) RecordNPS(score int, at time.Time) bool {
	if at.Before(p.LastNPSAt) || (at.Equal(p.LastNPSAt) && score == p.LastNPS) {
		return false
	}
	p.LastNPS, p.LastNPSAt = score, at
	return true
}

// NPS is the customer's latest "would you recommend" score, -1 before any.
func (p *Profile) NPS() int {
	if p.LastNPSAt.IsZero() {
		return -1
	}
	return p.LastNPS
}

// CoolOff keeps marketing away until until, unless it already keeps away
// longer; it reports whether that changed anything.
func (p *Profile) CoolOff(until time.Time) bool {
	if !until.After(p.CoolingUntil) {
		return false
	}
	p.CoolingUntil = until
	return true
}

// ApplyOrder records an order summary seen at eventAt. It reports whether
// anything changed; applying the same or an older summary changes nothing.
func (p *Profile) ApplyOrder(orderID string, s OrderSummary, eventAt time.Time) bool {
	return p.ApplyOrderChange(orderID, s, eventAt, Transition{})
}

// ApplyOrderChange records an order summary seen at eventAt, with what the
// delivery did to the stored order (tr). An order among the recent ones
// (or newer) is kept one by one and converges by itself; an order in the
// archived range is no longer listed, so tr says what changed, and each
// delivery's change is applied once.
func (p *Profile) ApplyOrderChange(orderID string, s OrderSummary, eventAt time.Time, tr Transition) bool {
	changed := false
	if eventAt.After(p.AsOf) {
		p.AsOf = eventAt.UTC()
		changed = true
	}
	old, ok := p.Orders[orderID]
	if !ok && p.archived(s.PlacedAt) {
		return p.applyArchived(orderID, s, tr) || changed
	}
	if ok && !s.supersedes(old) {
		return changed
	}
	if p.Orders == nil {
		p.Orders = map[string]OrderSummary{}
	}
	p.Orders[orderID] = s
	// Remembered so that a retry, or an earlier delivery of the order
	// still on its way, finds it applied even once the order has been
	// folded into the archive.
	p.noteApplied(tr.Key)
	if !ok {
		p.noteApplied(seenKey(orderID))
	}
	return true
}

// ApplyContact takes the customer's details from a delivery made at eventAt.
// Newer details win; consent moves only with evidence at least as new as what
// is stored, and an unknown consent never overwrites a known one. Ties are
// broken by value, never by arrival, so any delivery order gives one result.
func (p *Profile) ApplyContact(c order.Customer, eventAt time.Time) bool {
	changed := false
	if p.ID == "" {
		p.ID = c.ID
		changed = true
	}
	eventAt = eventAt.UTC()
	if !eventAt.Before(p.ContactAt) {
		newer := eventAt.After(p.ContactAt)
		lineUser := p.LineUserID
		for _, f := range []struct {
			dst *string
			src string
		}{{&p.Email, c.Email}, {&p.Name, c.Name}, {&p.LineUserID, c.LineUserID}, {&p.Birthday, c.Birthday}} {
			if f.src != "" && f.src != *f.dst && (newer || *f.dst == "" || f.src > *f.dst) {
				*f.dst = f.src
				changed = true
			}
		}
		if p.LineUserID != lineUser {
			// A follow belongs to the LINE user it was seen for.
			p.LineFollowedAt = time.Time{}
		}
		if newer {
			p.ContactAt = eventAt
			changed = true
		}
	}
	if c.Consent.State != order.ConsentUnknown {
		next := Consent{State: c.Consent.State, Source: c.Consent.Source, At: c.Consent.At.UTC(), Standing: c.Consent.Standing}
		// The shop's standing flag may not know the customer unsubscribed
		// through tsunagu; it is no fresh consent, and is not taken.
		// Nor after a resubscribe: it would replace the dated grant that
		// lifted the unsubscribe.
		_, unsubscribed := p.Unsubscribed["email"]
		ignored := next.State == order.ConsentGranted && next.Standing && unsubscribed
		if !ignored && next.outranks(p.Consent) {
			p.Consent = next
			p.noteConsent(ConsentChange{Channel: "email", State: string(next.State), Source: next.Source, At: next.At})
			changed = true
		}
	}
	return changed
}

// outranks orders consent statements: the later one wins; at the same
// instant a refusal beats a grant, then the source name decides.
func (c Consent) outranks(old Consent) bool {
	switch {
	case old.State == order.ConsentUnknown:
		return true
	case !c.At.Equal(old.At):
		return c.At.After(old.At)
	case c.State != old.State:
		return c.State == order.ConsentDenied
	}
	return c.Source > old.Source
}

// fromBeforeErasure reports whether a delivery about an order placed at
// placedAt, made at eventAt, belongs to what the customer had erased: the
// order was placed, or the delivery made, at or before the erasure. Both
// times come from the signed body (an order's placed time cannot be moved
// by a header), so a replayed delivery never brings contact details back;
// an order placed after the erasure is a new relationship, and its details
// are taken.
func (p *Profile) fromBeforeErasure(placedAt, eventAt time.Time) bool {
	return !p.ErasedAt.IsZero() && (!placedAt.After(p.ErasedAt) || !eventAt.After(p.ErasedAt))
}

// ApplyDelivery applies one order delivery made at eventAt, as
// ApplyDeliveryChange does for a delivery that moved nothing in the store.
func (p *Profile) ApplyDelivery(buyer *order.Customer, o order.Order, status order.EventType, eventAt time.Time, th Thresholds) bool {
	return p.ApplyDeliveryChange(buyer, o, status, eventAt, Transition{}, th)
}

// ApplyDeliveryChange applies one order delivery made at eventAt: the
// buyer's details (when the delivery carries them, and it is not from
// before the customer's erasure) and the order in the
// given status with what the delivery did to the stored order (tr, which
// the store reports), recomputing the statistics when anything changed. It
// reports whether anything did.
func (p *Profile) ApplyDeliveryChange(buyer *order.Customer, o order.Order, status order.EventType, eventAt time.Time, tr Transition, th Thresholds) bool {
	changed := false
	if buyer != nil && !p.fromBeforeErasure(o.PlacedAt, eventAt) {
		changed = p.ApplyContact(*buyer, eventAt)
	}
	if p.ApplyOrderChange(o.ID, Summarize(o, status), eventAt, tr) {
		changed = true
	}
	if changed {
		p.Recompute(th)
	}
	return changed
}

// NextBirthday returns the next birthday after t, at 10:00 in loc (29 Feb
// falls on 1 Mar in other years), or false when the birthday is unknown.
func (p *Profile) NextBirthday(t time.Time, loc *time.Location) (time.Time, bool) {
	md, err := time.Parse("01-02", p.Birthday)
	if err != nil {
		return time.Time{}, false
	}
	local := t.In(loc)
	for year := local.Year(); ; year++ {
		b := time.Date(year, md.Month(), md.Day(), 10, 0, 0, 0, loc)
		if b.After(local) {
			return b.UTC(), true
		}
	}
}

// DaysSinceBought is the number of whole days since the customer last
// bought a product (in a standing order) as of now, or -1 when never.
func (p *Profile) DaysSinceBought(sku string, now time.Time) int {
	var last time.Time
	for _, s := range p.Orders {
		if s.Status == order.Cancelled || !s.HasDetails || s.PlacedAt.After(now) {
			continue
		}
		for _, x := range s.SKUs {
			if x == sku && s.PlacedAt.After(last) {
				last = s.PlacedAt
			}
		}
	}
	if t := p.Archive.LastBought[sku]; t.After(last) && !t.After(now) {
		last = t
	}
	if last.IsZero() {
		return -1
	}
	return int(now.Sub(last).Hours() / 24)
}

// RecentSKUs returns the products of the customer's latest n standing
// orders placed before t, most recent order first.
func (p *Profile) RecentSKUs(t time.Time, n int) []string {
	var earlier []OrderSummary
	for _, s := range p.Orders {
		if s.Status != order.Cancelled && s.HasDetails && s.PlacedAt.Before(t) {
			earlier = append(earlier, s)
		}
	}
	sort.Slice(earlier, func(i, j int) bool { return earlier[i].PlacedAt.After(earlier[j].PlacedAt) })
	var out []string
	seen := map[string]bool{}
	for i, s := range earlier {
		if i == n {
			break
		}
		for _, sku := range s.SKUs {
			if !seen[sku] {
				seen[sku] = true
				out = append(out, sku)
			}
		}
	}
	return out
}

// Recompute folds the oldest orders beyond MaxRecentOrders into the
// archive, then derives the statistics, RFM scores and stage from the
// archive and the recent orders.
func (p *Profile) Recompute(th Thresholds) {
	p.foldOldest(th.Currency)
	a := p.Archive
	p.OrderCount, p.TotalSpent, p.AverageOrder = a.Orders, 0, 0
	p.FirstOrderAt, p.LastOrderAt = a.FirstOrderAt, a.LastOrderAt
	p.CategoryCounts, p.BrandCounts = maps.Clone(a.Categories), maps.Clone(a.Brands)
	if p.CategoryCounts == nil {
		p.CategoryCounts = map[string]int{}
	}
	if p.BrandCounts == nil {
		p.BrandCounts = map[string]int{}
	}
	counted := 0
	if a.Currency == th.Currency {
		p.TotalSpent, counted = a.Spent, a.SpentOrders
	}
	for _, s := range p.Orders {
		if !s.counts() {
			continue
		}
		p.OrderCount++
		if s.Currency == th.Currency {
			p.TotalSpent += s.Total
			counted++
		}
		if p.FirstOrderAt.IsZero() || s.PlacedAt.Before(p.FirstOrderAt) {
			p.FirstOrderAt = s.PlacedAt
		}
		if s.PlacedAt.After(p.LastOrderAt) {
			p.LastOrderAt = s.PlacedAt
		}
		for k, n := range s.Categories {
			p.CategoryCounts[k] += n
		}
		for k, n := range s.Brands {
			p.BrandCounts[k] += n
		}
	}
	if counted > 0 {
		p.AverageOrder = p.TotalSpent / int64(counted)
	}
	p.RFM = p.ScoreAt(th, p.AsOf)
	p.Stage = p.StageAt(th, p.AsOf)
}

// DaysSinceLastOrder is the number of whole days from the last standing
// order to now, or -1 when there is none.
func (p *Profile) DaysSinceLastOrder(now time.Time) int {
	if p.LastOrderAt.IsZero() {
		return -1
	}
	d := int(now.Sub(p.LastOrderAt).Hours() / 24)
	return max(d, 0)
}

// ScoreAt returns the RFM scores as of now.
func (p *Profile) ScoreAt(th Thresholds, now time.Time) RFM {
	if p.OrderCount == 0 {
		return RFM{}
	}
	r := 1
	days := p.DaysSinceLastOrder(now)
	for i, bound := range th.RecencyDays {
		if days <= bound {
			r = 5 - i
			break
		}
	}
	return RFM{R: r, F: 1 + countAtLeast(int64(p.OrderCount), th.FrequencyOrders[:]), M: 1 + countAtLeast(p.TotalSpent, th.Monetary[:])}
}

func countAtLeast[T int | int64](v int64, bounds []T) int {
	n := 0
	for _, b := range bounds {
		if v >= int64(b) {
			n++
		}
	}
	return n
}

// StageAt returns the lifecycle stage as of now.
func (p *Profile) StageAt(th Thresholds, now time.Time) Stage {
	days := p.DaysSinceLastOrder(now)
	switch {
	case p.OrderCount == 0:
		return StageNone
	case days >= th.DormantAfterDays:
		return StageDormant
	case days >= th.AtRiskAfterDays:
		return StageAtRisk
	case p.OrderCount >= th.LoyalMinOrders:
		return StageLoyal
	case p.OrderCount >= 2:
		return StageRepeat
	}
	return StageNew
}

// StandingAt returns how many of the customer's standing orders had been
// placed by t and when the latest of them was, as the orders stand now (an
// order cancelled since counts as never placed). Orders folded into the
// archive count as placed by t unless the archive holds only later ones;
// when it holds some of both (only a customer with more than
// MaxRecentOrders orders since t), all count, the latest as placed at t.
func (p *Profile) StandingAt(t time.Time) (orders int, last time.Time) {
	a := p.Archive
	if a.Orders > 0 && !a.FirstOrderAt.After(t) {
		orders, last = a.Orders, a.LastOrderAt
		if last.After(t) {
			last = t
		}
	}
	for _, s := range p.Orders {
		if s.counts() && !s.PlacedAt.After(t) {
			orders++
			if s.PlacedAt.After(last) {
				last = s.PlacedAt
			}
		}
	}
	return orders, last
}

// MarketingAllowed reports whether the customer consented to marketing email.
func (p *Profile) MarketingAllowed() bool {
	return p.Consent.State == order.ConsentGranted && p.Email != ""
}
