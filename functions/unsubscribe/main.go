// Command unsubscribe is the Lambda function behind every message's
// unsubscribe link (GET and POST /unsubscribe, RFC 8058 one-click) and the
// link of an opt-in confirmation email (GET and POST /optin/confirm).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	d, err := deps.Build(context.Background(), config.New(os.LookupEnv))
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: d.Store, Tokens: d.Unsubscribe, Shop: d.Rules.Settings.Shop, OptinText: d.Rules.Settings.Thankyou.OptinText,
		Location: d.Rules.Settings.Location, Now: time.Now}
	lambda.Start(h.Handle)
}
