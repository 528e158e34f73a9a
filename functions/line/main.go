// Command line is the Lambda function behind the LINE channel: LINE's
// webhook (POST /line/webhook) and the shop-facing step of LINE's account
// link (GET /line/link).
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/support"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	h := &Handler{LoginURL: env.Optional("LINE_LINK_LOGIN_URL", ""), Now: time.Now}
	d, err := deps.Build(context.Background(), env, deps.LineChannelSecret, deps.ThankyouSecret)
	if err == nil && h.LoginURL != "" && !validLoginURL(h.LoginURL) {
		err = errors.New("configuration: LINE_LINK_LOGIN_URL must be an absolute https URL (http only on 127.0.0.1 or localhost)")
	}
	// Without a channel access token nothing goes to LINE: replies and
	// link tokens are dry runs, written to standard output.
	h.LINE = deps.LineDryRun(env)
	if err == nil {
		if token := d.Secrets.Keys(deps.LineAccessToken).Current(); token != "" {
			h.LINE, err = line.New(token)
		}
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	h.Store, h.ChannelSecret, h.SigningSecret = d.Store, d.Secrets.Keys(deps.LineChannelSecret), d.Secrets.Keys(deps.ThankyouSecret)
	h.Points = &PointsDesk{Ledger: d.Store, Redeemer: &redeem.Redeemer{Store: d.Store, Coupons: d.Coupons, Rules: d.Rules},
		Referrals: d.Referrals, Rules: d.Rules, PublicURL: d.PublicURL}
	h.Surveys = &Surveys{Messages: d.Store, Rules: d.Rules, Answers: &survey.Recorder{Store: d.Store, Location: d.Rules.Settings.Location,
		Cases: &support.Opener{Store: d.Store, CoolingOff: d.Rules.Settings.Support.CoolingOff}}}
	lambda.Start(h.Handle)
}
