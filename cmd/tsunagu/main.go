// Command tsunagu is the command line of tsunagu: the local stack, rule
// lint and previews, and operations on the data.
//
//	go run ./cmd/tsunagu <command> [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: its one-line summary and what it runs.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{
	"backtest": {"replay stored orders through a campaign: who would have received what, per day", backtestCampaign},
	"events":   {"write events/*.json: sample Lambda events for sam local invoke, signed now", writeEvents},
	"catalog":  {"catalog import FILE: load products (CSV or JSON) into the store", catalogCommand},
	"customer": {"customer show ID | erase ID: what is held about a customer, with its consent ledger; erase it", customerCommand},
	"bench":    {"run the benchmarks against the emulators and write BENCHMARKS.md", benchCommand},
	"line":     {"line quota: the LINE plan's messages this month and each campaign's LINE budget", lineCommand},
	"loadtest": {"offer signed webhooks (orders, Shopify, LINE, erasure) to a running stack at a fixed rate; report answers and latency per route", loadtestCommand},
	"logcheck": {"check a test run's output (go test -json) for email addresses, LINE user ids and secrets", logcheckCommand},
	"lint":     {"check rule files: every problem as file:line:col: message", lintRules},
	"preview":  {"render a campaign's messages for a sample customer", previewCampaign},
	"report":   {"report --from --to: a period's KPIs, lift and deliverability as a table and one HTML file", reportCommand},
	"reviews":  {"reviews list | approve KEY | reject KEY: the reviews customers sent on tsunagu's own form, for the shop to approve", reviewsCommand},
	"points":   {"points show CUSTOMER | adjust CUSTOMER --points N --reason TEXT --ref ID: a customer's points ledger and balance; the shop's adjustments", pointsCommand},
	"referral": {"referral list --status review|pending|rewarded|refused|cancelled | approve ORDER | reject ORDER: the referrals for the shop to review, and its decisions", referralCommand},
	"simulate": {"which campaigns an order event fires, and why the others do not", simulateEvent},
	"seed":     {"seed --customers N --days D: write a realistic demo history (profiles, counters, snapshot) with a planted campaign effect", seedCommand},
	"segments": {"run the nightly segment job now (deciles, RFM bands, the report's snapshot)", segmentsCommand},
	"stats":    {"stats rebuild --from --to [--dry-run]: recount campaign counters from the message log and correct them", statsCommand},
	"tick":     {"run the scheduler as of a time (--at); the local stack's sender sends what is due", tickCommand},
	"run":      {"start the local stack (emulators, table, rules, gateway on $PORT)", runStack},
}

// stdout is where commands write their results (tests capture it).
var stdout io.Writer = os.Stdout

// errUsage marks a mistake in how the command was called (exit status 2).
var errUsage = errors.New("usage")

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "tsunagu: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "tsunagu:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tsunagu <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}
