// Command segments is the nightly job: deciles and RFM bands over all
// customers, stored for the rules.
package main

import (
	"context"
	"log/slog"
	"os"

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
	h := &Handler{Store: b.Store, ScanSegments: 8}
	lambda.Start(h.Handle)
}
