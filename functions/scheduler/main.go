// Command scheduler is the Lambda function EventBridge Scheduler invokes
// every five minutes: it queues the campaign timers that are due and
// approves the points of orders whose return window has passed.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	queueURL := env.Required("SENDER_QUEUE_URL")
	b, err := deps.Store(context.Background(), env)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Ticker: &scheduler.Ticker{
		Store:    b.Store,
		Queue:    queue.NewSQS(sqs.NewFromConfig(b.AWS), queueURL),
		Points:   &loyalty.Steps{Ledger: b.Store},
		PageSize: 100,
		Reserve:  10 * time.Second,
	}}
	lambda.Start(h.Handle)
}
