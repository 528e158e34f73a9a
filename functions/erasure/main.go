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
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	webhookSecret, shopifySecret := env.Required("TSUNAGU_WEBHOOK_SECRET"), env.Required("SHOPIFY_WEBHOOK_SECRET")
	rulesDir, mailFrom, configSet := env.Required("TSUNAGU_RULES_DIR"), env.Required("MAIL_FROM"), env.Optional("SES_CONFIGURATION_SET", "")
	// In AWS the shop must be named and the pseudonym key set; the local
	// stack takes any shop and the local default key.
	shop, pseudonymSecret := env.Optional("SHOPIFY_SHOP_DOMAIN", ""), env.Optional("PSEUDONYM_SECRET", "dev-secret")
	if !env.Local() {
		shop, pseudonymSecret = env.Required("SHOPIFY_SHOP_DOMAIN"), env.Required("PSEUDONYM_SECRET")
	}
	st, awsCfg, err := deps.Store(context.Background(), env)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	set, err := rules.Load(rulesDir)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	mailer, err := email.NewSender(sesv2.NewFromConfig(awsCfg), set.Settings.FromName, mailFrom, set.Settings.ReplyTo, configSet)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: st, WebhookSecret: webhookSecret, ShopifySecret: shopifySecret,
		Compliance: shopify.Compliance{Shop: shop, Guests: pseudonym.New(pseudonymSecret)},
		Mailer:     mailer, ShopContact: set.Settings.Shop.ContactEmail, Now: time.Now}
	lambda.Start(h.Handle)
}
