// Command purchase is the Lambda function behind the order webhooks
// (POST /webhooks/orders and POST /webhooks/shopify/orders).
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
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	webhookSecret, shopifySecret := env.Required("TSUNAGU_WEBHOOK_SECRET"), env.Required("SHOPIFY_WEBHOOK_SECRET")
	// In AWS the shop must be named and the pseudonym key set; the local
	// stack takes any shop and the local default key.
	shop, pseudonymSecret := env.Optional("SHOPIFY_SHOP_DOMAIN", ""), env.Optional("PSEUDONYM_SECRET", "dev-secret")
	if !env.Local() {
		shop, pseudonymSecret = env.Required("SHOPIFY_SHOP_DOMAIN"), env.Required("PSEUDONYM_SECRET")
	}
	d, err := deps.Build(context.Background(), env)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: d.Store, Campaigns: d.Campaigns, Rules: d.Rules,
		WebhookSecret: webhookSecret, ShopifySecret: shopifySecret,
		Shopify: shopify.Decoder{Shop: shop, Guests: pseudonym.New(pseudonymSecret)}, Now: time.Now}
	lambda.Start(h.Handle)
}
