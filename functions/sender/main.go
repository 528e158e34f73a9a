// Command sender is the Lambda function behind the sender queue: it fires
// the campaign timers the scheduler found due, at a paced send rate.
package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	perSecond, err := strconv.ParseFloat(env.Optional("SEND_RATE_PER_SECOND", "14"), 64)
	if err != nil || perSecond <= 0 {
		slog.Error("cold start failed", "error", "SEND_RATE_PER_SECOND must be a positive number")
		os.Exit(1)
	}
	d, err := deps.Build(context.Background(), env)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	// One instance at a time (template.yaml caps the queue's concurrency at
	// its minimum, 2, and gives each half the account's rate).
	d.Campaigns.Mailer = email.NewPaced(d.Campaigns.Mailer, perSecond/2)
	h := &Handler{Store: d.Store, Campaigns: d.Campaigns, Points: &loyalty.Steps{Ledger: d.Store, Rules: d.Rules}}
	lambda.Start(h.Handle)
}
