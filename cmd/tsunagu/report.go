package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/digest"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/report"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

const reportUsage = "usage: tsunagu report --from YYYY-MM-DD --to YYYY-MM-DD [--out report.html] [--email] [--aws] [--table NAME] [--rules DIR]"

// reportCommand prints a period's summary table and writes the report as
// one self-contained HTML file, both from the counters and the nightly
// snapshot.
func reportCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	from := fs.String("from", "", "first day of the period, YYYY-MM-DD (shop time)")
	to := fs.String("to", "", "last day of the period, YYYY-MM-DD (shop time)")
	out := fs.String("out", "report.html", "where to write the HTML report")
	rulesDir := fs.String("rules", "rules", "rule directory (campaigns, shop name and time zone)")
	mail := fs.Bool("email", false, "also email it now to report.recipients in settings.yaml, as the Monday report goes (the local SES emulator, or SES with --aws; From: $MAIL_FROM)")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	set, period, err := periodAndRules(fs, reportUsage, *from, *to, *rulesDir)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	f, err := kpi.Compute(ctx, st, period, report.CampaignsOf(set), time.Now())
	if err != nil {
		return fmt.Errorf("read the figures from %s: %w", data.where(), err)
	}
	var page bytes.Buffer
	names := report.NamesOf(set)
	if err := report.HTML(&page, f, names); err != nil {
		return err
	}
	if err := os.WriteFile(*out, page.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := report.Summary(stdout, f, names); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nHTML: %s\n", *out)
	if *mail {
		return emailReport(ctx, data, set, f)
	}
	return nil
}

// emailReport sends the report of f to the rules' report recipients.
func emailReport(ctx context.Context, data dataFlags, set *rules.Set, f *kpi.Figures) error {
	recipients := set.Settings.Report.Recipients
	if len(recipients) == 0 {
		return fmt.Errorf("--email: settings.yaml has no report.recipients: %w", errUsage)
	}
	client, err := data.ses(ctx)
	if err != nil {
		return err
	}
	mailer, err := email.NewSender(client, set.Settings.FromName, envOr("MAIL_FROM", localMailFrom), set.Settings.ReplyTo, "")
	if err != nil {
		return err
	}
	m, err := digest.ReportMessage(f, report.NamesOf(set))
	if err != nil {
		return err
	}
	for i, to := range recipients {
		m.To = to
		if _, err := mailer.Send(ctx, m); err != nil {
			return fmt.Errorf("email the report to recipient %d of report.recipients: %w", i+1, err)
		}
	}
	fmt.Fprintf(stdout, "emailed to %d recipient(s) (report.recipients)\n", len(recipients))
	return nil
}

// periodAndRules checks the arguments of a command over a period and
// loads the rules and the period (shop-zone days): no day, or a period
// that ends before it starts, is a usage error.
func periodAndRules(fs *flag.FlagSet, usage, from, to, rulesDir string) (*rules.Set, kpi.Period, error) {
	if fs.NArg() != 0 || from == "" || to == "" {
		fmt.Fprintln(fs.Output(), usage)
		return nil, kpi.Period{}, errUsage
	}
	set, err := loadRules(rulesDir)
	if err != nil {
		return nil, kpi.Period{}, err
	}
	period, err := kpi.ParsePeriod(from, to, set.Settings.Location)
	if err != nil {
		return nil, kpi.Period{}, fmt.Errorf("%w: %w", err, errUsage)
	}
	return set, period, nil
}
