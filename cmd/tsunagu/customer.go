package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/dataexport"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

const customerUsage = `usage:
  tsunagu customer show ID  [--aws] [--table NAME] [--rules DIR]
  tsunagu customer erase ID [--aws] [--table NAME]
  tsunagu customer export --request ID [--aws] [--table NAME] [--rules DIR]`

// customerCommand dispatches `tsunagu customer <subcommand>`.
func customerCommand(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "show":
			return showCustomer(ctx, args[1:])
		case "erase":
			return eraseCustomer(ctx, args[1:])
		case "export":
			return exportCustomer(ctx, args[1:])
		}
	}
	fmt.Fprintln(os.Stderr, customerUsage)
	return errUsage
}

// customerFlags parses the flags of a customer subcommand, which takes the
// customer id as its one argument, before or after the flags (or, with
// noID, no argument at all).
func customerFlags(name string, args []string, noID bool, extra func(*flag.FlagSet)) (string, dataFlags, error) {
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
	if noID {
		if fs.NArg() != 0 {
			fmt.Fprintln(fs.Output(), customerUsage)
			return "", data, errUsage
		}
		return "", data, nil
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
	id, data, err := customerFlags("show", args, false, func(fs *flag.FlagSet) {
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
	e, err := dataexport.Collect(ctx, st, id)
	if err != nil {
		return fmt.Errorf("read customer from %s: %w", data.where(), err)
	}
	if !e.Known {
		return fmt.Errorf("no customer %q in %s", id, data.where())
	}
	e.Write(stdout, set.Settings)
	return nil
}

// exportCustomer prints the data export a Shopify customers/data_request
// kept, by the request's id: what tsunagu held about the customer when the
// request arrived, as `customer show` prints it.
func exportCustomer(ctx context.Context, args []string) error {
	var rulesDir, requestID string
	_, data, err := customerFlags("export", args, true, func(fs *flag.FlagSet) {
		fs.StringVar(&rulesDir, "rules", "rules", "rule directory (for the shop's time zone and currency)")
		fs.StringVar(&requestID, "request", "", "the data request's id (Shopify's data_request.id)")
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(requestID) == "" {
		fmt.Fprintln(os.Stderr, customerUsage)
		return errUsage
	}
	set, err := loadRules(rulesDir)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	rec, err := st.GetExport(ctx, requestID, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no data request %q in %s (kept %d days after it arrived)", requestID, data.where(), int(store.ExportRetention.Hours()/24))
	}
	if err != nil {
		return fmt.Errorf("read data request from %s: %w", data.where(), err)
	}
	e, err := dataexport.Unmarshal(rec.Content)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "data request %s, received %s, kept until %s\n\n", rec.RequestID,
		rec.RequestedAt.In(set.Settings.Location).Format("2006-01-02 15:04 MST"), rec.ExpiresAt.In(set.Settings.Location).Format("2006-01-02 15:04 MST"))
	e.Write(stdout, set.Settings)
	return nil
}

// eraseCustomer removes a customer's personal data, as the shop's deletion
// webhook does, and says what it removed.
func eraseCustomer(ctx context.Context, args []string) error {
	id, data, err := customerFlags("erase", args, false, nil)
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
		fmt.Fprintf(stdout, "no customer %q in %s: nothing to erase; the time of the erasure is kept, so an order placed before it brings nothing back\n", id, data.where())
	case !e.Profile && e.LineLinks == 0:
		fmt.Fprintf(stdout, "customer %s was erased already: nothing left to remove\n", id)
	default:
		fmt.Fprintf(stdout, "erased customer %s in %s: contact details, LINE user and birthday removed (%d LINE links); order counts kept; a suppressed address stays suppressed as a hash\n", id, data.where(), e.LineLinks)
	}
	return nil
}
