package loadtest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
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
	rep, err := Run(context.Background(), Config{URL: srv.URL, Rate: 50, Duration: time.Second, Timeout: 20 * time.Second, WebhookSecret: "s", ShopifySecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered != 50 || rep.ByStatus[200] != 50 || rep.Errors() != 0 || len(rep.Latencies) != 50 {
		t.Errorf("offered %d, answers %v, errors %d (%s), latencies %d; want 50 answered 200", rep.Offered, rep.ByStatus, rep.Errors(), rep.FirstError, len(rep.Latencies))
	}
	if rep.ByRoute[GenericRoute] != 25 || rep.ByRoute[ShopifyRoute] != 25 {
		t.Errorf("routes %v, want half each", rep.ByRoute)
	}
}

// TestRequestsAreSignedValidWebhooks checks that every generated request
// verifies with the secrets and decodes as the purchase function decodes
// it, with its own delivery and order id.
func TestRequestsAreSignedValidWebhooks(t *testing.T) {
	g := &generator{run: "t1", webhookSecret: "dev-secret", shopifySecret: "shp-secret"}
	now := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	deliveries, orders := map[string]bool{}, map[string]bool{}
	for i := range 200 {
		route, req, err := g.request(context.Background(), "http://127.0.0.1:1", i, now)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		var ev order.Event
		switch route {
		case GenericRoute:
			if err := signature.VerifyTsunagu("dev-secret", req.Header.Get("X-Tsunagu-Signature"), body, now); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			ev, err = order.DecodeGeneric(body)
		case ShopifyRoute:
			if err := signature.VerifyShopify("shp-secret", req.Header.Get("X-Shopify-Hmac-Sha256"), body); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			ev, err = shopify.Decode(shopify.Delivery{Topic: req.Header.Get("X-Shopify-Topic"), WebhookID: req.Header.Get("X-Shopify-Webhook-Id"),
				TriggeredAt: req.Header.Get("X-Shopify-Triggered-At")}, body)
		}
		if err != nil {
			t.Fatalf("request %d (%s) does not decode: %v\n%s", i, route, err, body)
		}
		if deliveries[ev.Source+ev.DeliveryID] || orders[ev.Order.ID] {
			t.Fatalf("request %d repeats delivery %s or order %s", i, ev.DeliveryID, ev.Order.ID)
		}
		deliveries[ev.Source+ev.DeliveryID], orders[ev.Order.ID] = true, true
		if ev.Type != order.Created || ev.Order.Total <= 0 || len(ev.Order.Items) == 0 || ev.Order.Customer == nil || ev.Order.Customer.Email == "" {
			t.Errorf("request %d: %+v", i, ev)
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
	if err := rep.Write(&out); err != nil || !strings.Contains(out.String(), "20×200 10×503; transport errors 10") || !strings.Contains(out.String(), "p99") {
		t.Errorf("report:\n%s", out.String())
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg); err == nil || errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want a configuration error", err)
			}
		})
	}
}
