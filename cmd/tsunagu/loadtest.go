package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/loadtest"
)

// loadtestCommand offers signed webhooks to a running stack at a fixed
// rate for a fixed time, open loop, and prints the answers and latency
// percentiles per route and in total. Requests go to the selected routes
// in turn (by default all: generic and Shopify orders, LINE events,
// generic erasure, Shopify redact), each its own delivery. It stops by
// itself: after --duration, each request waits at most --timeout.
func loadtestCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tsunagu loadtest [--rate 200] [--duration 30s] [--url http://127.0.0.1:$PORT] [--timeout 10s] [--routes "+allRouteNames()+"]")
		fs.PrintDefaults()
	}
	rate := fs.Float64("rate", 200, "requests offered per second, whatever the answers")
	duration := fs.Duration("duration", 30*time.Second, "how long to offer requests")
	url := fs.String("url", "http://127.0.0.1:"+envOr("PORT", "3000"), "base URL of the HTTP API (make run's gateway by default)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long one request may take before it counts as a transport error")
	routes := fs.String("routes", allRouteNames(), "comma-separated routes to offer requests to, in turn")
	// Secrets default to empty here and are resolved after parsing, so
	// that -h never prints a secret taken from the environment.
	webhookSecret := fs.String("webhook-secret", "", "signs X-Tsunagu-Signature (orders, erase) (default $TSUNAGU_WEBHOOK_SECRET, else "+devSecret+")")
	shopifySecret := fs.String("shopify-secret", "", "signs X-Shopify-Hmac-Sha256 (shopify, redact) (default $SHOPIFY_WEBHOOK_SECRET, else "+devSecret+")")
	lineSecret := fs.String("line-secret", "", "signs X-Line-Signature (line) (default $LINE_CHANNEL_SECRET, else "+devSecret+")")
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
	keys, err := loadtest.ParseRoutes(*routes)
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return errUsage
	}
	cfg := loadtest.Config{URL: strings.TrimRight(*url, "/"), Rate: *rate, Duration: *duration, Timeout: *timeout, Routes: keys,
		WebhookSecret: flagOrEnv(*webhookSecret, "TSUNAGU_WEBHOOK_SECRET"), ShopifySecret: flagOrEnv(*shopifySecret, "SHOPIFY_WEBHOOK_SECRET"),
		LineSecret: flagOrEnv(*lineSecret, "LINE_CHANNEL_SECRET")}
	fmt.Fprintf(os.Stderr, "offering %.0f webhooks/s for %s to %s (%s in turn) ...\n", cfg.Rate, cfg.Duration, cfg.URL, *routes)
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return rep.Write(stdout)
}

// allRouteNames is every route name the load test knows, comma-separated.
func allRouteNames() string {
	names := make([]string, 0, len(loadtest.RouteNames))
	for _, r := range loadtest.RouteNames {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

// flagOrEnv is a secret given as a flag, else the environment variable
// name, else the local default.
func flagOrEnv(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	return envOr(name, devSecret)
}
