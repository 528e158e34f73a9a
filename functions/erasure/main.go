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
	b, err := deps.Store(context.Background(), config.New(os.LookupEnv), deps.WebhookSecret, deps.ShopifySecret, deps.PseudonymSecret)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: b.Store, WebhookSecret: b.Secrets.Keys(deps.WebhookSecret), ShopifySecret: b.Secrets.Keys(deps.ShopifySecret), Now: time.Now}
	lambda.Start(h.Handle)
}
