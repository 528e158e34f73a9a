package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/lift"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

const seedUsage = "usage: tsunagu seed [--customers N] [--days D] [--end YYYY-MM-DD] [--seed N] [--plant CAMPAIGN=LIFT,...] [--aws] [--table NAME] [--rules DIR] [--catalog FILE]"

// Seeding model. The figures are a small gift shop's: most customers buy
// once, a core comes back every month or two, gifts peak at お中元 (July)
// and お歳暮 / year-end (December).
const (
	// coreShare is the share of customers who keep coming back.
	coreShare = 0.15
	// coreNext and tailNext are the chances of a next order after each
	// order (a one-time buyer who came back once is likelier to again);
	// coreGap and tailGap the mean days to it (exponential).
	coreNext, tailNext, tailAgain = 0.85, 0.15, 0.35
	coreGap, tailGap              = 40.0, 60.0
	// globalControl is the share of customers in the global control group.
	globalControl = 0.05
	// consentShare and lineShare are the customers who accept marketing
	// email and who link LINE.
	consentShare, lineShare = 0.7, 0.25
	// Email outcomes per message sent.
	bounceRate, complaintRate, unsubscribeRate, openRate, clickRate = 0.015, 0.0008, 0.003, 0.45, 0.12
	// conversionWindow is the days after an assignment within which an
	// order converts its customer (the lift counters' window).
	conversionWindow = 30
)

// seedCommand writes a realistic demo history: customer profiles through
// the store, and the counters (store.AddCounts, the contract's names) the
// functions would have kept over it, with a treatment effect planted in
// chosen campaigns; then the night's snapshot over the profiles.
func seedCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	n := fs.Int("customers", 5000, "how many customers")
	days := fs.Int("days", 365, "days of history, up to --end")
	end := fs.String("end", "", "last day of the history, YYYY-MM-DD (default: yesterday, shop time)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed writes the same history")
	plant := fs.String("plant", "second-purchase-nudge=0.8", "relative lift planted per campaign with a holdout, CAMPAIGN=LIFT[,...]; others have none")
	rulesDir := fs.String("rules", "rules", "rule directory (campaigns, holdouts, thresholds, time zone)")
	catalog := fs.String("catalog", "infra/catalog/sample-catalog.csv", "the products customers buy")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *n < 1 || *days < 1 {
		fmt.Fprintln(fs.Output(), seedUsage)
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	products, err := readCatalogFile(*catalog, set)
	if err != nil {
		return err
	}
	loc := set.Settings.Location
	last := time.Now().In(loc).AddDate(0, 0, -1)
	if *end != "" {
		if last, err = time.ParseInLocation(time.DateOnly, *end, loc); err != nil {
			return fmt.Errorf("--end %q: want YYYY-MM-DD: %w", *end, errUsage)
		}
	}
	planted, err := parsePlant(*plant)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	s := newSeeder(set, products, planted, *seed)
	h := s.run(*n, *days, time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, loc))
	if err := h.write(ctx, st, set, loc); err != nil {
		return fmt.Errorf("write the history to %s: %w", data.where(), err)
	}
	fmt.Fprintf(stdout, "seeded %d customers, %d orders (%s) from %s to %s into %s\n", len(h.profiles), h.orders,
		yenText(h.revenue), h.from.Format(time.DateOnly), h.to.Format(time.DateOnly), data.where())
	for _, id := range slices.Sorted(maps.Keys(planted)) {
		fmt.Fprintf(stdout, "planted: %s converts %+.0f%% more in its treated group than in its holdout\n", id, planted[id]*100)
	}
	return nil
}

func yenText(v int64) string { return "¥" + strconv.FormatInt(v, 10) }

// parsePlant reads CAMPAIGN=LIFT pairs.
func parsePlant(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		id, v, ok := strings.Cut(part, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || f < 0 {
			return nil, fmt.Errorf("--plant %q: want CAMPAIGN=LIFT with LIFT 0 or more (0.3 is +30%%): %w", part, errUsage)
		}
		out[id] = f
	}
	return out, nil
}

// seedHistory is what a seed run made: profiles and counters by item.
type seedHistory struct {
	from, to time.Time
	profiles []customer.Profile
	counts   map[[2]string]store.Counts // pk, sk
	days     map[[2]string]time.Time
	orders   int
	revenue  int64
}

