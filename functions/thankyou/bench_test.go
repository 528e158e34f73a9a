package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// BenchmarkThankyouView serves b.N thank-you page views of one order, 50 at
// a time, against the emulator, with the shipped points programme (the
// customer's ledger read with the rest), and reports handler time
// percentiles and DynamoDB requests per view.
func BenchmarkThankyouView(b *testing.B) {
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	e := newEnv(b, nil, order.ConsentGranted)
	withPoints(b, e, 600)
	req := viewRequest("1001", signed("1001"))
	e.do(b, req) // the first view records the view and its coupon
	e.counter.Reset()
	const concurrency = 50
	durations := make([]time.Duration, b.N)
	work := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				resp, err := e.h.Handle(context.Background(), req)
				durations[i] = time.Since(start)
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("status %d: %s %v", resp.StatusCode, resp.Body, err)
				}
			}
		}()
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(total(e.counter.Snapshot()))/float64(b.N), "ddb-req/view")
}
