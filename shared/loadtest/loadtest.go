// Package loadtest offers signed order webhooks (generic and Shopify) to a
// running tsunagu at a fixed rate for a fixed time and reports what came
// back: requests, answers by status, transport errors and latency
// percentiles.
//
// The schedule is open loop: request i is due at start + i/rate whether or
// not earlier ones have been answered, so a slow server does not lower the
// offered rate, and each latency is measured from when the request was
// due, so queueing in the client is counted too (no coordinated omission).
// A run stops by itself: nothing is offered after the duration, and every
// request gives up after its timeout.
package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config is one load test.
type Config struct {
	// URL is the base URL of the HTTP API (http://127.0.0.1:3000).
	URL string
	// Rate is the number of requests offered per second.
	Rate float64
	// Duration is how long requests are offered.
	Duration time.Duration
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// MaxInFlight bounds the requests waiting for an answer (default
	// 2000); a request due while that many wait is counted as dropped,
	// not delayed, so the schedule stays open loop.
	MaxInFlight int
	// WebhookSecret signs X-Tsunagu-Signature; ShopifySecret signs
	// X-Shopify-Hmac-Sha256.
	WebhookSecret, ShopifySecret string
	// RunID makes this run's delivery, order and customer ids unique
	// (default: the start time).
	RunID string
	// Client sends the requests (default: one tuned for many concurrent
	// connections to one host).
	Client *http.Client
}

// Report is what a load test measured.
type Report struct {
	Rate     float64
	Duration time.Duration
	// Offered counts requests due; Dropped those not sent because
	// MaxInFlight requests were waiting.
	Offered, Dropped int
	// ByRoute counts the requests sent per route key.
	ByRoute map[string]int
	// ByStatus counts answers by HTTP status; TransportErrors counts
	// requests that got no answer (refused, reset, timed out).
	ByStatus        map[int]int
	TransportErrors int
	// FirstError is the first transport error, for the report.
	FirstError string
	// Latencies of every answered request, from when it was due, sorted.
	Latencies []time.Duration
	// Elapsed is from the first request due to the last answer.
	Elapsed time.Duration
}

// Errors counts requests without a 2xx answer.
func (r Report) Errors() int {
	n := r.TransportErrors + r.Dropped
	for status, c := range r.ByStatus {
		if status < 200 || status > 299 {
			n += c
		}
	}
	return n
}

// Percentile returns the latency at or below which p percent of answered
// requests fall (nearest rank), or 0 without answers.
func (r Report) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(r.Latencies))+0.999999) - 1
	return r.Latencies[min(max(rank, 0), len(r.Latencies)-1)]
}

// Write prints the report for people.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "offered %d requests at %.0f/s for %s (%d dropped by the client), done in %s\n", r.Offered, r.Rate, r.Duration, r.Dropped, r.Elapsed.Round(time.Millisecond))
	routes := make([]string, 0, len(r.ByRoute))
	for k := range r.ByRoute {
		routes = append(routes, k)
	}
	slices.Sort(routes)
	for _, k := range routes {
		fmt.Fprintf(&b, "  %-30s %d\n", k, r.ByRoute[k])
	}
	statuses := make([]int, 0, len(r.ByStatus))
	for s := range r.ByStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	b.WriteString("answers:")
	for _, s := range statuses {
		fmt.Fprintf(&b, " %d×%d", r.ByStatus[s], s)
	}
	fmt.Fprintf(&b, "; transport errors %d", r.TransportErrors)
	if r.FirstError != "" {
		fmt.Fprintf(&b, " (first: %s)", r.FirstError)
	}
	fmt.Fprintf(&b, "\nerrors (no 2xx answer): %d of %d (%.2f%%)\n", r.Errors(), r.Offered, 100*float64(r.Errors())/float64(max(r.Offered, 1)))
	if len(r.Latencies) > 0 {
		fmt.Fprintf(&b, "latency from when due: p50 %s  p95 %s  p99 %s  max %s\n",
			r.Percentile(50).Round(10*time.Microsecond), r.Percentile(95).Round(10*time.Microsecond),
			r.Percentile(99).Round(10*time.Microsecond), r.Latencies[len(r.Latencies)-1].Round(10*time.Microsecond))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// result is one request's outcome.
type result struct {
	route   string
	status  int
	err     error
	latency time.Duration
}

// Run offers the load and returns the report. It stops early, after the
// requests in flight, when ctx ends.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return Report{}, errors.New("load test: rate and duration must be positive")
	}
	if cfg.URL == "" {
		return Report{}, errors.New("load test: no URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 2000
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConns: cfg.MaxInFlight, MaxIdleConnsPerHost: cfg.MaxInFlight, IdleConnTimeout: 30 * time.Second}}
	}
	start := time.Now()
	if cfg.RunID == "" {
		cfg.RunID = start.UTC().Format("150405")
	}
	gen := &generator{run: cfg.RunID, webhookSecret: cfg.WebhookSecret, shopifySecret: cfg.ShopifySecret}
	total := int(cfg.Rate * cfg.Duration.Seconds())
	interval := time.Duration(float64(time.Second) / cfg.Rate)

	results := make(chan result, total)
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, cfg.MaxInFlight)
	rep := Report{Rate: cfg.Rate, Duration: cfg.Duration, ByRoute: map[string]int{}, ByStatus: map[int]int{}}
	timer := time.NewTimer(0)
	defer timer.Stop()
schedule:
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			break schedule
		case <-timer.C:
		}
		rep.Offered++
		select {
		case inFlight <- struct{}{}:
		default:
			rep.Dropped++
			continue
		}
		route, req, err := gen.request(ctx, cfg.URL, i, time.Now())
		if err != nil {
			<-inFlight
			return rep, err
		}
		rep.ByRoute[route]++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inFlight }()
			results <- send(client, req, route, due, cfg.Timeout)
		}()
	}
	wg.Wait()
	close(results)
	for res := range results {
		if res.err != nil {
			rep.TransportErrors++
			if rep.FirstError == "" {
				rep.FirstError = res.err.Error()
			}
			continue
		}
		rep.ByStatus[res.status]++
		rep.Latencies = append(rep.Latencies, res.latency)
	}
	slices.Sort(rep.Latencies)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// send makes one request and reads its answer to the end, so the
// connection is reused.
func send(client *http.Client, req *http.Request, route string, due time.Time, timeout time.Duration) result {
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return result{route: route, err: err}
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return result{route: route, err: fmt.Errorf("read answer: %w", err)}
	}
	return result{route: route, status: resp.StatusCode, latency: time.Since(due)}
}

// newRequest builds a POST with a JSON body and headers.
func newRequest(ctx context.Context, url string, body []byte, headers map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("load test: new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req, nil
}
