package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/infra/local/sqs"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// benchCustomers is how many customers the at-scale benchmark seeds.
const benchCustomers = 100_000

// BenchmarkScheduleAtScale seeds 100,000 customers, each with an order and
// a replenishment timer due at some point over the next 30 days, then runs
// a tick that finds about 1,000 due. It reports the items read per due
// message by the scheduler (the sharded due index) and by a naive full scan
// of the table, and the sender's throughput delivering them against the
// emulators (unpaced, four concurrent batches as Lambda would run them).
func BenchmarkScheduleAtScale(b *testing.B) {
	defer quiet()()
	ctx := context.Background()
	var counter store.RequestCounter
	count := func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter.Register) }
	db := testenv.DynamoDB(count)
	w := newWorld(b, testenv.NewTable(b), nil, count)
	w.set.Campaigns = append(w.set.Campaigns, &rules.Campaign{ID: "replenish", Name: "お茶の買い足し", Enabled: true, Kind: rules.Marketing,
		Trigger: rules.TriggerReplenishment, Variants: []rules.Variant{{Weight: 100, Actions: []rules.Action{{Type: rules.ActionEmail, Template: "winback"}}}}})
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	profiles := make([]customer.Profile, benchCustomers)
	timers := make([]store.Timer, benchCustomers)
	for i := range benchCustomers {
		id := fmt.Sprintf("bench-%06d", i)
		placed := start.Add(-time.Duration(i%90) * 24 * time.Hour)
		o := order.Order{ID: "o-" + id, Currency: "JPY", Total: 3200, PlacedAt: placed, Customer: &order.Customer{ID: id},
			Items: []order.Item{{SKU: "TEA-SENCHA", Name: "宇治煎茶", Category: "tea", UnitPrice: 1600, Quantity: 2}}}
		p := customer.Profile{ID: id, Email: fmt.Sprintf("bench%06d@example.jp", i), Name: "お客様"}
		p.Consent = customer.Consent{State: order.ConsentGranted, Source: "bench", At: placed}
		p.ApplyOrder(o.ID, customer.Summarize(o, order.Created), placed)
		p.Recompute(w.set.Settings.Thresholds)
		profiles[i] = p
		due := start.Add(time.Duration(i) * (30 * 24 * time.Hour / benchCustomers))
		timers[i] = store.Timer{Key: "replenish-" + id, DueAt: due, Campaign: "replenish", CustomerID: id, Trigger: string(rules.TriggerReplenishment),
			TriggerKey: "replenish:" + id, Reason: "delay"}
	}
	seedStart := time.Now()
	if err := w.store.ImportProfiles(ctx, profiles); err != nil {
		b.Fatal(err)
	}
	if err := w.store.ArmTimers(ctx, timers); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d profiles and %d timers in %s", benchCustomers, benchCustomers, time.Since(seedStart).Round(time.Second))
	tickAt := start.Add(30 * 24 * time.Hour / 100) // about 1% (1,000) due

	b.ResetTimer()
	for range b.N {
		counter.Reset()
		res, err := w.ticker.Tick(ctx, tickAt)
		if err != nil || res.Enqueued == 0 {
			b.Fatalf("tick = %+v, %v", res, err)
		}
		b.ReportMetric(float64(counter.ItemsRead())/float64(res.Enqueued), "scheduler-reads/due")
		b.ReportMetric(float64(res.Enqueued), "due")

		// The naive way: scan everything, keep what is due.
		counter.Reset()
		naiveDue := naiveScan(b, db, w.store.Table(), tickAt)
		b.ReportMetric(float64(counter.ItemsRead())/float64(naiveDue), "fullscan-reads/due")

		// The sender, unpaced: how fast it empties the queue.
		sendStart := time.Now()
		drainConcurrently(b, w, 4)
		b.ReportMetric(float64(res.Enqueued)/time.Since(sendStart).Seconds(), "sent/s")
	}
}

// naiveScan counts due armed timers by scanning the whole table.
func naiveScan(b *testing.B, db *dynamodb.Client, table string, upTo time.Time) int {
	filt := expression.Name("sk").Equal(expression.Value("TIMER")).And(expression.Name("due_at").LessThanEqual(expression.Value(upTo.UTC().Format(time.RFC3339Nano))))
	expr, err := expression.NewBuilder().WithFilter(filt).Build()
	if err != nil {
		b.Fatal(err)
	}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	due := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		due += int(page.Count)
	}
	return due
}

// drainConcurrently empties the queue with n deliverers at once.
func drainConcurrently(b *testing.B, w *world, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.queue.Deliver(ctx, invoker{w.handler}, benchDelivery())
		}()
	}
	for {
		if live, _ := w.queue.Depth(); live == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
}

// BenchmarkPacing sends 200 emails through the paced mailer at 50 a second
// to the SES emulator and reports how far the achieved rate is from it.
func BenchmarkPacing(b *testing.B) {
	defer quiet()()
	set, _ := rules.Load(testenv.Root() + "/rules")
	s, err := email.NewSender(testenv.SES(), set.Settings.FromName, "shop@tsubaki-chaen.example.jp", "", "")
	if err != nil {
		b.Fatal(err)
	}
	const rate, n = 50.0, 200
	for range b.N {
		paced := email.NewPaced(s, rate)
		times := make([]time.Time, 0, n)
		for i := range n {
			if _, err := paced.Send(context.Background(), email.Message{To: fmt.Sprintf("pace%d@example.jp", i), Subject: "ペース", HTML: "<p>x</p>", Text: "x"}); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Now())
		}
		slices.SortFunc(times, func(a, c time.Time) int { return a.Compare(c) })
		achieved := float64(n-1) / times[n-1].Sub(times[0]).Seconds()
		b.ReportMetric(achieved, "sent/s")
		b.ReportMetric(100*(achieved-rate)/rate, "pacing-error-%")
	}
}

func benchDelivery() sqs.Delivery {
	return sqs.Delivery{BatchSize: 10, ReportBatchItemFailures: true, Visibility: 5 * time.Second, MaxReceiveCount: 5,
		Region: "ap-northeast-1", Logger: slog.New(slog.DiscardHandler)}
}
