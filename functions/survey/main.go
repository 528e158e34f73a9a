// Command survey is the Lambda function behind the satisfaction surveys'
// answer page (GET and POST /survey/{token}): it records each survey
// message's answer once (a second tap changes it), the customer's latest
// NPS, and a support case for an unhappy score.
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
	"github.com/tsunagu-dev/tsunagu/shared/support"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	publicURL := env.BaseURL("TSUNAGU_PUBLIC_URL")
	b, settings, err := deps.Counting(context.Background(), env, deps.ClickSecret)
	var tokens *survey.Sealer
	if err == nil {
		tokens, err = survey.NewSealer(publicURL, b.Secrets.Keys(deps.ClickSecret)...)
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h := &Handler{Tokens: tokens, Shop: settings.Shop.Name, Now: time.Now,
		Answers: &survey.Recorder{Store: b.Store, Cases: &support.Opener{Store: b.Store, CoolingOff: settings.Support.CoolingOff}, Location: settings.Location}}
	lambda.Start(h.Handle)
}
