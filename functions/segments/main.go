// Command segments is the nightly job: deciles and RFM bands over all
// customers, stored for the rules, the night's snapshot for reports,
// the campaign counters of the last days reconciled with the message log,
// and the member ranks recomputed as old orders leave their window.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/recount"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	b, err := deps.Store(context.Background(), env)
	var set *rules.Set
	if err == nil {
		if set, err = rules.Load(rulesDir); err != nil {
			err = fmt.Errorf("load rules from %s:\n%w", rulesDir, err)
		}
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Job: &segments.Job{Store: b.Store, ScanSegments: 8, Thresholds: set.Settings.Thresholds, Location: set.Settings.Location,
		Segments: set.SegmentsOf, Deciles: set.Deciles,
		Recount:   &recount.Reconciler{Store: b.Store, Location: set.Settings.Location, Currency: set.Settings.Shop.Currency, Settle: recount.DefaultSettle},
		Campaigns: recount.CampaignIDs(set), Measurement: set.Settings.Measurement,
		Ranker: &segments.Ranker{Store: b.Store, Ranks: set.Ranks(), Currency: set.Settings.Shop.Currency, Location: set.Settings.Location}}}
	lambda.Start(h.Handle)
}
