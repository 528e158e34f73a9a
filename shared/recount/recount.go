// Package recount reconciles the campaign counters with the items they
// count: it recomputes each campaign's counters (STATS#CAMPAIGN#<id>,
// DAY#<date>#<variant>) for a range of shop-zone days from the message
// log, the clicks, the attributions and the coupons, with the day and the
// condition each live writer uses, and adds the difference where a
// counter update was lost (the live writers never fail an order or a send
// for a counter).
//
// A pass is race-safe against the live writers, which record an event
// with a conditional write first and ADD its counters after, within one
// invocation: the stored counters are read first, then the sources, then
// the pass waits out the longest invocation of a counting function
// (Reconciler.Settle), and each correction is written on condition that
// its counters still hold what was read first. A live ADD that landed
// since (for an event the sources may already show) refuses the
// correction, which the next run makes again; an event recorded after the
// sources were read is in neither figure.
package recount

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Counters are the campaign counters a pass reconciles: those the source
// items reproduce exactly. The others (delivered, bounced, unsubscribed,
// coupons_redeemed) are left as the live writers counted them.
var Counters = counterNames()

func counterNames() []string {
	names := []string{"sent", "opened", "clicked", "clicks", "complained", "converted", "revenue", "coupons_issued"}
	for _, g := range []string{store.GroupTreatment, store.GroupHoldout, store.GroupControl, store.GroupExposed} {
		names = append(names, "assigned_"+g, "converted_"+g, "revenue_"+g, "revenue_sq_"+g)
	}
	slices.Sort(names)
	return names
}

// Store is what a pass needs of the store.
type Store interface {
	StatsBetween(ctx context.Context, pk, from, to string) (map[string]store.Counts, error)
	CorrectCounts(ctx context.Context, pk, sk string, day time.Time, stored, delta store.Counts) (bool, error)
}

// Reconciler recounts campaign counters. Begin starts a pass; the caller
// feeds it every live source item (Pass.Visit, from a scan) and then calls
// Pass.Finish.
type Reconciler struct {
	Store Store
	// Location is the shop's zone (the counters' days); Currency the
	// shop's currency (attributed revenue is taken back only in it).
	Location *time.Location
	Currency string
	// Settle is how long Finish waits before it writes: at least the
	// longest invocation of a function that counts (its timeout), so that
	// every ADD of an event the sources show has landed or failed for good.
	Settle time.Duration
	// Wait replaces the wait of Settle (tests); nil waits Settle.
	Wait func(ctx context.Context) error
	// DryRun computes and reports the corrections and writes none.
	DryRun bool
}

// Correction is one counter found wrong: its campaign, shop-zone day
// (YYYY-MM-DD), variant ("-" for none), what was stored and what the
// sources give. Applied is false in a dry run, and when a live writer
// moved the counter since it was read (the next run corrects it).
type Correction struct {
	Campaign, Day, Variant, Counter string
	Stored, Recomputed              int64
	Applied                         bool
}

// Pass is one reconciliation of a range of days: the stored counters read
// at its start and what the sources visited since add up to.
type Pass struct {
	r        *Reconciler
	from, to string
	stored   map[string]map[string]store.Counts

	mu      sync.Mutex
	counted map[string]map[string]store.Counts
	unread  map[string]int
}

// Begin reads the stored counters of the campaigns for the shop-zone days
// from..to (dates; inclusive) and returns the pass to feed the sources to.
// Only these campaigns are reconciled: sources of another campaign are
// counted as unread.
func (r *Reconciler) Begin(ctx context.Context, campaigns []string, from, to time.Time) (*Pass, error) {
	p := &Pass{r: r, from: from.In(r.Location).Format(time.DateOnly), to: to.In(r.Location).Format(time.DateOnly),
		stored: map[string]map[string]store.Counts{}, counted: map[string]map[string]store.Counts{}, unread: map[string]int{}}
	for _, id := range campaigns {
		if _, ok := p.stored[id]; ok {
			continue
		}
		got, err := r.Store.StatsBetween(ctx, store.CampaignStatsPartition(id), "DAY#"+p.from, "DAY#"+p.to+"~")
		if err != nil {
			return nil, fmt.Errorf("recount: read counters of campaign %s: %w", id, err)
		}
		p.stored[id] = got
	}
	return p, nil
}

