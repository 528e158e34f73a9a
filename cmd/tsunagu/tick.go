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

	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/segments"
)

// tickCommand runs the scheduler as of a time: the timers due by then go to
// the sender's queue, and the local stack's sender sends them, so a
// marketer can watch a review request fire "7 days later".
func tickCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tick", flag.ContinueOnError)
	at := fs.String("at", "", "the tick's time, RFC 3339 (e.g. 2026-12-01T10:00:00+09:00); default now")
	queueURL := fs.String("queue", os.Getenv("SENDER_QUEUE_URL"), "the sender queue's URL with --aws (the stack's SenderQueue)")
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
	t := &scheduler.Ticker{Store: st, Queue: queue.NewSQS(client, *queueURL), PageSize: 100}
	res, err := t.Tick(ctx, now)
	if err != nil {
		return fmt.Errorf("tick as of %s on %s (is `make run` running?): %w", now.Format(time.RFC3339), data.where(), err)
	}
	out, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "tick as of %s: %s\n", now.Format(time.RFC3339), out)
	return nil
}

// segmentsCommand runs the nightly segment job now: deciles and RFM bands
// over all customers, stored for the rules.
func segmentsCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("segments", flag.ContinueOnError)
	var data dataFlags
	data.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := data.open(ctx)
	if err != nil {
		return err
	}
	c := segments.NewCollector(time.Now())
	if err := st.ScanProfiles(ctx, 4, c.Visit); err != nil {
		return fmt.Errorf("read profiles from %s: %w", data.where(), err)
	}
	stats := c.Stats()
	if err := st.SaveSegmentStats(ctx, stats); err != nil {
		return err
	}
	out, _ := json.MarshalIndent(stats, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	return nil
}
