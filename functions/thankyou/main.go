// Command thankyou is the Lambda function behind the thank-you page widget
// (GET /thankyou/widget.js, GET /thankyou/{orderId},
// POST /thankyou/{orderId}/optin, POST /thankyou/{orderId}/points).
package main

import (
	"context"
	_ "embed"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
)

//go:embed widget.js
var widget []byte

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	d, err := deps.Build(context.Background(), config.New(os.LookupEnv), deps.ThankyouSecret)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: d.Store, Campaigns: d.Campaigns, Coupons: d.Coupons, Rules: d.Rules,
		Secret: d.Secrets.Keys(deps.ThankyouSecret), PublicURL: d.PublicURL, Mailer: d.Campaigns.Mailer, Confirmations: d.Unsubscribe,
		Widget: widget, Now: time.Now,
		Points: d.Store, Redeemer: &redeem.Redeemer{Store: d.Store, Coupons: d.Coupons, Rules: d.Rules}, Referrals: d.Referrals}
	lambda.Start(h.Handle)
}
