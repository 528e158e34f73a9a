package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// lintRules checks a rule directory (default rules/) and prints every
// problem as file:line:col: message. It fails when there is any.
func lintRules(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: tsunagu lint [DIR]   (default: rules)") }
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := "rules"
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	set, err := rules.Load(dir)
	var problems rules.Problems
	if errors.As(err, &problems) {
		fmt.Fprintln(stdout, problems.Error())
		return fmt.Errorf("%d problem(s) in %s", len(problems), dir)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d campaigns, %d templates; %s)\n", dir, len(set.Campaigns), len(set.Templates), set.Loyalty)
	if set.Loyalty != nil && set.Loyalty.Referral != nil {
		fmt.Fprintf(stdout, "%s: %s\n", dir, set.Loyalty.Referral)
	}
	if r := set.Ranks(); r != nil {
		fmt.Fprintf(stdout, "%s: %s\n", dir, r)
	}
	return nil
}
