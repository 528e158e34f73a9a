// Command points is the Lambda function behind the points page that
// emails link to (GET and POST /points/{token}): the customer's points,
// and rewards exchanged for coupons.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	publicURL := env.BaseURL("TSUNAGU_PUBLIC_URL")
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	b, err := deps.Store(context.Background(), env, deps.ClickSecret, deps.CouponSecret)
	var set *rules.Set
	if err == nil {
		if set, err = rules.Load(rulesDir); err != nil {
			err = fmt.Errorf("load rules from %s:\n%w", rulesDir, err)
		}
	}
	var links *redeem.Links
	var coder *coupon.Coder
	if err == nil {
		links, err = redeem.NewLinks(publicURL, b.Secrets.Keys(deps.ClickSecret)...)
	}
	if err == nil {
		coder, err = coupon.NewCoder(b.Secrets.Keys(deps.CouponSecret).Current())
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Ledger: b.Store, Redeemer: &redeem.Redeemer{Store: b.Store, Coupons: coder, Rules: set}, Links: links, Rules: set, Now: time.Now}
	lambda.Start(h.Handle)
}
