package scheduler

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	localsqs "github.com/tsunagu-dev/tsunagu/infra/local/sqs"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)

type fixture struct {
	ticker  *Ticker
	store   *store.Store
	queue   *localsqs.Queue
	counter *store.RequestCounter
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	counter := &store.RequestCounter{}
	st := store.New(testenv.DynamoDB(func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter.Register) }), testenv.NewTable(t))
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	srv := localsqs.NewServer(ts.URL, "ap-northeast-1") // queue URLs need the server's address
	ts.Config.Handler = srv
	q := srv.Queue("SenderQueue")
	client := sqs.NewFromConfig(testenv.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	return &fixture{ticker: &Ticker{Store: st, Queue: queue.NewSQS(client, q.URL), PageSize: 25}, store: st, queue: q, counter: counter}
}

// arm stores n timers per shard-spread keys, due at the given times.
func (f *fixture) arm(t *testing.T, prefix string, n int, due time.Time) {
	t.Helper()
	for i := range n {
		if _, err := f.store.ArmTimer(context.Background(), store.Timer{Key: fmt.Sprintf("%s-%d", prefix, i), DueAt: due, Campaign: "review-request",
			CustomerID: fmt.Sprint("c-", i), Trigger: "order.delivered", TriggerKey: fmt.Sprint("order:", i, ":order.delivered"), Reason: "delay"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTickReadsOnlyWhatIsDue(t *testing.T) {
	f := newFixture(t)
	f.arm(t, "due", 60, t0.Add(-time.Minute))
	f.arm(t, "later", 40, t0.Add(time.Hour))
	f.counter.Reset()
	res, err := f.ticker.Tick(context.Background(), t0)
	if err != nil || res.Enqueued != 60 || res.Read != 60 || res.Left {
		t.Fatalf("tick = %+v, %v; want the 60 due timers", res, err)
	}
	if live, _ := f.queue.Depth(); live != 60 {
		t.Errorf("queue holds %d messages, want 60", live)
	}
	// Reads: one Query per shard page; items read = due timers only.
	if q := f.counter.Snapshot()["Query"]; q > store.TimerShards+60/25+2 {
		t.Errorf("%d queries for 60 due timers over %d shards", q, store.TimerShards)
	}
	if scans := f.counter.Snapshot()["Scan"]; scans != 0 {
		t.Errorf("%d scans; the due index is queried, never scanned", scans)
	}
	tm, _ := f.store.GetTimer(context.Background(), "due-0")
	if tm.Status != store.TimerFired {
		t.Errorf("a queued timer is %s, want fired", tm.Status)
	}
	// Running again, or late, queues nothing twice.
	again, err := f.ticker.Tick(context.Background(), t0.Add(time.Minute))
	if err != nil || again.Enqueued != 0 || again.Read != 0 {
		t.Errorf("second tick = %+v, %v; want nothing", again, err)
	}
	// The later ones come due in their own time.
	later, err := f.ticker.Tick(context.Background(), t0.Add(2*time.Hour))
	if err != nil || later.Enqueued != 40 {
		t.Errorf("later tick = %+v, %v", later, err)
	}
}

func TestConcurrentTicksFireEachTimerOnce(t *testing.T) {
	f := newFixture(t)
	f.arm(t, "due", 100, t0.Add(-time.Minute))
	var wg sync.WaitGroup
	results := make(chan Result, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.ticker.Tick(context.Background(), t0)
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
	}
	wg.Wait()
	close(results)
	fired := 0
	for r := range results {
		fired += r.Enqueued - r.AlreadyFired
	}
	if fired != 100 {
		t.Errorf("%d timers fired by 3 concurrent ticks, want 100 (duplicates in the queue are absorbed by message keys)", fired)
	}
}

func TestTickLeavesWorkForTheNextOne(t *testing.T) {
	f := newFixture(t)
	f.arm(t, "due", 30, t0.Add(-time.Minute))
	f.ticker.Reserve = time.Hour // any deadline is too close
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := f.ticker.Tick(ctx, t0)
	if err != nil || !res.Left || res.Enqueued != 0 {
		t.Fatalf("tick near its deadline = %+v, %v; want the work left", res, err)
	}
	f.ticker.Reserve = 0
	if res, err := f.ticker.Tick(context.Background(), t0); err != nil || res.Enqueued != 30 {
		t.Errorf("next tick = %+v, %v", res, err)
	}
}
