package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/loadtest"
)

// loadtestCommand offers signed order webhooks (half generic, half
// Shopify, each its own delivery) to a running stack at a fixed rate for a
// fixed time, open loop, and prints the answers and latency percentiles.
// It stops by itself: after --duration, each request waits at most
// --timeout.
func loadtestCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tsunagu loadtest [--rate 200] [--duration 30s] [--url http://127.0.0.1:$PORT] [--timeout 10s]")
		fs.PrintDefaults()
	}
	rate := fs.Float64("rate", 200, "requests offered per second, whatever the answers")
	duration := fs.Duration("duration", 30*time.Second, "how long to offer requests")
	url := fs.String("url", "http://127.0.0.1:"+envOr("PORT", "3000"), "base URL of the HTTP API (make run's gateway by default)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long one request may take before it counts as a transport error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 || *rate <= 0 || *duration <= 0 || *timeout <= 0 {
		fs.Usage()
		return errUsage
	}
	cfg := loadtest.Config{URL: strings.TrimRight(*url, "/"), Rate: *rate, Duration: *duration, Timeout: *timeout,
		WebhookSecret: envOr("TSUNAGU_WEBHOOK_SECRET", devSecret), ShopifySecret: envOr("SHOPIFY_WEBHOOK_SECRET", devSecret)}
	fmt.Fprintf(os.Stderr, "offering %.0f webhooks/s for %s to %s ...\n", cfg.Rate, cfg.Duration, cfg.URL)
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return rep.Write(stdout)
}
