// Command scheduler is the Lambda function EventBridge Scheduler invokes
// every five minutes: it queues the campaign timers that are due.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	table, queueURL := env.Required("TABLE_NAME"), env.Required("SENDER_QUEUE_URL")
	if err := env.Err(); err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Ticker: &scheduler.Ticker{
		Store:    store.New(dynamodb.NewFromConfig(cfg), table),
		Queue:    queue.NewSQS(sqs.NewFromConfig(cfg), queueURL),
		PageSize: 100,
		Reserve:  10 * time.Second,
	}}
	lambda.Start(h.Handle)
}
