// Package kpi computes the shop's figures for a period from the daily
// counters and the nightly snapshot (shared/store): sales, first-to-second
// purchase conversion within 30/60/90 days, repeat and cross-sell rates,
// retention by monthly first-order cohort, deliverability against the
// limits mailbox providers and SES enforce, and per campaign the funnel,
// coupon redemption and the holdout lift (shared/lift), each with the
// previous period of the same length beside it where it has one.
//
// Every figure is read from counters, never from orders or messages: a
// period costs one Query of the shop's counters, one per campaign and one
// for each of the period's and the previous period's snapshots.
package kpi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/lift"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Reader is what the figures are read from (a *store.Store).
type Reader interface {
	StatsBetween(ctx context.Context, pk, from, to string) (map[string]store.Counts, error)
	LatestSnapshot(ctx context.Context, from, to string) (store.Snapshot, bool, error)
}

// SecondPurchaseWindows are the days within which a second order counts
// as a conversion of a first-time buyer.
var SecondPurchaseWindows = [3]int{30, 60, 90}

// CohortMonths is how many monthly first-order cohorts the retention heat
// map shows, up to the period's last month.
const CohortMonths = 12

// Period is a run of whole shop-zone days, From to To inclusive (both at
// midnight in the shop's zone).
type Period struct {
	From, To time.Time
}

// ParsePeriod reads from and to (YYYY-MM-DD) as shop-zone days.
func ParsePeriod(from, to string, loc *time.Location) (Period, error) {
	f, err := time.ParseInLocation(time.DateOnly, from, loc)
	if err != nil {
		return Period{}, fmt.Errorf("read period start %q (want YYYY-MM-DD): %w", from, err)
	}
	t, err := time.ParseInLocation(time.DateOnly, to, loc)
	if err != nil {
		return Period{}, fmt.Errorf("read period end %q (want YYYY-MM-DD): %w", to, err)
	}
	if t.Before(f) {
		return Period{}, fmt.Errorf("read period: it ends (%s) before it starts (%s)", to, from)
	}
	return Period{From: f, To: t}, nil
}

// Days is the number of days in the period.
func (p Period) Days() int { return daysBetween(p.From, p.To) + 1 }

// Previous is the period of the same length that ends the day before p.
func (p Period) Previous() Period {
	to := p.From.AddDate(0, 0, -1)
	return Period{From: to.AddDate(0, 0, 1-p.Days()), To: to}
}

// String is the period as "2026-11-01..2026-11-30".
func (p Period) String() string {
	return p.From.Format(time.DateOnly) + ".." + p.To.Format(time.DateOnly)
}

// contains reports whether the day d (YYYY-MM-DD) lies in p.
func (p Period) contains(d string) bool {
	return d >= p.From.Format(time.DateOnly) && d <= p.To.Format(time.DateOnly)
}

