package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/browser"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/lift"
	"github.com/tsunagu-dev/tsunagu/shared/report"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestSeedPlantedLift seeds a year of history with a lift planted in the
// second-purchase nudge and none in the win-back (given a holdout here),
// and checks that the report finds the one and not the other, and no
// difference between the nudge's two coupons, which were planted alike.
func TestSeedPlantedLift(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	rules := t.TempDir()
	if err := os.CopyFS(rules, os.DirFS(rulesDir())); err != nil {
		t.Fatal(err)
	}
	winback := filepath.Join(rules, "campaigns", "winback.yaml")
	raw, err := os.ReadFile(winback)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(winback, []byte(strings.Replace(string(raw), "priority: 50\n", "priority: 50\nholdout: 20\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The report's recipient, an address of this test's own.
	recipient := testenv.UniqueEmail(t, "marketing")
	settings := filepath.Join(rules, "settings.yaml")
	if raw, err = os.ReadFile(settings); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, []byte(strings.Replace(string(raw), "marketing@tsubaki-chaen.example.jp", recipient, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	catalog := filepath.Join(testenv.Root(), "infra", "catalog", "sample-catalog.csv")
	out, err := capture(t, seedCommand, "--customers", "10000", "--days", "365", "--end", "2026-11-30", "--seed", "7",
		"--plant", "second-purchase-nudge=0.8", "--table", table, "--rules", rules, "--catalog", catalog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "seeded 10000 customers") || !strings.Contains(out, "planted: second-purchase-nudge converts +80% more") {
		t.Errorf("seed said:\n%s", out)
	}

	set, err := loadRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kpi.ParsePeriod("2025-12-01", "2026-11-30", set.Settings.Location)
	if err != nil {
		t.Fatal(err)
	}
	f, err := kpi.Compute(context.Background(), store.New(testenv.DynamoDB(), table), p, report.CampaignsOf(set), time.Date(2026, 12, 1, 9, 0, 0, 0, set.Settings.Location))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]kpi.CampaignFigures{}
	for _, c := range f.Campaigns {
		byID[c.ID] = c
	}
	nudge, wb := byID["second-purchase-nudge"].Lift, byID["winback"].Lift
	if nudge.Outcome != lift.Lifted || !nudge.LiftCI.Contains(0.8) {
		t.Errorf("nudge: outcome %d, lift %+.3f in [%+.3f, %+.3f], p %.4f (%d/%d treated, %d/%d held out); want a lift, its interval holding the planted +0.8",
			nudge.Outcome, nudge.Lift, nudge.LiftCI.Low, nudge.LiftCI.High, nudge.PValue, nudge.Treatment.Converted, nudge.Treatment.Customers, nudge.Control.Converted, nudge.Control.Customers)
	}
	if wb.Outcome == lift.Lifted || wb.Outcome == lift.Hurt || !wb.LiftCI.Contains(0) {
		t.Errorf("win-back: outcome %d, lift %+.3f in [%+.3f, %+.3f], p %.4f; none was planted", wb.Outcome, wb.Lift, wb.LiftCI.Low, wb.LiftCI.High, wb.PValue)
	}
	if v := byID["second-purchase-nudge"].VariantTest; v.DF != 1 || v.PValue < lift.Alpha {
		t.Errorf("nudge variants: %+v; both coupons were planted alike", v)
	}
	if f.Snapshot == nil || f.Snapshot.Customers != 10000 || f.Snapshot.Deciles[0].Revenue <= f.Snapshot.Deciles[9].Revenue ||
		f.Snapshot.Segments["repeaters"].Customers == 0 || f.Snapshot.Segments["first_time"].Customers+f.Snapshot.Segments["repeaters"].Customers != 10000 {
		t.Errorf("snapshot: %+v", f.Snapshot)
	}

	// The command: the table on the terminal, the HTML file and the email.
	t.Setenv("AWS_ENDPOINT_URL_SESV2", testenv.SESURL())
	html := filepath.Join(t.TempDir(), "report.html")
	out, err = capture(t, reportCommand, "--from", "2026-11-01", "--to", "2026-11-30", "--out", html, "--table", table, "--rules", rules, "--email")
	if err != nil {
		t.Fatal(err)
	}
	if sent := testenv.SentEmails(t, recipient); len(sent) != 1 || sent[0].Subject != "【椿茶園】レポート 2026年11月1日〜2026年11月30日" || len(sent[0].Attachments) != 1 {
		t.Errorf("--email sent %d emails to the report's recipient, want 1 with the report attached", len(sent))
	}
	for _, want := range []string{"椿茶園 レポート 2026年11月1日〜2026年11月30日", "売上", "HTML: " + html, "emailed to 1 recipient(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if page, err := os.ReadFile(html); err != nil || !strings.Contains(string(page), "<svg") {
		t.Errorf("report.html: %v, %d bytes", err, len(page))
	}
}

var screenshot = flag.Bool("screenshot", false, "save the demo report's screenshot to docs/screenshots/report.png")

// TestDemoReportInBrowser seeds the demo history as README says, makes
// the autumn's report (September to November) and opens it in Chromium at a phone's width and a
// desktop's: no errors, nothing fetched, no sideways scroll, every chart
// drawn. With -screenshot it saves the desktop view for README.
func TestDemoReportInBrowser(t *testing.T) {
	ctx := t.Context()
	if err := emulator.Install(ctx, filepath.Join(testenv.Root(), "infra", "local")); err != nil {
		t.Fatal(err)
	}
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	catalog := filepath.Join(testenv.Root(), "infra", "catalog", "sample-catalog.csv")
	if _, err := capture(t, seedCommand, "--customers", "20000", "--end", "2026-11-30", "--table", table, "--rules", rulesDir(), "--catalog", catalog); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(t.TempDir(), "report.html")
	_, err := capture(t, reportCommand, "--from", "2026-09-01", "--to", "2026-11-30", "--out", html, "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, vp := range []browser.Viewport{{Width: 375, Height: 740}, {Width: 1024, Height: 800}} {
		cfg := browser.PageConfig{URL: "file://" + html, Viewport: vp}
		if *screenshot && vp.Width == 1024 {
			cfg.Screenshot = filepath.Join(testenv.Root(), "docs", "screenshots", "report.png")
		}
		p, err := browser.InspectPage(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range p.Problems(vp.Width) {
			t.Errorf("%d px: %s", vp.Width, problem)
		}
		if charts := p.ChartsBySection(); charts["cohorts"] != 1 || charts["deciles"] != 1 || charts["lift"] == 0 {
			t.Errorf("%d px: charts by section %v; want the heat map, the deciles and a lift chart", vp.Width, charts)
		}
	}
}
