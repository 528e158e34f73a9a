package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// BenchmarkPurchaseWebhook sends one new order.created per iteration through
// the handler, against the emulators, with the shipped campaigns (one email
// per order). It reports handler latency percentiles and the DynamoDB
// requests each order costs, counted by an SDK middleware.
func BenchmarkPurchaseWebhook(b *testing.B) {
	benchmarkWebhook(b, shippedRules(b, true, nil))
}

// BenchmarkPurchaseWebhookNoCampaigns is the same without any campaign: the
// cost of an order before campaign effects (budget: 4 writes).
func BenchmarkPurchaseWebhookNoCampaigns(b *testing.B) {
	benchmarkWebhook(b, shippedRules(b, false, nil))
}

// shippedRules loads the shipped rules, with or without their campaigns,
// plus extra files (path to content).
func shippedRules(b testing.TB, withCampaigns bool, extra map[string]string) *rules.Set {
	b.Helper()
	dir := filepath.Join(testenv.Root(), "rules")
	fsys := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!withCampaigns && strings.HasPrefix(p, rules.CampaignsDir+"/")) {
			return err
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		fsys[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for p, data := range extra {
		fsys[p] = &fstest.MapFile{Data: []byte(data)}
	}
	set, err := rules.LoadFS(fsys, "rules")
	if err != nil {
		b.Fatal(err)
	}
	return set
}

func benchmarkWebhook(b *testing.B, set *rules.Set) {
	// Keep benchmark output parseable: the handler's log lines go nowhere.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	var counter store.RequestCounter
	db := testenv.DynamoDB(func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter.Register) })
	h := newHandlerWith(b, set, store.New(db, testenv.NewTable(b)), testenv.SES())
	h.Now = time.Now
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = genericBody(fmt.Sprintf("bench-%d", i), "order.created", fmt.Sprintf("b%d", i), fmt.Sprintf("bench%d@example.jp", i), true)
	}
	counter.Reset()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		req := genericRequest(bodies[i])
		req.Headers["x-tsunagu-signature"] = signature.SignTsunagu(secret, time.Now(), bodies[i])
		start := time.Now()
		resp, err := h.Handle(context.Background(), req)
		durations = append(durations, time.Since(start))
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("status %d: %s %v", resp.StatusCode, resp.Body, err)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	reads, writes := 0, 0
	for op, n := range counter.Snapshot() {
		switch op {
		case "GetItem", "Query", "Scan", "BatchGetItem":
			reads += n
		default:
			writes += n
		}
	}
	b.ReportMetric(float64(reads)/float64(b.N), "ddb-reads/order")
	b.ReportMetric(float64(writes)/float64(b.N), "ddb-writes/order")
	b.ReportMetric(float64(counter.CounterWrites())/float64(b.N), "counter-writes/order")
}
