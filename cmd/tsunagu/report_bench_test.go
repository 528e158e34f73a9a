package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/report"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// reportCustomers is how many customers the report benchmark seeds.
const reportCustomers = 100_000

// BenchmarkReport90Days seeds 100,000 customers with 90 days of history
// as `tsunagu seed` writes it (profiles through the store, the counters
// the functions keep, the nightly snapshot), then builds the 90-day
// report from the counters (kpi.Compute and the HTML page) and, as the
// baseline, recomputes its headline figures (orders, revenue, first
// orders) from every order: a parallel Scan of the profiles, each holding
// its orders. It fails when the two disagree on orders or revenue, so
// both compute the same thing. Time and DynamoDB requests of each are
// reported.
func BenchmarkReport90Days(b *testing.B) {
	ctx := context.Background()
	table := testenv.NewTable(b)
	b.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	saved := stdout
	stdout = io.Discard
	defer func() { stdout = saved }()
	catalog := filepath.Join(testenv.Root(), "infra", "catalog", "sample-catalog.csv")
	if err := seedCommand(ctx, []string{"--customers", "100000", "--days", "90", "--end", "2026-11-30", "--seed", "3",
		"--table", table, "--rules", rulesDir(), "--catalog", catalog}); err != nil {
		b.Fatal(err)
	}
	set, err := loadRules(rulesDir())
	if err != nil {
		b.Fatal(err)
	}
	var requests store.RequestCounter
	st := store.New(testenv.DynamoDB(func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, requests.Register) }), table)
	period, err := kpi.ParsePeriod("2026-09-02", "2026-11-30", set.Settings.Location)
	if err != nil {
		b.Fatal(err)
	}
	asOf := time.Date(2026, 12, 1, 9, 0, 0, 0, set.Settings.Location)
	var counters, recompute time.Duration
	var counterReqs, recomputeReqs int
	b.ResetTimer()
	for range b.N {
		requests.Reset()
		start := time.Now()
		f, err := kpi.Compute(ctx, st, period, report.CampaignsOf(set), asOf)
		if err != nil {
			b.Fatal(err)
		}
		var page bytes.Buffer
		if err := report.HTML(&page, f, report.NamesOf(set)); err != nil {
			b.Fatal(err)
		}
		counters += time.Since(start)
		counterReqs += total(requests.Snapshot())

		requests.Reset()
		start = time.Now()
		fromOrders, err := recomputeFromOrders(ctx, st, period)
		if err != nil {
			b.Fatal(err)
		}
		recompute += time.Since(start)
		recomputeReqs += total(requests.Snapshot())
		if got := f.Shop.Counts; got["orders"] != fromOrders.orders || got["revenue"] != fromOrders.revenue {
			b.Fatalf("from counters %d orders, ¥%d; from every order %d orders, ¥%d: they must agree", got["orders"], got["revenue"], fromOrders.orders, fromOrders.revenue)
		}
	}
	n := float64(b.N)
	b.ReportMetric(counters.Seconds()/n, "counters-s")
	b.ReportMetric(float64(counterReqs)/n, "counters-req")
	b.ReportMetric(recompute.Seconds()/n, "recompute-s")
	b.ReportMetric(float64(recomputeReqs)/n, "recompute-req")
	b.ReportMetric(reportCustomers, "customers")
}

// orderTotals are a period's headline figures recomputed from orders.
type orderTotals struct {
	orders, revenue, firstOrders int64
}

// recomputeFromOrders is the report's headline figures as a report
// without counters would make them: every customer's every order read
// (a parallel Scan, 8 segments) and summed over the period's days.
func recomputeFromOrders(ctx context.Context, st *store.Store, p kpi.Period) (orderTotals, error) {
	var mu sync.Mutex
	var t orderTotals
	from, to := p.From, p.To.AddDate(0, 0, 1)
	err := st.ScanProfiles(ctx, 8, func(c customer.Profile) {
		var mine orderTotals
		for _, o := range c.Orders {
			if o.Status == order.Cancelled || o.PlacedAt.Before(from) || !o.PlacedAt.Before(to) {
				continue
			}
			mine.orders++
			mine.revenue += o.Total
		}
		if !c.FirstOrderAt.Before(from) && c.FirstOrderAt.Before(to) {
			mine.firstOrders++
		}
		mu.Lock()
		t.orders, t.revenue, t.firstOrders = t.orders+mine.orders, t.revenue+mine.revenue, t.firstOrders+mine.firstOrders
		mu.Unlock()
	})
	return t, err
}

// total is the sum of request counts by operation.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