func (h *seedHistory) add(pk, sk string, day time.Time, c store.Counts) {
	k := [2]string{pk, sk}
	if h.counts[k] == nil {
		h.counts[k] = store.Counts{}
		h.days[k] = day
	}
	h.counts[k].Add(c)
}

// write stores the profiles, adds the counters (eight items at a time)
// and runs the nightly job as the night after would.
func (h *seedHistory) write(ctx context.Context, st *store.Store, set *rules.Set, loc *time.Location) error {
	if err := st.ImportProfiles(ctx, h.profiles); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for k, c := range h.counts {
		g.Go(func() error { return st.AddCounts(gctx, k[0], k[1], h.days[k], c) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// The nightly job of the night after the history's last day.
	_, _, err := nightlyJob(st, set).Run(ctx, time.Date(h.to.Year(), h.to.Month(), h.to.Day()+1, 3, 0, 0, 0, loc))
	return err
}

// seeder simulates customers one by one.
type seeder struct {
	set      *rules.Set
	products []store.Product
	planted  map[string]float64
	rnd      *rand.Rand
	loc      *time.Location
	h        *seedHistory
	// holdout campaigns decided after a wait: the nudge after a first
	// order, the win-back after any order.
	nudge, winback *rules.Campaign
}

func newSeeder(set *rules.Set, products []store.Product, planted map[string]float64, seed uint64) *seeder {
	s := &seeder{set: set, products: products, planted: planted, rnd: rand.New(rand.NewPCG(seed, 0x7375_6e61_6775)), loc: set.Settings.Location}
	for _, c := range set.Campaigns {
		switch c.ID {
		case "second-purchase-nudge":
			s.nudge = c
		case "winback":
			s.winback = c
		}
	}
	return s
}

// Japanese names for the demo customers.
var (
	familyNames = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水"}
	givenNames  = []string{"美咲", "陽菜", "結衣", "さくら", "葵", "花子", "由美", "恵子", "翔太", "大輔", "健一", "蓮", "悠真", "誠", "直樹", "和也", "裕子", "真由美", "拓海", "彩"}
)

// seasonal weighs a day's chance of a first order: gifts in July
// (お中元) and December (お歳暮, year-end), a quieter February.
func seasonal(d time.Time) float64 {
	switch d.Month() {
	case time.July:
		return 2.0
	case time.August:
		return 1.3
	case time.November:
		return 1.2
	case time.December:
		return 2.5
	case time.February:
		return 0.8
	}
	return 1
}

// run simulates n customers whose first orders fall in the days up to
// last.
func (s *seeder) run(n, days int, last time.Time) *seedHistory {
	first := last.AddDate(0, 0, 1-days)
	s.h = &seedHistory{from: first, to: last, counts: map[[2]string]store.Counts{}, days: map[[2]string]time.Time{}}
	var cum []float64
	total := 0.0
	for d := range days {
		total += seasonal(first.AddDate(0, 0, d))
		cum = append(cum, total)
	}
	for i := range n {
		d, _ := slices.BinarySearch(cum, s.rnd.Float64()*total)
		s.customer(i, first.AddDate(0, 0, min(d, days-1)), last)
	}
	return s.h
}

// placed is one simulated order.
type placed struct {
	day    time.Time
	total  int64
	cats   map[string]int
	coupon bool
}

// customer simulates one customer from the first order on.
func (s *seeder) customer(i int, firstDay, last time.Time) {
	r := s.rnd
	core := r.Float64() < coreShare
	control := r.Float64() < globalControl
	consent := r.Float64() < consentShare
	p := customer.Profile{ID: fmt.Sprintf("seed-%06d", i+1)}
	at := func(day time.Time) time.Time {
		return day.Add(time.Duration(9+r.IntN(12))*time.Hour + time.Duration(r.IntN(60))*time.Minute)
	}
	state := order.ConsentDenied
	if consent {
		state = order.ConsentGranted
	}
	buyer := order.Customer{ID: p.ID, Email: fmt.Sprintf("seed-%06d@example.jp", i+1), Name: familyNames[r.IntN(len(familyNames))] + " " + givenNames[r.IntN(len(givenNames))],
		Consent: order.Consent{State: state, Source: "seed", At: firstDay}}
	if r.Float64() < lineShare {
		buyer.LineUserID = fmt.Sprintf("U%032x", r.Uint64())
	}
	p.ApplyContact(buyer, at(firstDay))
	if buyer.LineUserID != "" && r.Float64() < 0.8 {
		p.FollowLine(buyer.LineUserID, customer.LineSourceFollow, at(firstDay))
	}

	// The natural order days: each next order with its chance, after an
	// exponential gap.
	days := []time.Time{firstDay}
	for {
		next, gap := tailNext, tailGap
		if core {
			next, gap = coreNext, coreGap
		} else if len(days) > 1 {
			next = tailAgain
		}
		if r.Float64() >= next {
			break
		}
		d := days[len(days)-1].AddDate(0, 0, int(r.ExpFloat64()*gap))
		if d.After(last) {
			break
		}
		days = append(days, d)
	}

	group := lift.Exposed
	if control {
		group = lift.Control
	}
	shop := store.ShopStatsPartition
	// The nudge, after its wait when no order came since: assigned to its
	// holdout or treated (in one of its variants), and a treated customer
	// given the planted lift.
	var nudged *assignment
	if c := s.nudge; c != nil && !control && consent {
		assign := firstDay.AddDate(0, 0, waitDays(c))
		if !assign.After(last) && (len(days) == 1 || !days[1].Before(assign)) {
			var a assignment
			a, days = s.assign(c, assign, last, days, core)
			nudged = &a
		}
	}

	var orders []placed
	for _, d := range days {
		orders = append(orders, s.order(d))
	}
	if nudged != nil {
		s.countNudge(*nudged, last, days, orders)
	}
	// Win-back, 90 days after an order with none since.
	if c := s.winback; c != nil && !control {
		for k, d := range days {
			assign := d.AddDate(0, 0, waitDays(c))
			if assign.After(last) || (k+1 < len(days) && days[k+1].Before(assign)) {
				continue
			}
			s.count(c, assign, last, days, orders)
			break
		}
	}

	// The global control group's comparison: assigned at the first order,
	// counted as the campaigns count it, on a marketing campaign's own
	// counters (control, or exposed for everyone else).
	if s.nudge != nil {
		s.h.add(store.CampaignStatsPartition(s.nudge.ID), store.CampaignStatsKey(firstDay, s.loc, ""), firstDay, s.outcome(group, firstDay, last, days, orders))
	}

	seen := map[string]bool{}
	months := map[string]bool{}
	for k, o := range orders {
		id := fmt.Sprintf("%s-%d", p.ID, k+1)
		cats := slices.Sorted(maps.Keys(o.cats))
		sum := customer.OrderSummary{PlacedAt: at(o.day).UTC(), Currency: "JPY", Total: o.total, Status: order.Delivered, Categories: o.cats, HasDetails: true}
		p.ApplyOrder(id, sum, sum.PlacedAt)
		c := store.Counts{"orders": 1, "revenue": o.total}
		if k == 0 {
			c["first_orders"] = 1
			if buyer.LineUserID != "" {
				c["line_linked"] = 1
			}
		} else {
			c["repeat_orders"] = 1
			for _, cat := range cats {
				if !seen[cat] {
					c["cross_sell_orders"] = 1
				}
			}
		}
		if k == 1 {
			gap := int(o.day.Sub(firstDay).Hours() / 24)
			for _, w := range kpi.SecondPurchaseWindows {
				if gap <= w {
					c[fmt.Sprintf("second%d_%s", w, firstDay.Format(time.DateOnly))] = 1
				}
			}
		}
		if month := o.day.Format("2006-01"); !months[month] {
			months[month] = true
			c["active_"+firstDay.Format("2006-01")] = 1
		}
		if o.coupon {
			c["coupon_orders"] = 1
		}
		for _, cat := range cats {
			seen[cat] = true
		}
		s.h.add(shop, store.DayKey(o.day, s.loc), o.day, c)
		s.h.orders++
		s.h.revenue += o.total
		// The thank-you email after each order, to a consenting customer
		// outside the global control group.
		if consent && !control && p.Reachable("email") {
			var next *placed
			if k+1 < len(orders) {
				next = &orders[k+1]
			}
			s.email(&p, "post-purchase-thanks", o.day, next)
		}
	}
	p.Recompute(s.set.Settings.Thresholds)
	s.h.profiles = append(s.h.profiles, p)
}

// assignment is a customer's group in a campaign with a holdout.
type assignment struct {
	campaign       *rules.Campaign
	group, variant string
	day            time.Time
}

// waitDays is a campaign's delay in whole days.
func waitDays(c *rules.Campaign) int { return int(c.Delay.After.Hours() / 24) }

// assign puts a customer in the nudge's holdout or treated group at day
// assign and, for a treated one, plants the lift: it returns the
// assignment and the order days, with a planted order when the lift gave
// one.
func (s *seeder) assign(c *rules.Campaign, assign, last time.Time, days []time.Time, core bool) (assignment, []time.Time) {
	r := s.rnd
	if r.IntN(100) < c.Holdout {
		return assignment{campaign: c, group: lift.Holdout, variant: c.Variants[0].Name, day: assign}, days
	}
	a := assignment{campaign: c, group: lift.Treatment, variant: c.Variants[r.IntN(len(c.Variants))].Name, day: assign}
	converted := len(days) > 1 && days[1].Sub(assign) < conversionWindow*24*time.Hour
	if l := s.planted[c.ID]; l > 0 && !converted {
		// Of the customers the nudge would not otherwise convert, convert
		// enough that the treated group's rate is (1+l) times the
		// holdout's: p0·(1+l) = p0 + (1−p0)·extra.
		p0 := nudgeBaseline(core, waitDays(c))
		if r.Float64() < min(l*p0/(1-p0), 1) {
			if d := assign.AddDate(0, 0, 1+r.IntN(conversionWindow-1)); !d.After(last) {
				days = append([]time.Time{days[0], d}, days[1:]...)
			}
		}
	}
	return a, days
}

// countNudge counts an assignment's outcome and, for a treated customer,
// the message with its coupon, and the conversion it is credited with (a
// second order in the window uses the coupon).
func (s *seeder) countNudge(a assignment, last time.Time, days []time.Time, orders []placed) {
	pk, sk := store.CampaignStatsPartition(a.campaign.ID), store.CampaignStatsKey(a.day, s.loc, a.variant)
	out := s.outcome(a.group, a.day, last, days, orders)
	s.h.add(pk, sk, a.day, out)
	if a.group != lift.Treatment {
		return
	}
	delivered, _ := s.message(pk, sk, a.day)
	s.h.add(pk, sk, a.day, store.Counts{"coupons_issued": 1})
	if delivered && out["converted_"+a.group] > 0 {
		orders[1].coupon = true
		s.h.add(pk, sk, a.day, store.Counts{"converted": 1, "revenue": orders[1].total, "coupons_redeemed": 1})
	}
}

// nudgeBaseline is the chance that a customer with no order in the wait
// orders within the conversion window after it, untreated: the natural
// next order falls in [wait, wait+window) days, given none before.
func nudgeBaseline(core bool, wait int) float64 {
	q, m := tailNext, tailGap
	if core {
		q, m = coreNext, coreGap
	}
	a, b := math.Exp(-float64(wait)/m), math.Exp(-float64(wait+conversionWindow)/m)
	return q * (a - b) / (1 - q + q*a)
}

// outcome counts an assignment at day assign: the customer in group g,
// converted when an order came within the conversion window, with its
// revenue (and square, for the Welch interval).
func (s *seeder) outcome(g string, assign, last time.Time, days []time.Time, orders []placed) store.Counts {
	c := store.Counts{"assigned_" + g: 1}
	end := assign.AddDate(0, 0, conversionWindow)
	var revenue int64
	for i, d := range days {
		if d.After(assign) && d.Before(end) && !d.After(last) {
			revenue += orders[i].total
		}
	}
	if revenue > 0 {
		c["converted_"+g] = 1
		c["revenue_"+g] = revenue
		c["revenue_sq_"+g] = revenue * revenue
	}
	return c
}

// count counts the win-back's assignment: treated or holdout as the rules
// say, no lift planted unless asked.
func (s *seeder) count(c *rules.Campaign, assign, last time.Time, days []time.Time, orders []placed) {
	g := lift.Treatment
	if s.rnd.IntN(100) < c.Holdout {
		g = lift.Holdout
	}
	pk, sk := store.CampaignStatsPartition(c.ID), store.CampaignStatsKey(assign, s.loc, "")
	s.h.add(pk, sk, assign, s.outcome(g, assign, last, days, orders))
	if g != lift.Treatment {
		return
	}
	// The win-back's message is the last one the customer received before
	// coming back: a delivered one is credited with the order that
	// converted the customer.
	if delivered, _ := s.message(pk, sk, assign); delivered {
		for i, d := range days {
			if d.After(assign) && d.Before(assign.AddDate(0, 0, conversionWindow)) && !d.After(last) {
				s.h.add(pk, sk, assign, store.Counts{"converted": 1, "revenue": orders[i].total})
				break
			}
		}
	}
}

// order draws one order's contents from the catalog: one to three
// products, gifts (sweets, teaware) likelier in the gift seasons.
func (s *seeder) order(day time.Time) placed {
	r := s.rnd
	o := placed{day: day, cats: map[string]int{}}
	for range 1 + r.IntN(3) {
		p := s.products[r.IntN(len(s.products))]
		if seasonal(day) >= 2 && p.Category == "tea" && r.Float64() < 0.5 {
			p = s.products[r.IntN(len(s.products))]
		}
		q := 1 + r.IntN(2)
		o.total += p.Price * int64(q)
		if p.Category != "" {
			o.cats[p.Category] += q
		}
	}
	return o
}

// email counts one campaign email and its fate at day d on the campaign's
// and the shop's counters; a delivered one may make the customer
// unsubscribe.
func (s *seeder) email(p *customer.Profile, campaignID string, d time.Time, next *placed) {
	pk, sk := store.CampaignStatsPartition(campaignID), store.CampaignStatsKey(d, s.loc, "")
	delivered, clicked := s.message(pk, sk, d)
	s.attribute(pk, sk, d, delivered, clicked, next)
	if delivered && s.rnd.Float64() < unsubscribeRate {
		p.Unsubscribe("email", "unsubscribe:one-click", d.Add(20*time.Hour))
		s.h.add(pk, sk, d, store.Counts{"unsubscribed": 1})
		s.h.add(store.ShopStatsPartition, store.DayKey(d, s.loc), d, store.Counts{"email_unsubscribed": 1})
	}
}

// message counts one email sent at day d and what became of it: whether
// it was delivered, and clicked.
func (s *seeder) message(pk, sk string, d time.Time) (delivered, clicked bool) {
	r := s.rnd
	c, shop := store.Counts{"sent": 1}, store.Counts{"email_sent": 1}
	delivered = r.Float64() >= bounceRate
	if !delivered {
		c["bounced"], shop["email_bounced"] = 1, 1
	} else {
		c["delivered"], shop["email_delivered"] = 1, 1
		if r.Float64() < complaintRate {
			c["complained"], shop["email_complained"] = 1, 1
		}
		if r.Float64() < openRate {
			c["opened"] = 1
		}
		if clicked = r.Float64() < clickRate; clicked {
			c["clicked"], c["clicks"] = 1, 1+int64(r.IntN(2))
		}
	}
	s.h.add(pk, sk, d, c)
	s.h.add(store.ShopStatsPartition, store.DayKey(d, s.loc), d, shop)
	return delivered, clicked
}

// Attribution windows (rules/settings.yaml's defaults): an order within
// clickWindow days of a click, or receiveWindow days of a delivery, is
// the message's conversion.
const clickWindow, receiveWindow = 5, 1

// attribute counts the conversion an email sent at day d is credited
// with: the customer's next order, if it came within the windows.
func (s *seeder) attribute(pk, sk string, d time.Time, delivered, clicked bool, next *placed) {
	if next == nil || !delivered {
		return
	}
	days := next.day.Sub(d).Hours() / 24
	if (clicked && days <= clickWindow) || days <= receiveWindow {
		s.h.add(pk, sk, d, store.Counts{"converted": 1, "revenue": next.total})
	}
}
