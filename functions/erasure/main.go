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

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	webhookSecret, shopifySecret := env.Required("TSUNAGU_WEBHOOK_SECRET"), env.Required("SHOPIFY_WEBHOOK_SECRET")
	st, _, err := deps.Store(context.Background(), env)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: st, WebhookSecret: webhookSecret, ShopifySecret: shopifySecret, Now: time.Now}
	lambda.Start(h.Handle)
}
