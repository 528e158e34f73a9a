package loadtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoop holds every answer until ten requests wait at once: a
// closed loop (one request at a time) would never get there and time out.
// The offered count is the schedule's, whatever the answers.
func TestOpenLoop(t *testing.T) {
	const together = 10
	var seen atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == together {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{URL: srv.URL, Rate: 50, Duration: time.Second, Timeout: 20 * time.Second, WebhookSecret: "s", ShopifySecret: "s", LineSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered != 50 || rep.ByStatus[200] != 50 || rep.Errors() != 0 || len(rep.Latencies) != 50 {
		t.Errorf("offered %d, answers %v, errors %d (%s), latencies %d; want 50 answered 200", rep.Offered, rep.ByStatus, rep.Errors(), rep.FirstError, len(rep.Latencies))
	}
	if !slices.Equal(rep.Routes, AllRoutes()) {
		t.Errorf("routes %v, want every route by default", rep.Routes)
	}
	for _, k := range AllRoutes() {
		if rr := rep.PerRoute[k]; rep.ByRoute[k] != 10 || rr == nil || rr.Offered != 10 || rr.ByStatus[200] != 10 || len(rr.Latencies) != 10 {
			t.Errorf("route %s: sent %d, report %+v; want 10 answered 200", k, rep.ByRoute[k], rr)
		}
	}
}

// TestReportCountsEveryOutcome answers with errors, and drops some
// connections: every request is counted once, as a status or a transport
// error.
func TestReportCountsEveryOutcome(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{URL: srv.URL, Rate: 100, Duration: 400 * time.Millisecond, WebhookSecret: "s", ShopifySecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered != 40 || rep.ByStatus[200] != 20 || rep.ByStatus[503] != 10 || rep.TransportErrors != 10 || rep.Errors() != 20 {
		t.Errorf("offered %d, answers %v, transport errors %d, errors %d; want 40: 20×200, 10×503, 10 dropped connections", rep.Offered, rep.ByStatus, rep.TransportErrors, rep.Errors())
	}
	var out strings.Builder
	if err := rep.Write(&out); err != nil || !totalRow.MatchString(out.String()) || !strings.Contains(out.String(), "p99") || !strings.Contains(out.String(), "first transport error: ") {
		t.Errorf("report:\n%s", out.String())
	}
}

// totalRow is the report's line for all routes of TestReportCountsEveryOutcome.
var totalRow = regexp.MustCompile(`(?m)^all routes +40 +20×200 10×503 +10 +20 \(50\.00%\) +[0-9.]+[µm]?s `)

// TestReportPerRoute sends to three of the routes, each answered its own
// way: every request is counted under its route and in the total, and
// the report has a line per route offered, in the order selected.
func TestReportPerRoute(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/webhooks/orders":
			time.Sleep(20 * time.Millisecond)
		case "/line/webhook":
			w.WriteHeader(http.StatusUnauthorized)
		case "/webhooks/customers/erase":
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	routes := []string{LineRoute, GenericRoute, EraseRoute}
	rep, err := Run(context.Background(), Config{URL: srv.URL, Rate: 60, Duration: 500 * time.Millisecond, Routes: routes, WebhookSecret: "s", LineSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		route     string
		status    int
		transport int
		errors    int
	}{
		{route: GenericRoute, status: 200},
		{route: LineRoute, status: 401, errors: 10},
		{route: EraseRoute, transport: 10, errors: 10},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			rr := rep.PerRoute[tt.route]
			if rr == nil || rr.Offered != 10 || rep.ByRoute[tt.route] != 10 || rr.TransportErrors != tt.transport || rr.Errors() != tt.errors ||
				tt.status != 0 && (rr.ByStatus[tt.status] != 10 || len(rr.Latencies) != 10) {
				t.Errorf("got %+v, sent %d; want 10 offered, all %d, %d transport errors, %d errors", rr, rep.ByRoute[tt.route], tt.status, tt.transport, tt.errors)
			}
		})
	}
	if p50 := rep.PerRoute[GenericRoute].Percentile(50); p50 < 20*time.Millisecond {
		t.Errorf("p50 of %s = %s, want at least the 20 ms it took", GenericRoute, p50)
	}
	if !slices.Equal(rep.Routes, routes) || len(rep.PerRoute) != 3 || rep.Offered != 30 || rep.Errors() != 20 {
		t.Errorf("routes %v (%d reported), offered %d, errors %d; want the 3 selected, 30 offered, 20 errors", rep.Routes, len(rep.PerRoute), rep.Offered, rep.Errors())
	}
	var out strings.Builder
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	for n, want := range []string{"route ", LineRoute + " ", GenericRoute + " ", EraseRoute + " ", "all routes "} {
		if len(lines) <= n+1 || !strings.HasPrefix(lines[n+1], want) {
			t.Fatalf("report line %d does not start with %q:\n%s", n+2, want, out.String())
		}
	}
	if !strings.Contains(lines[4], " none ") || !strings.Contains(lines[4], " -  ") || !strings.Contains(lines[2], "10×401") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestParseRoutes(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    []string
		wantErr string
	}{
		{name: "all", list: "orders,shopify,line,erase,redact", want: AllRoutes()},
		{name: "one", list: "line", want: []string{LineRoute}},
		{name: "order kept, spaces trimmed", list: " redact , orders", want: []string{RedactRoute, GenericRoute}},
		{name: "unknown", list: "orders,lime", wantErr: `unknown route "lime" (known: orders,shopify,line,erase,redact)`},
		{name: "empty", list: "", wantErr: `unknown route ""`},
		{name: "trailing comma", list: "orders,", wantErr: `unknown route ""`},
		{name: "twice", list: "line,orders,line", wantErr: `"line" given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRoutes(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseRoutes(%q) = %v, %v; want an error with %s", tt.list, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParseRoutes(%q) = %v, %v; want %v", tt.list, got, err, tt.want)
			}
		})
	}
}

// TestRunStopsWhenCancelled cancels a long run: it returns with what was
// offered, every request answered or given up.
func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 5 {
			cancel()
		}
	}))
	defer srv.Close()
	rep, err := Run(ctx, Config{URL: srv.URL, Rate: 50, Duration: time.Hour, WebhookSecret: "s", ShopifySecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered < 5 || rep.Offered >= 50*3600 || rep.ByStatus[200]+rep.TransportErrors != rep.Offered-rep.Dropped {
		t.Errorf("offered %d, answers %v, transport errors %d", rep.Offered, rep.ByStatus, rep.TransportErrors)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	tests := []struct {
		name      string
		latencies []time.Duration
		p         float64
		want      time.Duration
	}{
		{name: "none", p: 99},
		{name: "one", latencies: []time.Duration{ms(7)}, p: 50, want: ms(7)},
		{name: "median of 100", latencies: hundred, p: 50, want: ms(50)},
		{name: "p99 of 100", latencies: hundred, p: 99, want: ms(99)},
		{name: "p100 of 100", latencies: hundred, p: 100, want: ms(100)},
		{name: "p0 of 100", latencies: hundred, p: 0, want: ms(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Report{Latencies: tt.latencies}).Percentile(tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %s, want %s", tt.p, got, tt.want)
			}
		})
	}
}

func TestRunRefusesABadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "no rate", cfg: Config{URL: "http://127.0.0.1:1", Duration: time.Second}},
		{name: "no duration", cfg: Config{URL: "http://127.0.0.1:1", Rate: 1}},
		{name: "no url", cfg: Config{Rate: 1, Duration: time.Second}},
		{name: "unknown route", cfg: Config{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, Routes: []string{"POST /webhooks/nothing"}}},
		{name: "route twice", cfg: Config{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, Routes: []string{LineRoute, LineRoute}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg); err == nil || errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want a configuration error", err)
			}
		})
	}
}

func TestRoundLatency(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{name: "zero", want: "0s"},
		{name: "microseconds", d: 123456 * time.Nanosecond, want: "120µs"},
		{name: "milliseconds", d: 6567890 * time.Nanosecond, want: "6.57ms"},
		{name: "tens of milliseconds", d: 20543210 * time.Nanosecond, want: "20.5ms"},
		{name: "seconds", d: 1516120 * time.Microsecond, want: "1.516s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roundLatency(tt.d); got != tt.want {
				t.Errorf("roundLatency(%s) = %s, want %s", tt.d, got, tt.want)
			}
		})
	}
}