// Visit counts one source item as its live writer did. It is safe for
// concurrent use (a parallel scan's segments).
func (p *Pass) Visit(src store.CounterSource) {
	switch {
	case src.Message != nil:
		p.message(*src.Message)
	case src.Click != nil:
		p.add(src.Click.CampaignID, src.Click.Variant, src.Click.At, "clicks", 1)
	case src.Attribution != nil:
		a := *src.Attribution
		revenue := a.Total
		if a.Currency == p.r.Currency {
			revenue -= a.TakenBack // refunds and a cancellation, taken back on the order's day
		}
		p.add(a.CampaignID, a.Variant, a.PlacedAt, "converted", 1)
		p.add(a.CampaignID, a.Variant, a.PlacedAt, "revenue", revenue)
	case src.Coupon != nil:
		// Issued by a campaign's decision: counted on the trigger's time,
		// which is the coupon's issued_at.
		p.add(src.Coupon.Campaign, src.Coupon.Variant, src.Coupon.IssuedAt, "coupons_issued", 1)
	}
}

// message counts a message log entry: its send, its first open and first
// click, a complaint (the most severe outcome, so never overwritten), and
// an assignment with its conversion and window revenue on the day of the
// assignment, for its group and the global comparison's.
func (p *Pass) message(m store.MessageOutcome) {
	id, v := m.CampaignID, m.Variant
	if m.Status == store.MessageSent {
		p.add(id, v, m.FinishedAt, "sent", 1)
	}
	if !m.OpenedAt.IsZero() {
		p.add(id, v, m.OpenedAt, "opened", 1)
	}
	if !m.ClickedAt.IsZero() {
		p.add(id, v, m.ClickedAt, "clicked", 1)
	}
	if m.Delivery == store.DeliveryComplained {
		p.add(id, v, m.DeliveryAt, "complained", 1)
	}
	if m.Group == "" {
		return
	}
	groups := []string{m.Group, store.GroupExposed}
	if m.Group == store.GroupControl {
		groups = groups[:1]
	}
	for _, g := range groups {
		p.add(id, v, m.ClaimedAt, "assigned_"+g, 1)
		if !m.ConvertedAt.IsZero() {
			p.add(id, v, m.ClaimedAt, "converted_"+g, 1)
			p.add(id, v, m.ClaimedAt, "revenue_"+g, m.WindowRevenue)
			p.add(id, v, m.ClaimedAt, "revenue_sq_"+g, m.WindowRevenue*m.WindowRevenue)
		}
	}
}

// add counts n on counter name of a campaign variant's day, when the day
// is in the pass's range.
func (p *Pass) add(campaignID, variant string, at time.Time, name string, n int64) {
	if campaignID == "" || at.IsZero() {
		return
	}
	sk := store.CampaignStatsKey(at, p.r.Location, variant)
	if day := sk[len("DAY#") : len("DAY#")+len(time.DateOnly)]; day < p.from || day > p.to {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.stored[campaignID]; !ok {
		p.unread[campaignID]++
		return
	}
	days := p.counted[campaignID]
	if days == nil {
		days = map[string]store.Counts{}
		p.counted[campaignID] = days
	}
	if days[sk] == nil {
		days[sk] = store.Counts{}
	}
	days[sk][name] += n
}

// Finish compares what the sources add up to with the counters read at
// the start and corrects the differences: it waits Settle (not in a dry
// run), then adds each item's differences in one conditional update
// (store.CorrectCounts), logging every correction and counting it as the
// CounterCorrected metric. A counter is raised to what the sources prove
// (the live writers lose counts, never double them); one above its
// recount is lowered only for revenue, and only when the day's
// attributions account for every conversion counted (the difference is
// then a lost take-back, not revenue of items the sources no longer hold).
func (p *Pass) Finish(ctx context.Context) ([]Correction, error) {
	for id, n := range p.unread {
		slog.InfoContext(ctx, "recount left out a campaign", "campaign", id, "counts", n)
	}
	type item struct{ campaign, sk string }
	var items []item
	for id, days := range p.stored {
		seen := map[string]bool{}
		for sk := range days {
			seen[sk] = true
		}
		for sk := range p.counted[id] {
			seen[sk] = true
		}
		for sk := range seen {
			items = append(items, item{id, sk})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.campaign+"\x00"+a.sk, b.campaign+"\x00"+b.sk) })
	var out []Correction
	deltas := make([]store.Counts, len(items))
	for i, it := range items {
		stored, counted := p.stored[it.campaign][it.sk], p.counted[it.campaign][it.sk]
		day, variant, _ := strings.Cut(strings.TrimPrefix(it.sk, "DAY#"), "#")
		for _, name := range Counters {
			s, c := stored[name], counted[name]
			if c == s || c < s && (name != "revenue" || counted["converted"] < stored["converted"]) {
				continue
			}
			if deltas[i] == nil {
				deltas[i] = store.Counts{}
			}
			deltas[i][name] = c - s
			out = append(out, Correction{Campaign: it.campaign, Day: day, Variant: variant, Counter: name, Stored: s, Recomputed: c})
		}
	}
	if p.r.DryRun || len(out) == 0 {
		return out, nil
	}
	if err := p.r.wait(ctx); err != nil {
		return out, fmt.Errorf("recount: wait for live writers: %w", err)
	}
	applied := map[item]bool{}
	for i, it := range items {
		if deltas[i] == nil {
			continue
		}
		day, _, _ := strings.Cut(strings.TrimPrefix(it.sk, "DAY#"), "#")
		at, err := time.ParseInLocation(time.DateOnly, day, p.r.Location)
		if err != nil {
			return out, fmt.Errorf("recount: day of %s: %w", it.sk, err)
		}
		ok, err := p.r.Store.CorrectCounts(ctx, store.CampaignStatsPartition(it.campaign), it.sk, at, p.stored[it.campaign][it.sk], deltas[i])
		if err != nil {
			return out, fmt.Errorf("recount: correct campaign %s: %w", it.campaign, err)
		}
		applied[it] = ok
	}
	for i := range out {
		c := &out[i]
		c.Applied = applied[item{c.Campaign, "DAY#" + c.Day + "#" + c.Variant}]
		logging.CounterCorrected(ctx, c.Campaign, c.Day, c.Variant, c.Counter, c.Stored, c.Recomputed, c.Applied)
	}
	return out, nil
}

