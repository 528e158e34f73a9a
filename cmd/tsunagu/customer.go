package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

const customerUsage = `usage:
  tsunagu customer show ID  [--aws] [--table NAME] [--rules DIR]
  tsunagu customer erase ID [--aws] [--table NAME]`

// customerCommand dispatches `tsunagu customer <subcommand>`.
func customerCommand(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "show":
			return showCustomer(ctx, args[1:])
		case "erase":
			return eraseCustomer(ctx, args[1:])
		}
	}
	fmt.Fprintln(os.Stderr, customerUsage)
	return errUsage
}

// customerFlags parses the flags of a customer subcommand, which takes the
// customer id as its one argument, before or after the flags.
func customerFlags(name string, args []string, extra func(*flag.FlagSet)) (string, dataFlags, error) {
	fs := flag.NewFlagSet("customer "+name, flag.ContinueOnError)
	var data dataFlags
	data.register(fs)
	if extra != nil {
		extra(fs)
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		args = append(args[1:], args[0])
	}
	if err := fs.Parse(args); err != nil {
		return "", data, err
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		fmt.Fprintln(fs.Output(), customerUsage)
		return "", data, errUsage
	}
	return fs.Arg(0), data, nil
}

// showCustomer prints what tsunagu holds about a customer: the profile,
// the consent ledger (the evidence of every consent change), the message
// log and whether the address is suppressed.
func showCustomer(ctx context.Context, args []string) error {
	var rulesDir string
	id, data, err := customerFlags("show", args, func(fs *flag.FlagSet) {
		fs.StringVar(&rulesDir, "rules", "rules", "rule directory (for the shop's time zone and currency)")
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
	p, err := st.GetProfile(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no customer %q in %s", id, data.where())
	}
	if err != nil {
		return fmt.Errorf("read customer from %s: %w", data.where(), err)
	}
	ledger, err := st.ConsentLedger(ctx, id)
	if err != nil {
		return err
	}
	messages, err := st.CustomerMessages(ctx, id, time.Time{})
	if err != nil {
		return err
	}
	var sup store.Suppression
	if p.Email != "" {
		if sup, err = st.SuppressionOf(ctx, p.Email); err != nil {
			return err
		}
	}
	printCustomer(stdout, set, p, sup, ledger, messages)
	return nil
}

// printCustomer writes the report of showCustomer, times in the shop's zone.
func printCustomer(out io.Writer, set *rules.Set, p customer.Profile, sup store.Suppression, ledger []customer.ConsentChange, messages []store.MessageRecord) {
	loc := set.Settings.Location
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	orNone := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "customer %s\n", p.ID)
	if !p.ErasedAt.IsZero() {
		fmt.Fprintf(w, "  erased\t%s: contact details removed; counts kept\n", at(p.ErasedAt))
	}
	email := orNone(p.Email)
	switch {
	case sup.Suppressed:
		email += fmt.Sprintf("  (suppressed: %s)", sup.Reason)
	case sup.SoftBounces > 0:
		email += fmt.Sprintf("  (%d soft bounces)", sup.SoftBounces)
	}
	fmt.Fprintf(w, "  email\t%s\n", email)
	fmt.Fprintf(w, "  name\t%s\n", orNone(p.Name))
	line := "not linked"
	if p.LineUserID != "" {
		line = "linked"
	}
	fmt.Fprintf(w, "  LINE\t%s\n", line)
	fmt.Fprintf(w, "  birthday\t%s\n", orNone(p.Birthday))
	consent := string(p.Consent.State)
	if consent == "" {
		consent = "unknown"
	} else {
		consent += fmt.Sprintf(" (%s, %s)", p.Consent.Source, at(p.Consent.At))
	}
	fmt.Fprintf(w, "  consent\t%s\n", consent)
	channels := make([]string, 0, len(p.Unsubscribed))
	for ch := range p.Unsubscribed {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	for _, ch := range channels {
		state := "unsubscribed"
		if p.Resubscribed(ch) {
			state = "unsubscribed, then consented again"
		}
		fmt.Fprintf(w, "  %s\t%s %s\n", ch, state, at(p.Unsubscribed[ch]))
	}
	currency := set.Settings.Thresholds.Currency
	fmt.Fprintf(w, "  orders\t%d, %s in total, %s on average; first %s, last %s\n", p.OrderCount,
		rules.Money(p.TotalSpent, currency), rules.Money(p.AverageOrder, currency), at(p.FirstOrderAt), at(p.LastOrderAt))
	fmt.Fprintf(w, "  stage\t%s, RFM %d-%d-%d\n", orNone(string(p.Stage)), p.RFM.R, p.RFM.F, p.RFM.M)
	w.Flush()

	fmt.Fprintf(out, "\nconsent ledger (%s, oldest first)\n", count(len(ledger), "change"))
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range ledger {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s", at(c.At), c.Channel, c.State, c.Source)
		if c.Shown != "" {
			fmt.Fprintf(w, "\tshown: %q", c.Shown)
		}
		fmt.Fprintln(w)
	}
	w.Flush()

	fmt.Fprintf(out, "\nmessages (%s, oldest first)\n", count(len(messages), "message"))
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, m := range messages {
		outcome := string(m.Status)
		if m.Reason != "" {
			outcome += " (" + m.Reason + ")"
		}
		if m.Delivery != "" {
			outcome += ", " + m.Delivery
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", at(m.ClaimedAt), m.CampaignID, m.Channel, outcome)
	}
	w.Flush()
}

// eraseCustomer removes a customer's personal data, as the shop's deletion
// webhook does, and says what it removed.
func eraseCustomer(ctx context.Context, args []string) error {
	id, data, err := customerFlags("erase", args, nil)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	e, err := st.EraseCustomer(ctx, id, time.Now())
	if err != nil {
		return fmt.Errorf("erase customer in %s: %w", data.where(), err)
	}
	switch {
	case !e.Known:
		fmt.Fprintf(stdout, "no customer %q in %s: nothing to erase\n", id, data.where())
	case !e.Profile && e.LineLinks == 0:
		fmt.Fprintf(stdout, "customer %s was erased already: nothing left to remove\n", id)
	default:
		fmt.Fprintf(stdout, "erased customer %s in %s: contact details, LINE user and birthday removed (%d LINE links); order counts kept; a suppressed address stays suppressed as a hash\n", id, data.where(), e.LineLinks)
	}
	return nil
}

// count says "1 change" or "3 changes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
