package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// backtestCampaign replays the stored orders since a date through one
// campaign's decisions and reports, per day, how many customers would have
// received what. It reads orders day by day from the orders-by-day index
// and writes nothing.
func backtestCampaign(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	since := fs.String("since", "", "first day to replay (YYYY-MM-DD, shop time)")
	until := fs.String("until", "", "last day to replay (default: today)")
	rulesDir := fs.String("rules", "rules", "rule directory (edit a campaign here before it goes live)")
	var data dataFlags
	data.register(fs)
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		args = append(args[1:], args[0])
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *since == "" || fs.NArg() != 1 {
		fmt.Fprintln(fs.Output(), "usage: tsunagu backtest CAMPAIGN --since YYYY-MM-DD [--until YYYY-MM-DD] [--aws]")
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	c := set.Campaign(fs.Arg(0))
	if c == nil {
		return fmt.Errorf("no campaign %q in %s", fs.Arg(0), *rulesDir)
	}
	if !strings.HasPrefix(string(c.Trigger), "order.") {
		return fmt.Errorf("backtest replays stored orders; campaign %s is triggered by %s", c.ID, c.Trigger)
	}
	loc := set.Settings.Location
	from, err := time.ParseInLocation(time.DateOnly, *since, loc)
	if err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	to := time.Now().In(loc)
	if *until != "" {
		if to, err = time.ParseInLocation(time.DateOnly, *until, loc); err != nil {
			return fmt.Errorf("--until: %w", err)
		}
	}
	to = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc) // exclusive
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	bt := &backtest{store: st, set: set, campaign: c, decider: &campaign.Decider{Rules: set, Deciles: set.Deciles, Explain: true},
		profiles: map[string]customer.Profile{}, sent: map[string][]store.Send{}, days: map[string]map[string]int{}, receivers: map[string]bool{}}
	// Orders are indexed by UTC day; walk the UTC days that cover the range.
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		orders, err := st.OrdersPlacedOn(ctx, day)
		if err != nil {
			return fmt.Errorf("read orders from %s: %w", data.where(), err)
		}
		for _, o := range orders {
			at := o.Order.PlacedAt
			if c.Trigger != rules.TriggerOrderCreated {
				if string(o.Status) != string(c.Trigger) {
					continue
				}
				at = o.StatusAt
			}
			if at.Before(from) || !at.Before(to) {
				continue
			}
			if err := bt.replay(ctx, o, at); err != nil {
				return err
			}
		}
	}
	bt.print(from, to)
	return nil
}

type backtest struct {
	store     *store.Store
	set       *rules.Set
	campaign  *rules.Campaign
	decider   *campaign.Decider
	profiles  map[string]customer.Profile
	sent      map[string][]store.Send
	days      map[string]map[string]int // day -> column -> count
	receivers map[string]bool
	orders    int
}

// replay decides the campaign for one order as of when it happened: the
// customer as they were then (their orders up to that moment), and the
// messages this backtest has already "sent" them.
func (b *backtest) replay(ctx context.Context, o store.OrderState, at time.Time) error {
	cid := o.Order.Customer.ID
	now, ok := b.profiles[cid]
	if !ok {
		p, err := b.store.GetProfile(ctx, cid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b.profiles[cid], now = p, p
	}
	then := now
	then.Orders = map[string]customer.OrderSummary{}
	then.AsOf = at
	for id, s := range now.Orders {
		if !s.PlacedAt.After(at) {
			then.Orders[id] = s
		}
	}
	then.Recompute(b.set.Settings.Thresholds)
	t := campaign.Trigger{Event: b.campaign.Trigger, Key: "order:" + o.Order.ID + ":" + string(b.campaign.Trigger), At: at, Profile: then, Order: o.Order, Campaign: b.campaign.ID, Fired: true}
	due := at
	if !b.campaign.Delay.IsZero() {
		due = b.campaign.Delay.Due(at, b.set.Settings.Location)
		t.At = due
	}
	b.orders++
	for _, d := range b.decider.Decide(t, b.sent[cid]) {
		day := due.In(b.set.Settings.Location).Format(time.DateOnly)
		if b.days[day] == nil {
			b.days[day] = map[string]int{}
		}
		col := string(d.Verdict)
		if d.Verdict == campaign.Send {
			if d.Variant != "" {
				col += ":" + d.Variant
			}
			b.receivers[cid] = true
			b.sent[cid] = append(b.sent[cid], store.Send{Key: t.Key, At: t.At, Campaign: b.campaign.ID})
		}
		b.days[day][col]++
	}
	return nil
}

func (b *backtest) print(from, to time.Time) {
	loc := b.set.Settings.Location
	fmt.Fprintf(stdout, "Backtest of %s (%s", b.campaign.ID, b.campaign.Trigger)
	if !b.campaign.Delay.IsZero() {
		fmt.Fprintf(stdout, ", %s later", b.campaign.Delay)
	}
	fmt.Fprintf(stdout, ") over %s .. %s, shop time: %d order(s), %d customer(s) would receive it.\nDays are the days the message would go out.\n\n",
		from.In(loc).Format(time.DateOnly), to.In(loc).AddDate(0, 0, -1).Format(time.DateOnly), b.orders, len(b.receivers))
	cols := map[string]bool{}
	var days []string
	for d, counts := range b.days {
		days = append(days, d)
		for c := range counts {
			cols[c] = true
		}
	}
	sort.Strings(days)
	var names []string
	for c := range cols {
		names = append(names, c)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "DAY\t%s\t\n", strings.ToUpper(strings.Join(names, "\t")))
	total := map[string]int{}
	for _, d := range days {
		fmt.Fprint(tw, d)
		for _, c := range names {
			fmt.Fprintf(tw, "\t%d", b.days[d][c])
			total[c] += b.days[d][c]
		}
		fmt.Fprintln(tw, "\t")
	}
	fmt.Fprint(tw, "TOTAL")
	for _, c := range names {
		fmt.Fprintf(tw, "\t%d", total[c])
	}
	fmt.Fprintln(tw, "\t")
	tw.Flush()
}
