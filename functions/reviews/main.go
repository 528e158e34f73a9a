// Command reviews is the Lambda function behind the review webhooks:
// tsunagu's own (POST /webhooks/reviews) and Judge.me's
// (POST /webhooks/reviews/judgeme), and tsunagu's own review form
// (GET and POST /review/{token}).
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
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	publicURL := env.BaseURL("TSUNAGU_PUBLIC_URL")
	b, set, err := deps.CountingRules(context.Background(), env, deps.WebhookSecret, deps.JudgemeSecret, deps.ClickSecret)
	var forms *review.FormSealer
	if err == nil {
		forms, err = review.NewFormSealer(publicURL, b.Secrets.Keys(deps.ClickSecret)...)
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Store: b.Store, WebhookSecret: b.Secrets.Keys(deps.WebhookSecret), JudgemeSecret: b.Secrets.Keys(deps.JudgemeSecret),
		Cases: &support.Opener{Store: b.Store, CoolingOff: set.Settings.Support.CoolingOff}, Forms: forms, Shop: set.Settings.Shop.Name, Now: time.Now}
	if set.Loyalty != nil {
		h.ReviewPoints = set.Loyalty.ReviewPoints
	}
	if len(h.JudgemeSecret) == 0 {
		slog.Info("judge.me webhooks refused: no JUDGEME_WEBHOOK_SECRET")
	}
	lambda.Start(h.Handle)
}