func daysBetween(a, b time.Time) int {
	// Civil days: a DST change in the shop's zone must not cut a day.
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return int(time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// Campaign names a campaign whose counters the figures include.
type Campaign struct {
	ID, Name string
}

// Figures are the shop's figures for a period.
type Figures struct {
	Period, Previous Period
	// AsOf is when they were computed: windows that end after it have not
	// fully elapsed.
	AsOf time.Time
	// Empty is true when no counter of the shop or of a campaign was
	// counted in the period.
	Empty bool
	// Shop and PreviousShop are the shop's totals in the period and the
	// one before.
	Shop, PreviousShop Totals
	// SecondPurchase is the conversion of the period's first-time buyers
	// into a second order within each of SecondPurchaseWindows;
	// PreviousSecondPurchase the previous period's.
	SecondPurchase, PreviousSecondPurchase [3]Conversion
	// Cohorts are the monthly first-order cohorts, oldest first, up to
	// the period's last month.
	Cohorts []Cohort
	// Deliverability is the period's email deliverability against the limits.
	Deliverability Deliverability
	// Campaigns are the campaigns with counters in the period, in the
	// order asked for; Global is the global control group's comparison
	// (nil when it counted nothing).
	Campaigns []CampaignFigures
	Global    *CampaignFigures
	// Snapshot is the latest nightly snapshot in the period or the night
	// after it (nil: none); PreviousSnapshot the previous period's.
	Snapshot, PreviousSnapshot *store.Snapshot
}

// Totals are the shop's counters summed over a period, with the rates
// derived from them.
type Totals struct {
	store.Counts
}

// Rate returns num / den, or 0 when den is 0.
func Rate(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// AOV is the average order value: revenue per order.
func (t Totals) AOV() float64 { return Rate(t.Counts["revenue"], t.Counts["orders"]) }

// RepeatOrderRate is the share of orders placed by returning customers
// (the customers' repeat rate is the snapshot's: RepeatCustomerRate).
func (t Totals) RepeatOrderRate() float64 { return Rate(t.Counts["repeat_orders"], t.Counts["orders"]) }

// CrossSellRate is the share of repeat orders with a category the
// customer had not bought before.
func (t Totals) CrossSellRate() float64 {
	return Rate(t.Counts["cross_sell_orders"], t.Counts["repeat_orders"])
}

// NPS is the Net Promoter Score of the period's survey answers
// (promoters' share minus detractors', -100 to 100) and how many answers
// it is of.
func (t Totals) NPS() (score float64, answers int64) {
	return t.NPSOf("")
}

// NPSOf is the NPS of the answers of customers in a lifecycle stage when
// they first answered (counters named nps_promoters@<stage>…); "" is
// every answer's.
func (t Totals) NPSOf(stage string) (score float64, answers int64) {
	suffix := ""
	if stage != "" {
		suffix = "@" + stage
	}
	p, d := t.Counts["nps_promoters"+suffix], t.Counts["nps_detractors"+suffix]
	answers = p + t.Counts["nps_passives"+suffix] + d
	return 100 * (Rate(p, answers) - Rate(d, answers)), answers
}

// CSAT is the share of the period's CSAT answers that were satisfied (4
// or 5) and how many answers it is of.
func (t Totals) CSAT() (satisfied float64, answers int64) {
	answers = t.Counts["csat_answers"]
	return Rate(t.Counts["csat_satisfied"], answers), answers
}

// RepeatCustomerRate is the shop's repeat rate (リピート率): the share of
// its customers with two or more standing orders on the snapshot's night.
func RepeatCustomerRate(s store.Snapshot) float64 {
	return Rate(int64(s.RepeatCustomers), int64(s.Customers))
}

// CouponRate is the share of orders that used a coupon.
func (t Totals) CouponRate() float64 { return Rate(t.Counts["coupon_orders"], t.Counts["orders"]) }

// Conversion is how many first-time buyers ordered again within Days.
type Conversion struct {
	Days        int
	FirstOrders int64
	Converted   int64
	// Complete is false while the window of some of the period's first
	// orders has not fully elapsed: the rate can still grow.
	Complete bool
}

// Rate is the conversion rate.
func (c Conversion) Rate() float64 { return Rate(c.Converted, c.FirstOrders) }

// Cohort is the customers whose first order fell in one month, and how
// many of them ordered in each month since.
type Cohort struct {
	// Month is YYYY-MM.
	Month string
	// Active[i] counts the cohort's customers who ordered in the i-th
	// month after Month (Active[0] is the cohort's size).
	Active []int64
	// Repeated counts the cohort's customers who ordered a second time
	// within 90 days of their first order.
	Repeated int64
}

// RepeatRate is the share of the cohort who ordered again within 90 days.
func (c Cohort) RepeatRate() float64 {
	if len(c.Active) == 0 {
		return 0
	}
	return Rate(c.Repeated, c.Active[0])
}

// Retention is the share of the cohort active i months after its first.
func (c Cohort) Retention(i int) float64 {
	if i >= len(c.Active) || len(c.Active) == 0 {
		return 0
	}
	return Rate(c.Active[i], c.Active[0])
}

// Compute reads the counters and the snapshot of period p (and what the
// comparisons need around it) and computes the figures as of asOf.
func Compute(ctx context.Context, r Reader, p Period, campaigns []Campaign, asOf time.Time) (*Figures, error) {
	f := &Figures{Period: p, Previous: p.Previous(), AsOf: asOf}
	// One read of the shop's counters covers the previous period, the
	// cohorts' months and the 90 days in which the period's first-time
	// buyers can order again.
	cohortStart := time.Date(p.To.Year(), p.To.Month()-CohortMonths+1, 1, 0, 0, 0, 0, p.To.Location())
	from := f.Previous.From
	if cohortStart.Before(from) {
		from = cohortStart
	}
	to := p.To.AddDate(0, 0, SecondPurchaseWindows[2])
	days, err := r.StatsBetween(ctx, store.ShopStatsPartition, dayKey(from), dayKey(to)+"~")
	if err != nil {
		return nil, err
	}
	f.Shop, f.PreviousShop = sumDays(days, p), sumDays(days, f.Previous)
	f.SecondPurchase = secondPurchase(days, p, asOf)
	f.PreviousSecondPurchase = secondPurchase(days, f.Previous, asOf)
	f.Cohorts = cohorts(days, cohortStart, p.To)
	f.Deliverability = deliverabilityOf(f.Shop.Counts)
	empty := len(f.Shop.Counts) == 0

	// The global comparison: every campaign counts its assignments of the
	// global control group (control) and of everyone else (exposed).
	global := CampaignFigures{Campaign: Campaign{Name: "全体コントロール群"}, Counts: store.Counts{}}
	for _, c := range campaigns {
		cf, err := campaignFigures(ctx, r, c, p)
		if err != nil {
			return nil, err
		}
		if len(cf.Counts) == 0 {
			continue
		}
		empty = false
		f.Campaigns = append(f.Campaigns, cf)
		for _, g := range []string{lift.Exposed, lift.Control} {
			for _, name := range []string{"assigned_", "converted_", "revenue_", "revenue_sq_"} {
				if n := cf.Counts[name+g]; n != 0 {
					global.Counts[name+g] += n
				}
			}
		}
	}
	if len(global.Counts) > 0 {
		global.Lift = lift.Compare(lift.GroupOf(global.Counts, lift.Exposed), lift.GroupOf(global.Counts, lift.Control))
		f.Global = &global
	}
	if f.Snapshot, err = latestSnapshot(ctx, r, p); err != nil {
		return nil, err
	}
	if f.PreviousSnapshot, err = latestSnapshot(ctx, r, f.Previous); err != nil {
		return nil, err
	}
	f.Empty = empty && f.Snapshot == nil
	return f, nil
}

// latestSnapshot is the latest nightly snapshot of period p: in it or the
// night after its last day, which is its end's (nil: none).
func latestSnapshot(ctx context.Context, r Reader, p Period) (*store.Snapshot, error) {
	snap, found, err := r.LatestSnapshot(ctx, p.From.Format(time.DateOnly), p.To.AddDate(0, 0, 1).Format(time.DateOnly))
	if err != nil || !found {
		return nil, err
	}
	return &snap, nil
}

func dayKey(d time.Time) string { return "DAY#" + d.Format(time.DateOnly) }

// dayOf is the date of a stats sort key, DAY#YYYY-MM-DD[#variant].
func dayOf(sk string) string {
	d, _, _ := strings.Cut(strings.TrimPrefix(sk, "DAY#"), "#")
	return d
}

// sumDays sums the counters of the days in p.
func sumDays(days map[string]store.Counts, p Period) Totals {
	t := Totals{Counts: store.Counts{}}
	for sk, c := range days {
		if p.contains(dayOf(sk)) {
			t.Counts.Add(c)
		}
	}
	return t
}

// secondPurchase sums, for each window, the second orders of the period's
// first-time buyers (second<N>_<first-order date>, counted on the day of
// the second order) over the period's first orders.
func secondPurchase(days map[string]store.Counts, p Period, asOf time.Time) [3]Conversion {
	var out [3]Conversion
	for i, n := range SecondPurchaseWindows {
		out[i] = Conversion{Days: n, Complete: !p.To.AddDate(0, 0, n+1).After(asOf)}
	}
	prefixes := [3]string{}
	for i, n := range SecondPurchaseWindows {
		prefixes[i] = fmt.Sprintf("second%d_", n)
	}
	for sk, c := range days {
		if p.contains(dayOf(sk)) {
			for i := range out {
				out[i].FirstOrders += c["first_orders"]
			}
		}
		for name, v := range c {
			for i, prefix := range prefixes {
				if d, ok := strings.CutPrefix(name, prefix); ok && p.contains(d) {
					out[i].Converted += v
				}
			}
		}
	}
	return out
}

// cohorts gathers active_<first-order month> by the month it was counted
// in, for the cohorts of the months from start to end.
func cohorts(days map[string]store.Counts, start, end time.Time) []Cohort {
	active := map[string]map[string]int64{} // cohort month -> month -> customers
	repeated := map[string]int64{}          // cohort month -> second orders within 90 days
	for sk, c := range days {
		month := dayOf(sk)[:7]
		for name, v := range c {
			if cohort, ok := strings.CutPrefix(name, "active_"); ok {
				if active[cohort] == nil {
					active[cohort] = map[string]int64{}
				}
				active[cohort][month] += v
			}
			if first, ok := strings.CutPrefix(name, "second90_"); ok && len(first) >= 7 {
				repeated[first[:7]] += v
			}
		}
	}
	var out []Cohort
	for m := start; !m.After(end); m = m.AddDate(0, 1, 0) {
		month := m.Format("2006-01")
		c := Cohort{Month: month, Repeated: repeated[month]}
		for n := m; !n.After(end); n = n.AddDate(0, 1, 0) {
			c.Active = append(c.Active, active[month][n.Format("2006-01")])
		}
		if c.Active[0] > 0 {
			out = append(out, c)
		}
	}
	return out
}

// Limits a shop's email must stay under.
const (
	// ComplaintLimit is what mailbox providers (Gmail's and Yahoo's sender
	// guidelines) hold bulk senders to: spam complaints under 0.3%.
	ComplaintLimit = 0.003
	// SESComplaintReview and SESBounceReview are the complaint and bounce
	// rates at which SES puts an account under review.
	SESComplaintReview = 0.005
	SESBounceReview    = 0.10
	// NearShare is how close to a limit (its share) a rate warns.
	NearShare = 0.5
)

// Level is how a rate stands against its limit.
type Level int

// Levels of a rate against its limit.
const (
	Fine Level = iota
	Near
	Over
)

// Check is one rate against one limit.
type Check struct {
	// Name is "bounce", "complaint" or "complaint_ses".
	Name  string
	Rate  float64
	Limit float64
	Level Level
}

// Deliverability is the period's email outcomes and how they stand
// against the limits.
type Deliverability struct {
	Sent, Delivered, Bounced, Complained, Unsubscribed int64
	Checks                                             []Check
}

// BounceRate is bounces per email sent.
func (d Deliverability) BounceRate() float64 { return Rate(d.Bounced, d.Sent) }

// ComplaintRate is complaints per email delivered.
func (d Deliverability) ComplaintRate() float64 { return Rate(d.Complained, d.Delivered) }

// UnsubscribeRate is unsubscribes per email delivered.
func (d Deliverability) UnsubscribeRate() float64 { return Rate(d.Unsubscribed, d.Delivered) }

// Worst is the highest level of the checks.
func (d Deliverability) Worst() Level {
	w := Fine
	for _, c := range d.Checks {
		w = max(w, c.Level)
	}
	return w
}

// DeliverabilityIn reads the shop's email outcomes in period p alone (one
// Query of the shop's counters), for a check that needs nothing else.
func DeliverabilityIn(ctx context.Context, r Reader, p Period) (Deliverability, error) {
	days, err := r.StatsBetween(ctx, store.ShopStatsPartition, dayKey(p.From), dayKey(p.To)+"~")
	if err != nil {
		return Deliverability{}, err
	}
	return deliverabilityOf(sumDays(days, p).Counts), nil
}

func deliverabilityOf(c store.Counts) Deliverability {
	d := Deliverability{Sent: c["email_sent"], Delivered: c["email_delivered"], Bounced: c["email_bounced"], Complained: c["email_complained"], Unsubscribed: c["email_unsubscribed"]}
	check := func(name string, rate, limit float64) Check {
		ch := Check{Name: name, Rate: rate, Limit: limit}
		switch {
		case rate >= limit:
			ch.Level = Over
		case rate >= limit*NearShare:
			ch.Level = Near
		}
		return ch
	}
	d.Checks = []Check{
		check("complaint", d.ComplaintRate(), ComplaintLimit),
		check("complaint_ses", d.ComplaintRate(), SESComplaintReview),
		check("bounce", d.BounceRate(), SESBounceReview),
	}
	return d
}

// CampaignFigures are one campaign's counters in the period.
type CampaignFigures struct {
	Campaign
	// Counts are the campaign's counters summed over days and variants.
	Counts store.Counts
	// Variants are each A/B variant's counters (a campaign without
	// variants has one, "-"), by name in order.
	Variants []Variant
	// Lift compares the treated with the held-out customers (for the
	// global control: the exposed with the control group).
	Lift lift.Comparison
	// VariantTest is the chi-squared test of the variants' conversion
	// (treated customers); meaningful with two variants or more.
	VariantTest lift.ChiSquaredResult
}

// Variant is one A/B variant's counters.
type Variant struct {
	Name   string
	Counts store.Counts
}

// CouponRedemption is the share of the campaign's coupons redeemed.
func (c CampaignFigures) CouponRedemption() float64 {
	return Rate(c.Counts["coupons_redeemed"], c.Counts["coupons_issued"])
}

func campaignFigures(ctx context.Context, r Reader, c Campaign, p Period) (CampaignFigures, error) {
	days, err := r.StatsBetween(ctx, store.CampaignStatsPartition(c.ID), dayKey(p.From), dayKey(p.To)+"~")
	if err != nil {
		return CampaignFigures{}, fmt.Errorf("read counters of campaign %s: %w", c.ID, err)
	}
	cf := CampaignFigures{Campaign: c, Counts: store.Counts{}}
	variants := map[string]store.Counts{}
	for sk, counts := range days {
		_, v, _ := strings.Cut(strings.TrimPrefix(sk, "DAY#"), "#")
		if variants[v] == nil {
			variants[v] = store.Counts{}
		}
		variants[v].Add(counts)
		cf.Counts.Add(counts)
	}
	var groups []lift.Group
	for _, name := range slices.Sorted(maps.Keys(variants)) {
		cf.Variants = append(cf.Variants, Variant{Name: name, Counts: variants[name]})
		groups = append(groups, lift.GroupOf(variants[name], lift.Treatment))
	}
	cf.Lift = lift.Compare(lift.GroupOf(cf.Counts, lift.Treatment), lift.GroupOf(cf.Counts, lift.Holdout))
	cf.VariantTest = lift.Variants(groups)
	return cf, nil
}
