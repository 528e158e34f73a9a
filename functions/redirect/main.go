// Command redirect is the Lambda function behind the tracked links of
// campaign messages (GET and HEAD /r/{token}) and customers' referral
// links (GET /r/ref/{code}). It reads TABLE_NAME, TSUNAGU_PUBLIC_URL,
// TSUNAGU_RULES_DIR (the shop's zone, for the days of its counters; the
// referral programme and the shop's URL) and CLICK_SECRET (the keys the
// links are sealed with).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	publicURL := env.BaseURL("TSUNAGU_PUBLIC_URL")
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	b, err := deps.Store(context.Background(), env, deps.ClickSecret)
	var set *rules.Set
	if err == nil {
		set, err = rules.Load(rulesDir)
	}
	var links *clicks.Sealer
	if err == nil {
		links, err = clicks.NewSealer(publicURL, b.Secrets.Keys(deps.ClickSecret)...)
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: b.Store, Links: links, Location: set.Settings.Location, Now: time.Now,
		Referrals: Referrals{Visits: b.Store, Programme: set.Referral(), ShopURL: set.Settings.Shop.URL}}
	lambda.Start(h.Handle)
}
