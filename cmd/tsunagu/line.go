package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

const lineUsage = "usage: tsunagu line quota [--month YYYY-MM] [--aws] [--table NAME] [--rules DIR]"

// lineCommand dispatches `tsunagu line <subcommand>`.
func lineCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "quota" {
		fmt.Fprintln(os.Stderr, lineUsage)
		return errUsage
	}
	return lineQuota(ctx, args[1:])
}

// quotaReader reads the LINE plan's monthly limit and what was sent.
type quotaReader interface {
	Quota(ctx context.Context) (limit, used int, err error)
}

// budgetReader reads what a campaign spent of its monthly LINE budget.
type budgetReader interface {
	LineBudgetUsed(ctx context.Context, campaignID, month string) (int, error)
}

// lineQuota prints the LINE plan's messages this month (with the channel
// access token in LINE_CHANNEL_ACCESS_TOKEN) and each campaign's use of
// its monthly LINE budget.
func lineQuota(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("line quota", flag.ContinueOnError)
	rulesDir := fs.String("rules", "rules", "rule directory (campaign budgets, shop time zone)")
	month := fs.String("month", "", "month of the campaign budgets, YYYY-MM (default: this month, shop time)")
	endpoint := fs.String("line-endpoint", "", "base URL of the Messaging API (default LINE's own)")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(fs.Output(), lineUsage)
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	if *month == "" {
		*month = time.Now().In(set.Settings.Location).Format("2006-01")
	} else if _, err := time.Parse("2006-01", *month); err != nil {
		return fmt.Errorf("--month %q: want YYYY-MM: %w", *month, errUsage)
	}
	var plan quotaReader = line.NewDryRun(io.Discard)
	if token := os.Getenv("LINE_CHANNEL_ACCESS_TOKEN"); token != "" {
		var opts []line.Option
		if *endpoint != "" {
			opts = append(opts, line.WithEndpoint(*endpoint))
		}
		if plan, err = line.New(token, opts...); err != nil {
			return err
		}
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	return printLineQuota(ctx, stdout, set, *month, plan, st, os.Getenv("LINE_CHANNEL_ACCESS_TOKEN") == "")
}

func printLineQuota(ctx context.Context, out io.Writer, set *rules.Set, month string, plan quotaReader, budgets budgetReader, dryRun bool) error {
	limit, used, err := plan.Quota(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("read the LINE quota: %w", err)
	case dryRun:
		fmt.Fprintln(out, "LINE plan: LINE_CHANNEL_ACCESS_TOKEN is not set, so LINE messages are dry runs and use no quota")
	case limit == line.Unlimited:
		fmt.Fprintf(out, "LINE plan: %d messages sent this month, no monthly limit\n", used)
	default:
		fmt.Fprintf(out, "LINE plan: %d of %d messages sent this month, %d left (LINE's count trails the latest sends)\n", used, limit, max(limit-used, 0))
	}
	fmt.Fprintf(out, "\ncampaign LINE budgets, %s:\n", month)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range set.Campaigns {
		if !sendsLine(c) {
			continue
		}
		if c.LineBudget == 0 {
			fmt.Fprintf(w, "  %s\tno budget (limited by the plan only)\n", c.ID)
			continue
		}
		n, err := budgets.LineBudgetUsed(ctx, c.ID, month)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s\t%d of %d\n", c.ID, n, c.LineBudget)
	}
	return w.Flush()
}

func sendsLine(c *rules.Campaign) bool {
	for _, a := range c.Actions() {
		if a.Type == rules.ActionLine {
			return true
		}
	}
	return false
}
