// Command erasure is the Lambda function behind the shop's customer
// deletion webhooks (POST /webhooks/customers/erase and Shopify's
// POST /webhooks/shopify/customers/redact).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	table := env.Required("TABLE_NAME")
	webhookSecret, shopifySecret := env.Required("TSUNAGU_WEBHOOK_SECRET"), env.Required("SHOPIFY_WEBHOOK_SECRET")
	if err := env.Err(); err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: store.New(dynamodb.NewFromConfig(cfg), table),
		WebhookSecret: webhookSecret, ShopifySecret: shopifySecret, Now: time.Now}
	lambda.Start(h.Handle)
}
