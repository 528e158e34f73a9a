package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/referral"
)

const referralUsage = `usage:
  tsunagu referral list [--status review|pending|rewarded|refused|cancelled] [--aws] [--table NAME] [--rules DIR]
  tsunagu referral approve ORDER [--aws] [--table NAME]
  tsunagu referral reject ORDER [--aws] [--table NAME]`

// referralCommand dispatches `tsunagu referral <subcommand>`.
func referralCommand(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return listReferrals(ctx, args[1:])
		case "approve", "reject":
			return decideReferral(ctx, args[0], args[1:])
		}
	}
	fmt.Fprintln(os.Stderr, referralUsage)
	return errUsage
}

// decideReferral records the shop's decision on a referral in review (by
// its friend's order id): approve makes it pending, to be rewarded once
// its order passes the return window; reject refuses it.
func decideReferral(ctx context.Context, verb string, args []string) error {
	var data dataFlags
	orderID, err := oneArgument("referral "+verb, args, referralUsage, &data)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	status, err := referral.Decide(ctx, st, orderID, verb == "approve", time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "referral of order %s: %s\n", orderID, status)
	return nil
}

// oneArgument parses the flags of a command that takes one argument (an
// order id, a review key, a customer id) before or after its flags, and
// returns it; more registers the command's own flags.
func oneArgument(name string, args []string, usage string, data *dataFlags, more ...func(*flag.FlagSet)) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	data.register(fs)
	for _, register := range more {
		register(fs)
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		args = append(args[1:], args[0])
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		fmt.Fprintln(fs.Output(), usage)
		return "", errUsage
	}
	return fs.Arg(0), nil
}

// listReferrals prints the referrals in one status, oldest first, for
// the shop to review: the friend's order, the advocate and the friend by
// customer id (no names or addresses), the status with its reason, and
// the dates in the shop's zone. It reads one index partition, no Scan.
func listReferrals(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("referral list", flag.ContinueOnError)
	var data dataFlags
	data.register(fs)
	status := fs.String("status", string(referral.Review), "which referrals: "+statusNames())
	rulesDir := fs.String("rules", "rules", "rule directory (for the shop's time zone)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || !slices.Contains(referral.Statuses, referral.Status(*status)) {
		fmt.Fprintln(fs.Output(), referralUsage)
		return errUsage
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	list, err := st.ReferralsByStatus(ctx, referral.Status(*status))
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no %s referrals\n", *status)
		return nil
	}
	loc := set.Settings.Location
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ORDER\tPLACED\tADVOCATE\tFRIEND\tSTATUS\tREASON\tSINCE\tREWARD")
	for _, r := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.OrderID, day(r.PlacedAt), r.AdvocateID, r.FriendID, r.Status, r.Reason, day(r.At), orDash(r.Reward))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %s referrals\n", len(list), *status)
	return nil
}

func statusNames() string {
	names := make([]string, len(referral.Statuses))
	for i, s := range referral.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
