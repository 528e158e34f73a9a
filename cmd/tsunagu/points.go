package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
)

const pointsUsage = `usage:
  tsunagu points show CUSTOMER [--aws] [--table NAME] [--rules DIR]
  tsunagu points adjust CUSTOMER --points N --reason TEXT --ref ID [--aws] [--table NAME]`

// pointsCommand dispatches `tsunagu points <subcommand>`.
func pointsCommand(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "show":
			return showPoints(ctx, args[1:])
		case "adjust":
			return adjustPoints(ctx, args[1:])
		}
	}
	fmt.Fprintln(os.Stderr, pointsUsage)
	return errUsage
}

// showPoints prints a customer's ledger, one movement a line, and the
// balance computed from it, in the shop's zone.
func showPoints(ctx context.Context, args []string) error {
	var data dataFlags
	rulesDir := "rules"
	customerID, err := oneArgument("points show", args, pointsUsage, &data, func(fs *flag.FlagSet) {
		fs.StringVar(&rulesDir, "rules", "rules", "rule directory (the programme, the shop's zone)")
	})
	if err != nil {
		return err
	}
	set, err := loadRules(rulesDir)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	ledger, err := st.Ledger(ctx, customerID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "AT\tMOVEMENT\tORDER\tREASON\tPOINTS")
	for _, m := range ledger {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", m.At.In(set.Settings.Location).Format("2006-01-02 15:04"), m.ID(), m.OrderID, m.Reason, m.Points)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	s := loyalty.Summarize(set.Loyalty, ledger)
	fmt.Fprintf(stdout, "balance: %d approved, %d pending", s.Approved, s.Pending)
	if s.Expiring > 0 {
		fmt.Fprintf(stdout, "; %d expire on %s without an order", s.Expiring, s.ExpiresAt.In(set.Settings.Location).Format(time.DateOnly))
	}
	fmt.Fprintln(stdout)
	return nil
}

// adjustPoints gives (or, negative, takes) points by the shop's hand: one
// "adjusted" movement named by --ref, so running it again adds nothing.
func adjustPoints(ctx context.Context, args []string) error {
	var data dataFlags
	var points int64
	var reason, ref string
	customerID, err := oneArgument("points adjust", args, pointsUsage, &data, func(fs *flag.FlagSet) {
		fs.Int64Var(&points, "points", 0, "points to add (negative: to take)")
		fs.StringVar(&reason, "reason", "", "why, kept on the movement")
		fs.StringVar(&ref, "ref", "", "a name for this adjustment, unique per customer (running it again changes nothing)")
	})
	if err != nil {
		return err
	}
	if points == 0 || strings.TrimSpace(reason) == "" || strings.TrimSpace(ref) == "" {
		fmt.Fprintln(os.Stderr, pointsUsage)
		return fmt.Errorf("points adjust: --points (not 0), --reason and --ref are required")
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	m := loyalty.Movement{CustomerID: customerID, Kind: loyalty.Adjusted, Reason: reason, Ref: "shop:" + ref, Points: points, At: time.Now().UTC()}
	written, err := st.PutMovement(ctx, m)
	if err != nil {
		return err
	}
	if !written {
		fmt.Fprintf(stdout, "%s: already recorded, nothing changed\n", m.ID())
		return nil
	}
	fmt.Fprintf(stdout, "%s: %+d points for %s\n", m.ID(), points, customerID)
	return nil
}
