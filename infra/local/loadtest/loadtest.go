// Package loadtest offers signed webhooks (generic and Shopify orders, LINE
// platform events, generic and Shopify customer erasures) to a running
// tsunagu at a fixed rate for a fixed time and reports what came back, per
// route and in total: requests, answers by status, transport errors and
// latency percentiles.
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
	"text/tabwriter"
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
	// Routes are the route keys requests go to, in turn (request i to
	// Routes[i%len(Routes)]); default AllRoutes().
	Routes []string
	// WebhookSecret signs X-Tsunagu-Signature (orders, erasure);
	// ShopifySecret signs X-Shopify-Hmac-Sha256 (Shopify orders, redact);
	// LineSecret, the channel secret, signs X-Line-Signature.
	WebhookSecret, ShopifySecret, LineSecret string
	// RunID makes this run's delivery, order, customer, LINE user and
	// event ids unique
	// (default: the start time).
	RunID string
	// Client sends the requests (default: one tuned for many concurrent
	// connections to one host).
	Client *http.Client
}

// Report is what a load test measured, in total and per route.
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
	// Routes are the route keys offered, in the order of Config.Routes;
	// PerRoute is what each of them got.
	Routes   []string
	PerRoute map[string]*RouteReport
}

// RouteReport is what the requests to one route got.
type RouteReport struct {
	// Offered counts the route's requests due; Dropped those not sent
	// because MaxInFlight requests were waiting.
	Offered, Dropped int
	// ByStatus counts answers by HTTP status; TransportErrors counts
	// requests that got no answer.
	ByStatus        map[int]int
	TransportErrors int
	// Latencies of every answered request, from when it was due, sorted.
	Latencies []time.Duration
}

// Errors counts requests without a 2xx answer.
func (r Report) Errors() int {
	return errorCount(r.Dropped, r.TransportErrors, r.ByStatus)
}

// Errors counts the route's requests without a 2xx answer.
func (r RouteReport) Errors() int {
	return errorCount(r.Dropped, r.TransportErrors, r.ByStatus)
}

// errorCount is dropped and unanswered requests plus answers other than 2xx.
func errorCount(dropped, transport int, byStatus map[int]int) int {
	n := dropped + transport
	for status, c := range byStatus {
		if status < 200 || status > 299 {
			n += c
		}
	}
	return n
}

// Percentile returns the latency at or below which p percent of answered
// requests fall (nearest rank), or 0 without answers.
func (r Report) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

// Percentile returns the latency at or below which p percent of the
// route's answered requests fall (nearest rank), or 0 without answers.
func (r RouteReport) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

// percentile is the nearest-rank percentile p of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Write prints the report for people: a table with a line per route and
// one for all of them, then the first transport error if there was one.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "offered %d requests at %.0f/s for %s (%d dropped by the client), done in %s\n", r.Offered, r.Rate, r.Duration, r.Dropped, r.Elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "route\toffered\tanswers\ttransport errors\terrors (no 2xx)\tp50\tp95\tp99\tmax")
	row := func(name string, offered int, rr RouteReport) {
		errs := rr.Errors()
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d (%.2f%%)\t%s\n", name, offered, answers(rr.ByStatus), rr.TransportErrors, errs,
			100*float64(errs)/float64(max(offered, 1)), latencyColumns(rr.Latencies))
	}
	for _, k := range r.Routes {
		if rr := r.PerRoute[k]; rr != nil {
			row(k, rr.Offered, *rr)
		}
	}
	row("all routes", r.Offered, RouteReport{Dropped: r.Dropped, ByStatus: r.ByStatus, TransportErrors: r.TransportErrors, Latencies: r.Latencies})
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write load test report: %w", err)
	}
	if r.FirstError != "" {
		fmt.Fprintf(&b, "first transport error: %s\n", r.FirstError)
	}
	b.WriteString("latencies are measured from when each request was due\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write load test report: %w", err)
	}
	return nil
}

// answers lists answers by status ("5990×200 10×503"), or "none".
func answers(byStatus map[int]int) string {
	statuses := make([]int, 0, len(byStatus))
	for s := range byStatus {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	parts := make([]string, 0, len(statuses))
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%d×%d", byStatus[s], s))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// latencyColumns is p50, p95, p99 and max of sorted latencies, tab-separated.
func latencyColumns(sorted []time.Duration) string {
	if len(sorted) == 0 {
		return "-\t-\t-\t-"
	}
	return strings.Join([]string{roundLatency(percentile(sorted, 50)), roundLatency(percentile(sorted, 95)), roundLatency(percentile(sorted, 99)),
		roundLatency(sorted[len(sorted)-1])}, "\t")
}

// roundLatency keeps three or four significant digits: 6.57ms, 20.5ms,
// 1.516s.
func roundLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
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
	if len(cfg.Routes) == 0 {
		cfg.Routes = AllRoutes()
	}
	if err := checkRoutes(cfg.Routes); err != nil {
		return Report{}, err
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
	gen := &generator{run: cfg.RunID, routes: cfg.Routes, webhookSecret: cfg.WebhookSecret, shopifySecret: cfg.ShopifySecret, lineSecret: cfg.LineSecret}
	total := int(cfg.Rate * cfg.Duration.Seconds())
	interval := time.Duration(float64(time.Second) / cfg.Rate)

	results := make(chan result, total)
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, cfg.MaxInFlight)
	rep := Report{Rate: cfg.Rate, Duration: cfg.Duration, ByRoute: map[string]int{}, ByStatus: map[int]int{},
		Routes: slices.Clone(cfg.Routes), PerRoute: map[string]*RouteReport{}}
	for _, k := range cfg.Routes {
		rep.PerRoute[k] = &RouteReport{ByStatus: map[int]int{}}
	}
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
		rr := rep.PerRoute[gen.route(i)]
		rep.Offered++
		rr.Offered++
		select {
		case inFlight <- struct{}{}:
		default:
			rep.Dropped++
			rr.Dropped++
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
		rr := rep.PerRoute[res.route]
		if res.err != nil {
			rep.TransportErrors++
			rr.TransportErrors++
			if rep.FirstError == "" {
				rep.FirstError = res.err.Error()
			}
			continue
		}
		rep.ByStatus[res.status]++
		rr.ByStatus[res.status]++
		rep.Latencies = append(rep.Latencies, res.latency)
		rr.Latencies = append(rr.Latencies, res.latency)
	}
	slices.Sort(rep.Latencies)
	for _, rr := range rep.PerRoute {
		slices.Sort(rr.Latencies)
	}
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
