// Command sesfeedback is the Lambda function behind SES's sending events
// (bounces, complaints, deliveries, opens, clicks) on the stack's
// configuration set. It reads TABLE_NAME, SES_CONFIGURATION_SET (the set
// whose events it acts on; empty acts on all, as on the local stack),
// TSUNAGU_RULES_DIR (the shop's zone, for the days of its counters, and
// the cooling-off after a complaint) and
// PSEUDONYM_SECRET (the key of the hashes suppressed addresses are kept
// under).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	b, settings, err := deps.Counting(context.Background(), env, deps.PseudonymSecret)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: b.Store, ConfigurationSet: configSet, Location: settings.Location,
		Cases: &support.Opener{Store: b.Store, CoolingOff: settings.Support.CoolingOff}}
	lambda.Start(h.Handle)
}
