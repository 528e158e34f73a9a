package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// simulateEvent shows which campaigns an order event would fire and why
// each other campaign would not, deciding exactly as the functions do,
// without writing or sending anything.
func simulateEvent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	eventFile := fs.String("event", "", "a generic order webhook body (JSON), as POST /webhooks/orders takes")
	rulesDir := fs.String("rules", "rules", "rule directory")
	offline := fs.Bool("offline", false, "do not read the customer's history from the store; use the event alone")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *eventFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(fs.Output(), "usage: tsunagu simulate --event FILE [--offline] [--aws]")
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	ev, err := readEvent(*eventFile)
	if err != nil {
		return err
	}
	var profile customer.Profile
	var sent []store.Send
	if !*offline {
		profile, sent, err = history(ctx, &data, ev)
		if err != nil {
			fmt.Fprintf(os.Stderr, "note: %v; deciding from the event alone (use --offline to skip the store)\n", err)
		}
	}
	if profile.ID == "" {
		profile.ID = ev.Order.Customer.ID
	}
	// Simulated as the first the store hears of the order.
	profile.ApplyDeliveryChange(ev.Order.Customer, ev.Order, ev.Type, ev.OccurredAt, customer.Transition{Key: "simulate:" + ev.DeliveryID}, set.Settings.Thresholds)
	d := &campaign.Decider{Rules: set, Deciles: set.Deciles, Explain: true}
	t := campaign.Trigger{Event: rules.Trigger(ev.Type), Key: "order:" + ev.Order.ID + ":" + string(ev.Type), At: ev.OccurredAt, Profile: profile, Order: ev.Order}
	printDecisions(stdout, set, t, d.Decide(t, sent))
	return nil
}

// history reads the customer's stored profile and recent sends.
func history(ctx context.Context, data *dataFlags, ev order.Event) (customer.Profile, []store.Send, error) {
	st, err := data.open(ctx)
	if err != nil {
		return customer.Profile{}, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := st.GetProfile(ctx, ev.Order.Customer.ID)
	if errors.Is(err, store.ErrNotFound) {
		return customer.Profile{}, nil, nil
	}
	if err != nil {
		return customer.Profile{}, nil, fmt.Errorf("cannot read the customer from %s: %w", data.where(), err)
	}
	sent, err := st.RecentSends(ctx, p.ID)
	return p, sent, err
}

func readEvent(path string) (order.Event, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return order.Event{}, err
	}
	ev, err := order.DecodeGeneric(body)
	if err != nil {
		return order.Event{}, fmt.Errorf("%s: %w", path, err)
	}
	if ev.Order.Customer == nil {
		return order.Event{}, fmt.Errorf("%s: the event needs order.customer to decide anything", path)
	}
	return ev, nil
}

func loadRules(dir string) (*rules.Set, error) {
	set, err := rules.Load(dir)
	var problems rules.Problems
	if errors.As(err, &problems) {
		return nil, fmt.Errorf("the rules have problems; run tsunagu lint:\n%w", err)
	}
	return set, err
}

// printDecisions writes one line per campaign: what it decides and why.
func printDecisions(w io.Writer, set *rules.Set, t campaign.Trigger, ds []campaign.Decision) {
	loc := set.Settings.Location
	fmt.Fprintf(w, "%s for order %s (customer %s) at %s\n\n", t.Event, t.Order.ID, t.Profile.ID, t.At.In(loc).Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tVERDICT\tVARIANT\tWHY")
	decided := map[string]bool{}
	for _, d := range ds {
		decided[d.Campaign.ID] = true
		why := d.Reason
		if d.Verdict == campaign.Wait {
			why += " until " + d.DueAt.In(loc).Format("2006-01-02 15:04")
		}
		if d.Verdict == campaign.Send {
			why = fmt.Sprintf("%d action(s)", len(d.Actions))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Campaign.ID, d.Verdict, d.Variant, why)
	}
	for _, c := range set.Campaigns {
		if !decided[c.ID] {
			fmt.Fprintf(tw, "%s\t-\t\ttriggered by %s, not %s\n", c.ID, c.Trigger, t.Event)
		}
	}
	tw.Flush()
}
