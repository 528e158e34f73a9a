// Command digest is the Lambda function EventBridge Scheduler invokes
// every 5 minutes to write to the shop's staff: new support cases to the
// support address (shared/support), on Monday from 09:00 shop time the
// past week's report, and an alert when email complaints or bounces near
// the limits (shared/digest).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/digest"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func main() {
	slog.SetDefault(logging.NewLambdaLogger())
	env := config.New(os.LookupEnv)
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	mailFrom := env.Required("MAIL_FROM")
	b, err := deps.Store(context.Background(), env)
	var set *rules.Set
	if err == nil {
		if set, err = rules.Load(rulesDir); err != nil {
			err = fmt.Errorf("load rules from %s:\n%w", rulesDir, err)
		}
	}
	var mailer *email.Sender
	if err == nil {
		// No configuration set: the staff's own mail stays out of the
		// shop's deliverability counters.
		mailer, err = email.NewSender(sesv2.NewFromConfig(b.AWS), set.Settings.FromName, mailFrom, set.Settings.ReplyTo, "")
	}
	if err != nil {
		slog.Error("cold start failed", "error", err)
		os.Exit(1)
	}
	desk := &support.Desk{Store: b.Store, Mailer: mailer, Support: set.Settings.Support, Shop: set.Settings.Shop.Name, Location: set.Settings.Location}
	if u := set.Settings.Support.SlackWebhookURL; u != "" {
		desk.Slack = support.NewSlack(u)
	}
	h := &Handler{Job: digest.NewJob(b.Store, mailer, set), Desk: desk}
	lambda.Start(h.Handle)
}
