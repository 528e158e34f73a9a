package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	localsqs "github.com/tsunagu-dev/tsunagu/infra/local/sqs"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)

// fixture is the scheduler function as deployed: its handler with the
// DynamoDB and SQS permissions template.yaml gives it, the sender queue,
// and a store with full access to arm timers and check them.
type fixture struct {
	handler *Handler
	store   *store.Store
	queue   *localsqs.Queue
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	table := testenv.NewTable(t)
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	srv := localsqs.NewServer(ts.URL, "ap-northeast-1")
	ts.Config.Handler = srv
	q := srv.Queue("SenderQueue")
	client := testenv.SQSAs(t, "SchedulerFunction", func(o *sqs.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	return &fixture{
		handler: &Handler{Ticker: &scheduler.Ticker{Store: store.New(testenv.DynamoDBAs(t, "SchedulerFunction"), table), Queue: queue.NewSQS(client, q.URL), PageSize: 100}},
		store:   store.New(testenv.DynamoDB(), table),
		queue:   q,
	}
}

// arm stores n review-request timers due at due.
func (f *fixture) arm(t *testing.T, prefix string, n int, due time.Time) {
	t.Helper()
	for i := range n {
		if _, err := f.store.ArmTimer(context.Background(), store.Timer{Key: fmt.Sprintf("%s-%d", prefix, i), DueAt: due, Campaign: "review-request",
			CustomerID: fmt.Sprint("c-", i), Trigger: "order.delivered", TriggerKey: fmt.Sprint("order:", i, ":order.delivered"), Reason: "delay"}); err != nil {
			t.Fatal(err)
		}
	}
}

// queued takes every message off the queue, as the sender would.
func (f *fixture) queued(t *testing.T) []queue.Message {
	t.Helper()
	var mu sync.Mutex
	var out []queue.Message
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.queue.Deliver(ctx, collect(func(body string) {
			m, err := queue.Decode(body)
			if err != nil {
				t.Errorf("queued message: %v", err)
				return
			}
			mu.Lock()
			out = append(out, m)
			mu.Unlock()
		}), localsqs.Delivery{BatchSize: 10, ReportBatchItemFailures: true, Visibility: time.Second, MaxReceiveCount: 5, Region: "ap-northeast-1",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if live, _ := f.queue.Depth(); live == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queue did not drain")
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return out
}

// collect is a sender stand-in that hands each message body to fn.
type collect func(body string)

func (c collect) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	for _, r := range ev.Records {
		c(r.Body)
	}
	return json.Marshal(events.SQSEventResponse{})
}

func TestScheduledTick(t *testing.T) {
	defer quiet()()
	f := newFixture(t)
	f.arm(t, "due", 30, t0.Add(-time.Minute))
	f.arm(t, "later", 20, t0.Add(time.Hour))
	ctx := context.Background()

	res, err := f.handler.Handle(ctx, testenv.ScheduledEvent(t, "SchedulerFunction", t0))
	if err != nil || res.Enqueued != 30 || res.Read != 30 || res.Left {
		t.Fatalf("tick = %+v, %v; want the 30 due timers", res, err)
	}
	msgs := f.queued(t)
	if len(msgs) != 30 {
		t.Fatalf("%d messages queued, want 30", len(msgs))
	}
	for _, m := range msgs {
		if !strings.HasPrefix(m.Timer.Key, "due-") || !m.Now.Equal(t0) {
			t.Errorf("queued %s as of %s; want only due timers, as of the scheduled time %s", m.Timer.Key, m.Now, t0)
		}
	}
	if tm, err := f.store.GetTimer(ctx, "due-0"); err != nil || tm.Status != store.TimerFired {
		t.Errorf("a queued timer = %+v, %v; want fired", tm, err)
	}

	// The same schedule again (EventBridge Scheduler retries), then late.
	if again, err := f.handler.Handle(ctx, testenv.ScheduledEvent(t, "SchedulerFunction", t0)); err != nil || again.Enqueued != 0 {
		t.Errorf("repeated tick = %+v, %v; want nothing queued again", again, err)
	}
	if later, err := f.handler.Handle(ctx, testenv.ScheduledEvent(t, "SchedulerFunction", t0.Add(2*time.Hour))); err != nil || later.Enqueued != 20 {
		t.Errorf("tick two hours later = %+v, %v; want the 20 later timers", later, err)
	}
	if n := len(f.queued(t)); n != 20 {
		t.Errorf("%d more messages queued, want 20", n)
	}
}

func TestTickWithoutATime(t *testing.T) {
	defer quiet()()
	f := newFixture(t)
	f.arm(t, "due", 3, t0.Add(-time.Minute))
	tests := []struct {
		name  string
		event string
	}{
		{name: "no time", event: `{}`},
		{name: "the placeholder not filled in", event: `{"time": "<aws.scheduler.scheduled-time>"}`},
		{name: "an empty time", event: `{"time": ""}`},
		{name: "not json", event: `time`},
		{name: "a time without a zone", event: `{"time": "2026-12-01T01:00:00"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.handler.Handle(context.Background(), json.RawMessage(tt.event))
			if err == nil || !strings.Contains(err.Error(), `needs "time"`) || res != (scheduler.Result{}) {
				t.Errorf("Handle = %+v, %v; want an error naming the missing time", res, err)
			}
		})
	}
	if live, _ := f.queue.Depth(); live != 0 {
		t.Errorf("%d messages queued by events without a time", live)
	}
}

// quiet silences the handler's logs for a test.
func quiet() func() {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return func() { slog.SetDefault(old) }
}