func (r *Reconciler) wait(ctx context.Context) error {
	if r.Wait != nil {
		return r.Wait(ctx)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.Settle):
		return nil
	}
}

// Scanner reads the source items (store.Store.ScanNightly).
type Scanner interface {
	ScanNightly(ctx context.Context, segments int, now time.Time, profile func(customer.Profile), source func(store.CounterSource)) error
}

// Run is a pass of its own: the stored counters, one parallel scan of
// the sources live as of now, and the corrections (tsunagu stats
// rebuild). The nightly job runs its pass inside its own scan instead.
func (r *Reconciler) Run(ctx context.Context, scan Scanner, segments int, campaigns []string, from, to, now time.Time) ([]Correction, error) {
	p, err := r.Begin(ctx, campaigns, from, to)
	if err != nil {
		return nil, err
	}
	if err := scan.ScanNightly(ctx, segments, now, nil, p.Visit); err != nil {
		return nil, fmt.Errorf("recount: scan the sources: %w", err)
	}
	return p.Finish(ctx)
}

// NightlyRange is the days the nightly job reconciles as of now: from
// the longest measurement window (conversion, click, receive) and two
// days more before yesterday, to yesterday, in the shop's zone. These are
// the days whose counters late events still change (a lift conversion up
// to the conversion window after its assignment, an attribution or an SES
// event delivered late), so a count lost on them is repaired the night
// after; today is left to the live writers, which are still counting it.
// Older days are the command's (tsunagu stats rebuild).
func NightlyRange(now time.Time, loc *time.Location, m rules.Measurement) (from, to time.Time) {
	y, mo, d := now.In(loc).Date()
	to = time.Date(y, mo, d-1, 0, 0, 0, 0, loc)
	window := max(m.ConversionWindow, m.ClickWindow, m.ReceiveWindow)
	days := int((window+24*time.Hour-1)/(24*time.Hour)) + 2
	return to.AddDate(0, 0, -days), to
}

// DefaultSettle is the nightly job's wait before it writes: above the
// longest timeout of a function that counts (the scheduler's 60 s in
// template.yaml; the purchase, redirect, SES feedback and unsubscribe
// functions stop sooner).
const DefaultSettle = 2 * time.Minute

// CampaignIDs are the ids of the rules' campaigns, whose counters a pass
// reconciles.
func CampaignIDs(set *rules.Set) []string {
	ids := make([]string, len(set.Campaigns))
	for i, c := range set.Campaigns {
		ids[i] = c.ID
	}
	return ids
}
