// Command scheduler is the Lambda function EventBridge Scheduler invokes
// every five minutes: it queues the campaign timers that are due, and for
// orders whose return window has passed approves their points and
// rewards the advocate of a referred one.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	queueURL := env.Required("SENDER_QUEUE_URL")
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	b, err := deps.Store(context.Background(), env, deps.CouponSecret)
	var set *rules.Set
	if err == nil {
		if set, err = rules.Load(rulesDir); err != nil {
			err = fmt.Errorf("load rules from %s:\n%w", rulesDir, err)
		}
	}
	var coder *coupon.Coder
	if err == nil {
		// Reward coupons are derived like every coupon, with the current key.
		coder, err = coupon.NewCoder(b.Secrets.Keys(deps.CouponSecret).Current())
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Ticker: &scheduler.Ticker{
		Store: b.Store,
		Queue: queue.NewSQS(sqs.NewFromConfig(b.AWS), queueURL),
		Points: referral.AfterReturnWindow{Points: &loyalty.Steps{Ledger: b.Store, Rules: set},
			Referrals: &referral.Approver{Store: b.Store, Coupons: coder, Rules: set}},
		Deliveries: &support.Watch{Store: b.Store, Cases: &support.Opener{Store: b.Store, CoolingOff: set.Settings.Support.CoolingOff},
			After: set.Settings.Support.NotDeliveredAfter},
		PageSize: 100,
		Reserve:  10 * time.Second,
	}}
	lambda.Start(h.Handle)
}
