package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// tickCommand runs the scheduler as of a time: the timers due by then go to
// the sender's queue, and the local stack's sender sends them, so a
// marketer can watch a review request fire "7 days later"; orders whose
// return window has passed by then get their points approved (and, on
// the local stack, a referred order's advocate rewarded).
func tickCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tick", flag.ContinueOnError)
	at := fs.String("at", "", "the tick's time, RFC 3339 (e.g. 2026-12-01T10:00:00+09:00); default now")
	queueURL := fs.String("queue", os.Getenv("SENDER_QUEUE_URL"), "the sender queue's URL with --aws (the stack's SenderQueue)")
	rulesDir := fs.String("rules", "rules", "rule directory (the referral programme, for advocates' rewards on the local stack)")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		var err error
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	var client *sqs.Client
	if data.aws {
		if *queueURL == "" {
			return fmt.Errorf("--aws needs the sender queue: --queue URL or SENDER_QUEUE_URL")
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS configuration: %w", err)
		}
		client = sqs.NewFromConfig(cfg)
	} else {
		*queueURL = localQueueURL("SenderQueue")
		client = sqs.NewFromConfig(aws.Config{Region: localRegion, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
			func(o *sqs.Options) { o.BaseEndpoint = aws.String("http://" + queueAddr) })
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	var points scheduler.Points = &loyalty.Steps{Ledger: st, Rules: set}
	if !data.aws {
		// As the local stack's scheduler function: advocates are rewarded
		// too, their coupons keyed with the local COUPON_SECRET. (In AWS
		// the deployed function does it with the stack's secret.)
		coupons, err := coupon.NewCoder(envOr(deps.CouponSecret, devSecret))
		if err != nil {
			return err
		}
		points = referral.AfterReturnWindow{Points: points, Referrals: &referral.Approver{Store: st, Coupons: coupons, Rules: set}}
	}
	t := &scheduler.Ticker{Store: st, Queue: queue.NewSQS(client, *queueURL), Points: points, PageSize: 100}
	res, err := t.Tick(ctx, now)
	if err != nil {
		return fmt.Errorf("tick as of %s on %s (is `make run` running?): %w", now.Format(time.RFC3339), data.where(), err)
	}
	out, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "tick as of %s: %s\n", now.Format(time.RFC3339), out)
	return nil
}

// segmentsCommand runs the nightly segment job now: deciles and RFM bands
// over every profile, and the night's snapshot for reports.
func segmentsCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("segments", flag.ContinueOnError)
	rulesDir := fs.String("rules", "rules", "rule directory (segments, thresholds, time zone)")
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	stats, _, err := nightlyJob(st, set).Run(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("run the segment job on %s: %w", data.where(), err)
	}
	out, _ := json.MarshalIndent(stats, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	return nil
}

// nightlyJob is the segment function's job, as its main.go builds it, on
// the store the command chose.
func nightlyJob(st *store.Store, set *rules.Set) *segments.Job {
	return &segments.Job{Store: st, ScanSegments: 4, Thresholds: set.Settings.Thresholds, Location: set.Settings.Location,
		Segments: set.SegmentsOf, Deciles: set.Deciles,
		Ranker: &segments.Ranker{Store: st, Ranks: set.Ranks(), Currency: set.Settings.Shop.Currency, Location: set.Settings.Location}}
}
