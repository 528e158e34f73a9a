// Command purchase is the Lambda function behind the order webhooks
// (POST /webhooks/orders and POST /webhooks/shopify/orders).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/attribution"
	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	// In AWS the shop must be named; the local stack takes any shop.
	shop := env.Optional("SHOPIFY_SHOP_DOMAIN", "")
	if !env.Local() {
		shop = env.Required("SHOPIFY_SHOP_DOMAIN")
	}
	d, err := deps.Build(context.Background(), env, deps.WebhookSecret, deps.ShopifySecret)
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: d.Store, Campaigns: d.Campaigns, Rules: d.Rules, Measure: &attribution.Steps{Store: d.Store, Clicks: d.Store, Rules: d.Rules},
		Points:    &loyalty.Steps{Ledger: d.Store, Rules: d.Rules},
		Referrals: &referral.Steps{Store: d.Store, Coder: d.Referrals, Rules: d.Rules},
		Watch: &support.Watch{Store: d.Store, Cases: &support.Opener{Store: d.Store, CoolingOff: d.Rules.Settings.Support.CoolingOff},
			After: d.Rules.Settings.Support.NotDeliveredAfter},
		WebhookSecret: d.Secrets.Keys(deps.WebhookSecret), ShopifySecret: d.Secrets.Keys(deps.ShopifySecret),
		Shopify: shopify.Decoder{Shop: shop, Guests: d.Pseudonyms}, Now: time.Now}
	lambda.Start(h.Handle)
}
