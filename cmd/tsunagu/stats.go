package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/recount"
)

const statsUsage = "usage: tsunagu stats rebuild --from YYYY-MM-DD --to YYYY-MM-DD [--dry-run] [--campaigns ID,...] [--settle 2m] [--aws] [--table NAME] [--rules DIR]"

// statsCommand runs the counter commands: rebuild recounts the campaign
// counters of a period from the message log, clicks, attributions and
// coupons, and corrects the differences (what the nightly job does for
// its last days, for any period).
func statsCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintln(flag.CommandLine.Output(), statsUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("stats rebuild", flag.ContinueOnError)
	from := fs.String("from", "", "first day to recount, YYYY-MM-DD (shop time)")
	to := fs.String("to", "", "last day to recount, YYYY-MM-DD (shop time)")
	dryRun := fs.Bool("dry-run", false, "print the corrections and write none")
	campaigns := fs.String("campaigns", "", "campaign ids, comma-separated (default: the rules' campaigns)")
	settle := fs.Duration("settle", recount.DefaultSettle, "wait before writing, for counter updates of running functions to land (0 on a stack nothing writes to)")
	rulesDir := fs.String("rules", "rules", "rule directory (campaigns, currency and time zone)")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	set, period, err := periodAndRules(fs, statsUsage, *from, *to, *rulesDir)
	if err != nil {
		return err
	}
	ids := recount.CampaignIDs(set)
	if *campaigns != "" {
		ids = strings.Split(*campaigns, ",")
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	r := &recount.Reconciler{Store: st, Location: set.Settings.Location, Currency: set.Settings.Shop.Currency, Settle: *settle, DryRun: *dryRun}
	fixed, err := r.Run(ctx, st, 4, ids, period.From, period.To, time.Now())
	if err != nil {
		return fmt.Errorf("rebuild the counters of %s on %s: %w", period, data.where(), err)
	}
	printCorrections(fixed, *dryRun)
	return nil
}

// printCorrections writes the corrections per campaign and day, a
// counter a line, with what happened to each.
func printCorrections(fixed []recount.Correction, dryRun bool) {
	if len(fixed) == 0 {
		fmt.Fprintln(stdout, "every counter matches its sources: nothing to correct")
		return
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "campaign\tday\tvariant\tcounter\tstored\trecounted\t")
	applied := 0
	for _, c := range fixed {
		state := "corrected"
		switch {
		case dryRun:
			state = "dry run"
		case !c.Applied:
			state = "changed meanwhile: left for the next run"
		default:
			applied++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", c.Campaign, c.Day, c.Variant, c.Counter, c.Stored, c.Recomputed, state)
	}
	w.Flush()
	fmt.Fprintf(stdout, "%d corrections, %d written\n", len(fixed), applied)
}
