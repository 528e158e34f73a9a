package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	localsqs "github.com/tsunagu-dev/tsunagu/infra/local/sqs"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/queue"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/scheduler"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var delivered = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

// world is one shop on the emulators: rules, a store, a queue, and each
// function with the DynamoDB permissions template.yaml gives it.
type world struct {
	set   *rules.Set
	table string
	// store reads and writes anything: the test's own view, to seed and
	// to check.
	store *store.Store
	// purchase stores orders and profiles and arms timers, as the purchase
	// function does.
	purchase *store.Store
	runner   *campaign.Runner // the purchase function's
	// sender is the sender function: its handler and its campaign runner.
	handler *Handler
	sender  *campaign.Runner
	queue   *localsqs.Queue
	ticker  *scheduler.Ticker // the scheduler function's
}

// newWorld builds the world on table. sesOpts configure the SES clients
// (nil: the SES emulator as it is), dbOpts every DynamoDB client (another
// endpoint, a request counter).
func newWorld(t testing.TB, table string, sesOpts func(*sesv2.Options), dbOpts ...func(*dynamodb.Options)) *world {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := unsubscribe.NewSealer("dev-secret")
	coder, _ := coupon.NewCoder("dev-secret")
	// A function's runner: its store, and its mail sent as in AWS (the
	// stack's From address and configuration set) under its SES policy.
	runner := func(function string, st campaign.Store) *campaign.Runner {
		var opts []func(*sesv2.Options)
		if sesOpts != nil {
			opts = append(opts, sesOpts)
		}
		mailer, err := email.NewSender(testenv.SESAs(t, function, opts...), set.Settings.FromName, testenv.SenderEmail, "", testenv.ConfigurationSet)
		if err != nil {
			t.Fatal(err)
		}
		return &campaign.Runner{Decider: campaign.Decider{Rules: set, Deciles: set.Deciles}, Store: st, Mailer: mailer, Line: line.NewDryRun(io.Discard), Unsubscribe: sealer, Coupons: coder,
			PublicURL: "https://hooks.example.jp", RecommendationLimit: 3}
	}
	as := func(function string) *store.Store {
		return store.New(testenv.DynamoDBAs(t, function, dbOpts...), table)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	srv := localsqs.NewServer(ts.URL, "ap-northeast-1")
	ts.Config.Handler = srv
	q := srv.Queue("SenderQueue")
	client := testenv.SQSAs(t, "SchedulerFunction", func(o *sqs.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	w := &world{set: set, table: table, store: store.New(testenv.DynamoDB(dbOpts...), table), purchase: as("PurchaseFunction"), queue: q,
		ticker: &scheduler.Ticker{Store: as("SchedulerFunction"), Queue: queue.NewSQS(client, q.URL), PageSize: 50}}
	w.runner = runner("PurchaseFunction", w.purchase)
	w.runner.Points = w.purchase
	senderStore := as("SenderFunction")
	w.sender = runner("SenderFunction", senderStore)
	w.sender.Points = senderStore
	w.handler = &Handler{Store: senderStore, Campaigns: w.sender, Points: &loyalty.Steps{Ledger: senderStore, Rules: set}}
	w.ticker.Points = &loyalty.Steps{Ledger: as("SchedulerFunction"), Rules: set}
	return w
}

// deliveredOrder stores a customer with a delivered order and runs the
// delivery's campaigns, which arm the review request's 7-day timer.
func (w *world) deliveredOrder(t *testing.T, cid, to string) {
	t.Helper()
	ctx := context.Background()
	buyer := &order.Customer{ID: cid, Email: to, Name: "高橋 美咲", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: delivered.Add(-72 * time.Hour)}}
	o := order.Order{ID: "o-" + cid, Currency: "JPY", Total: 4300, PlacedAt: delivered.Add(-72 * time.Hour), Customer: buyer,
		Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}}
	for _, typ := range []order.EventType{order.Created, order.Delivered} {
		st, err := w.purchase.ApplyOrderEvent(ctx, order.Event{Type: typ, OccurredAt: delivered, Order: o}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.purchase.UpdateProfile(ctx, cid, func(p *customer.Profile) bool {
			return p.ApplyDelivery(buyer, st.Order, st.Status, delivered, w.set.Settings.Thresholds)
		})
		if err != nil {
			t.Fatal(err)
		}
		if typ == order.Delivered {
			if _, err := w.runner.Run(ctx, campaign.Trigger{Event: rules.TriggerOrderDelivered, Key: "order:" + o.ID + ":order.delivered", At: delivered, Profile: p, Order: st.Order}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// invoker hands SQS batches to the handler as Lambda would.
type invoker struct{ h *Handler }

func (i invoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	resp, err := i.h.Handle(ctx, ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// drain delivers the queue until it is empty (or the deadline passes).
func (w *world) drain(t *testing.T, during func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.queue.Deliver(ctx, invoker{w.handler}, localsqs.Delivery{BatchSize: 10, ReportBatchItemFailures: true,
			Visibility: 100 * time.Millisecond, MaxReceiveCount: 50, Region: "ap-northeast-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		close(done)
	}()
	if during != nil {
		during()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if live, _ := w.queue.Depth(); live == 0 {
			break
		}
		if time.Now().After(deadline) {
			live, dead := w.queue.Depth()
			t.Fatalf("queue did not drain: %d live, %d dead", live, dead)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestReviewRequestFiresSevenDaysAfterDelivery(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	to := testenv.UniqueEmail(t, "misaki")
	w.deliveredOrder(t, "c-review", to)
	ctx := context.Background()
	if res, _ := w.ticker.Tick(ctx, delivered.Add(6*24*time.Hour)); res.Enqueued != 0 {
		t.Fatalf("six days after delivery the review request is not due: %+v", res)
	}
	res, err := w.ticker.Tick(ctx, delivered.Add(7*24*time.Hour))
	if err != nil || res.Enqueued != 1 {
		t.Fatalf("tick a week later = %+v, %v", res, err)
	}
	w.drain(t, nil)
	mails := testenv.SentEmails(t, to)
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "ご感想") || !strings.Contains(mails[0].Body.Text, "本練羊羹") {
		t.Fatalf("emails = %+v", mails)
	}
}

// TestExactlyOnceUnderFaults fires 40 due review requests while SES
// throttles 30% of calls, the process "crashes" between sending and
// recording for some, SQS delivers every message twice, and the DynamoDB
// emulator restarts mid-run: every request is sent exactly once, and the
// dead-letter queue stays empty.
func TestExactlyOnceUnderFaults(t *testing.T) {
	defer quiet()()
	// A DynamoDB emulator of our own, on disk, so it can restart.
	infra, data := filepath.Join(testenv.Root(), "infra", "local"), t.TempDir()
	dyn, err := emulator.OnFreePort(func(addr string) (*emulator.Emulator, error) {
		return emulator.StartDynamoDBAt(context.Background(), infra, addr, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(dyn.URL, "http://")
	defer func() { dyn.Stop() }()
	ownEmulator := func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dyn.URL) }
	db := dynamodb.NewFromConfig(testenv.AWSConfig(), ownEmulator)

	// SES behind a proxy that throttles 30% of sends, as SES does.
	sesURL, _ := url.Parse(testenv.SESURL())
	proxy := httputil.NewSingleHostReverseProxy(sesURL)
	var throttled atomic.Int64
	rng := rand.New(rand.NewPCG(7, 11))
	var rngMu sync.Mutex
	throttle := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rngMu.Lock()
		hit := rng.Float64() < 0.3
		rngMu.Unlock()
		if hit && strings.Contains(r.URL.Path, "outbound-emails") {
			throttled.Add(1)
			w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"Maximum sending rate exceeded."}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer throttle.Close()
	viaThrottle := func(o *sesv2.Options) { o.BaseEndpoint = aws.String(throttle.URL); o.RetryMaxAttempts = 1 }

	w := newWorld(t, ownTable(t, db), viaThrottle, ownEmulator)
	const n = 40
	addrs := make([]string, n)
	for i := range n {
		addrs[i] = testenv.UniqueEmail(t, fmt.Sprint("c", i))
		w.deliveredOrder(t, fmt.Sprint("fault-", i), addrs[i])
	}
	// Crash between send and log for every fifth message, once.
	crashy := &crashingStore{Store: w.sender.Store, every: 5}
	w.sender.Store = crashy
	// Duplicate deliveries: every queued message is queued twice.
	w.ticker.Queue = doubling{w.ticker.Queue}
	if res, err := w.ticker.Tick(context.Background(), delivered.Add(7*24*time.Hour)); err != nil || res.Enqueued != n {
		t.Fatalf("tick = %+v, %v", res, err)
	}
	w.drain(t, func() {
		time.Sleep(300 * time.Millisecond)
		dyn.Stop() // the emulator goes away mid-run...
		time.Sleep(500 * time.Millisecond)
		var err error
		if dyn, err = emulator.StartDynamoDBAt(context.Background(), infra, addr, data); err != nil { // ...and comes back
			t.Error(err)
		}
	})
	if throttled.Load() == 0 || crashy.crashes.Load() == 0 {
		t.Fatalf("faults did not happen: %d throttled, %d crashes", throttled.Load(), crashy.crashes.Load())
	}
	for i, a := range addrs {
		if got := len(testenv.SentEmails(t, a)); got != 1 {
			t.Errorf("customer %d got %d review requests, want exactly 1", i, got)
		}
	}
	if _, dead := w.queue.Depth(); dead != 0 {
		t.Errorf("%d messages dead-lettered, want none lost", dead)
	}
	t.Logf("%d throttled sends, %d crashes between send and log, queue delivered every message twice, DynamoDB restarted once", throttled.Load(), crashy.crashes.Load())
}

// ownTable creates the table on a DynamoDB emulator of the test's own.
func ownTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	in, err := testenv.TableInputFor("faults")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := waiter.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: in.TableName}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return "faults"
}

// crashingStore fails the recording of every nth sent message once, after
// the email went out: what a crash between send and log leaves behind.
type crashingStore struct {
	campaign.Store
	every   int64
	n       atomic.Int64
	crashes atomic.Int64
}

func (c *crashingStore) FinishMessage(ctx context.Context, rec store.MessageRecord, status store.MessageStatus, reason, providerID string, now time.Time) error {
	if status == store.MessageSent && c.n.Add(1)%c.every == 0 {
		c.crashes.Add(1)
		return fmt.Errorf("crash between send and log")
	}
	return c.Store.FinishMessage(ctx, rec, status, reason, providerID, now)
}

// doubling queues every message twice, as SQS's at-least-once may.
type doubling struct{ next scheduler.Queue }

func (d doubling) Send(ctx context.Context, msgs []queue.Message) ([]bool, error) {
	if _, err := d.next.Send(ctx, msgs); err != nil {
		return nil, err
	}
	return d.next.Send(ctx, msgs)
}

// quiet silences the handler's logs for a test.
func quiet() func() {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	return func() { slog.SetDefault(old) }
}

// teaBuyer stores a customer's tea order and arms its lifecycle timers as
// the purchase function does.
func (w *world) teaBuyer(t *testing.T, cid, to, orderID string, placed time.Time, birthday string) customer.Profile {
	t.Helper()
	ctx := context.Background()
	buyer := &order.Customer{ID: cid, Email: to, Name: "佐藤 花子", Birthday: birthday, Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: placed}}
	o := order.Order{ID: orderID, Currency: "JPY", Total: 3200, PlacedAt: placed, Customer: buyer,
		Items: []order.Item{{SKU: "TEA-SENCHA", Name: "宇治煎茶 100g", Category: "tea", UnitPrice: 1600, Quantity: 2}}}
	st, err := w.purchase.ApplyOrderEvent(ctx, order.Event{Type: order.Created, OccurredAt: placed, Order: o}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.purchase.UpdateProfile(ctx, cid, func(p *customer.Profile) bool {
		return p.ApplyDelivery(buyer, st.Order, st.Status, placed, w.set.Settings.Thresholds)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.runner.ArmLifecycle(ctx, p, st.Order, placed); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReplenishmentWhenTheTeaRunsOut(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	placed := time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	due, rebought := testenv.UniqueEmail(t, "due"), testenv.UniqueEmail(t, "rebought")
	w.teaBuyer(t, "tea-1", due, "t-1", placed, "")
	w.teaBuyer(t, "tea-2", rebought, "t-2", placed, "")
	w.teaBuyer(t, "tea-2", rebought, "t-3", placed.Add(20*24*time.Hour), "") // bought the same tea again
	ctx := context.Background()
	if res, _ := w.ticker.Tick(ctx, placed.Add(29*24*time.Hour)); res.Enqueued != 0 {
		t.Fatalf("before the tea runs out nothing is due: %+v", res)
	}
	res, err := w.ticker.Tick(ctx, placed.Add(30*24*time.Hour))
	if err != nil || res.Enqueued != 2 {
		t.Fatalf("tick at 30 days = %+v, %v", res, err)
	}
	w.drain(t, nil)
	if mails := testenv.SentEmails(t, due); len(mails) != 1 || !strings.Contains(mails[0].Body.Text, "宇治煎茶") {
		t.Errorf("the customer whose tea runs out got %d reminders, want 1: %+v", len(mails), mails)
	}
	if n := len(testenv.SentEmails(t, rebought)); n != 0 {
		t.Errorf("a customer who bought the tea again got %d reminders", n)
	}
}

func TestBirthdayEveryYear(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	to := testenv.UniqueEmail(t, "bday")
	w.teaBuyer(t, "bday-1", to, "b-1", time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC), "12-05")
	ctx := context.Background()
	jst, _ := time.LoadLocation("Asia/Tokyo")
	birthday := time.Date(2026, 12, 5, 10, 0, 0, 0, jst)
	if res, _ := w.ticker.Tick(ctx, birthday.Add(-time.Minute)); res.Enqueued != 0 {
		t.Fatalf("before 10:00 on the birthday nothing is due: %+v", res)
	}
	// Two birthday campaigns are shipped: the coupon, and the gold
	// rank's bonus points (not for this customer, who is no gold member).
	if res, err := w.ticker.Tick(ctx, birthday); err != nil || res.Enqueued != 2 {
		t.Fatalf("tick on the birthday = %+v, %v", res, err)
	}
	w.drain(t, nil)
	mails := testenv.SentEmails(t, to)
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "お誕生日") || !strings.Contains(mails[0].Body.Text, "TSN-") {
		t.Fatalf("birthday emails = %+v", mails)
	}
	next, err := w.store.GetTimer(ctx, campaign.TimerKey("birthday-coupon", "birthday:bday-1:2027", "bday-1", "birthday"))
	if err != nil || next.Status != store.TimerArmed || !next.DueAt.Equal(birthday.AddDate(1, 0, 0).UTC()) {
		t.Errorf("next year's birthday timer = %+v, %v", next, err)
	}
}

// TestReplenishmentWaitsOutQuietHours: a reminder due at night (the
// shipped campaign's LINE action keeps quiet hours, 21:00-09:00) waits
// for the morning and is then sent: the wait keeps the product it is
// about, so the audience (days_since_bought(replenish_sku)) still sees it.
func TestReplenishmentWaitsOutQuietHours(t *testing.T) {
	defer quiet()()
	w := newWorld(t, testenv.NewTable(t), nil)
	placed := time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC) // 22:00 in Tokyo
	to := testenv.UniqueEmail(t, "night-tea")
	w.teaBuyer(t, "tea-night", to, "t-night", placed, "")
	w.tickAndDrain(t, placed.Add(30*24*time.Hour))
	if n := len(testenv.SentEmails(t, to)); n != 0 {
		t.Fatalf("%d reminders sent in quiet hours", n)
	}
	w.tickAndDrain(t, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) // 09:00 in Tokyo
	if mails := testenv.SentEmails(t, to); len(mails) != 1 || !strings.Contains(mails[0].Body.Text, "宇治煎茶") {
		t.Fatalf("reminders after the quiet hours = %+v", mails)
	}
}
