// Command shopredact is the shop redaction job: on a schedule, it erases
// every customer's personal data for each Shopify shop/redact request the
// compliance webhook recorded.
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
	b, err := deps.Store(context.Background(), config.New(os.LookupEnv))
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: b.Store, Segments: 4, PageSize: 100, Margin: 30 * time.Second, Now: time.Now}
	lambda.Start(h.Handle)
}
