// Command erasure is the Lambda function behind the shop's privacy
// webhooks: its own deletion webhook (POST /webhooks/customers/erase) and
// Shopify's mandatory compliance webhooks (POST /webhooks/shopify/compliance,
// and customers/redact on its earlier POST /webhooks/shopify/customers/redact).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	rulesDir, mailFrom, configSet := env.Required("TSUNAGU_RULES_DIR"), env.Required("MAIL_FROM"), env.Optional("SES_CONFIGURATION_SET", "")
	// In AWS the shop must be named; the local stack takes any shop.
	shop := env.Optional("SHOPIFY_SHOP_DOMAIN", "")
	if !env.Local() {
		shop = env.Required("SHOPIFY_SHOP_DOMAIN")
	}
	b, err := deps.Store(context.Background(), env, deps.WebhookSecret, deps.ShopifySecret, deps.PseudonymSecret)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	set, err := rules.Load(rulesDir)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	mailer, err := email.NewSender(sesv2.NewFromConfig(b.AWS), set.Settings.FromName, mailFrom, set.Settings.ReplyTo, configSet)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: b.Store, WebhookSecret: b.Secrets.Keys(deps.WebhookSecret), ShopifySecret: b.Secrets.Keys(deps.ShopifySecret),
		Compliance: shopify.Compliance{Shop: shop, Guests: b.Pseudonyms},
		Mailer:     mailer, ShopContact: set.Settings.Shop.ContactEmail, Now: time.Now}
	lambda.Start(h.Handle)
}
