package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) *Store {
	t.Helper()
	return New(testenv.DynamoDB(), testenv.NewTable(t))
}

var t0 = time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)

func createdEvent(orderID string) order.Event {
	return order.Event{DeliveryID: "d-" + orderID, Source: "generic", Type: order.Created, OccurredAt: t0, Order: order.Order{
		ID: orderID, Currency: "JPY", Total: 4300, PlacedAt: t0,
		Customer: &order.Customer{ID: "c-1", Email: "misaki@example.jp"},
		Items:    []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", Brand: "椿茶園", UnitPrice: 2150, Quantity: 2}},
	}}
}

func TestDeliveries(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	done, err := s.DeliveryDone(ctx, "generic", "evt-1", t0)
	if err != nil || done {
		t.Fatalf("DeliveryDone before = %v, %v", done, err)
	}
	first, err := s.MarkDelivered(ctx, "generic", "evt-1", "order.created", "1001", t0)
	if err != nil || !first {
		t.Fatalf("MarkDelivered = %v, %v; want first", first, err)
	}
	again, err := s.MarkDelivered(ctx, "generic", "evt-1", "order.created", "1001", t0)
	if err != nil || again {
		t.Fatalf("second MarkDelivered = %v, %v; want duplicate", again, err)
	}
	if done, _ := s.DeliveryDone(ctx, "generic", "evt-1", t0); !done {
		t.Error("DeliveryDone after = false")
	}
	if done, _ := s.DeliveryDone(ctx, "shopify", "evt-1", t0); done {
		t.Error("ids are per source; shopify evt-1 is not done")
	}
	// Past retention the id is forgotten, even though the emulator never deletes.
	later := t0.Add(DeliveryRetention + time.Hour)
	if done, _ := s.DeliveryDone(ctx, "generic", "evt-1", later); done {
		t.Error("an expired delivery must read as absent")
	}
	if first, err := s.MarkDelivered(ctx, "generic", "evt-1", "order.created", "1001", later); err != nil || !first {
		t.Errorf("MarkDelivered over an expired entry = %v, %v", first, err)
	}
}

func TestApplyOrderEventConverges(t *testing.T) {
	created := createdEvent("1001")
	cancelledStub := order.Event{DeliveryID: "d2", Source: "generic", Type: order.Cancelled, OccurredAt: t0.Add(time.Hour), Order: order.Order{ID: "1001"}}
	fulfilled := order.Event{DeliveryID: "d3", Source: "generic", Type: order.Fulfilled, OccurredAt: t0.Add(30 * time.Minute), Order: order.Order{ID: "1001"}}
	tests := []struct {
		name       string
		events     []order.Event
		wantStatus order.EventType
	}{
		{name: "in order", events: []order.Event{created, fulfilled, cancelledStub}, wantStatus: order.Cancelled},
		{name: "cancel first, details later", events: []order.Event{cancelledStub, created}, wantStatus: order.Cancelled},
		{name: "fulfilled before created", events: []order.Event{fulfilled, created}, wantStatus: order.Fulfilled},
		{name: "duplicates", events: []order.Event{created, created, fulfilled, fulfilled}, wantStatus: order.Fulfilled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := newStore(t), context.Background()
			var last OrderState
			for _, ev := range tt.events {
				var err error
				if last, err = s.ApplyOrderEvent(ctx, ev, nil); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.GetOrder(ctx, "1001")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || !got.Known() || got.Order.Total != 4300 || got.Order.Customer.ID != "c-1" || len(got.Order.Items) != 1 {
				t.Errorf("stored order = %+v, want status %s with details", got, tt.wantStatus)
			}
			if last.Status != got.Status || !last.Known() {
				t.Errorf("ApplyOrderEvent returned %+v, stored %+v", last, got)
			}
		})
	}
}

func TestGetOrderUnknown(t *testing.T) {
	s := newStore(t)
	if _, err := s.GetOrder(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetOrder = %v, want ErrNotFound", err)
	}
}

// TestUpdateProfileConcurrent has 20 writers apply 20 different orders to one
// profile at once; optimistic concurrency must lose none of them.
func TestUpdateProfileConcurrent(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	th := customer.Thresholds{Currency: "JPY", RecencyDays: [4]int{30, 60, 90, 180}, FrequencyOrders: [4]int{2, 3, 5, 10}, Monetary: [4]int64{5000, 10000, 30000, 100000}, LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := createdEvent(fmt.Sprint(i)).Order
			_, err := s.UpdateProfile(ctx, "c-1", func(p *customer.Profile) bool {
				changed := p.ApplyOrder(o.ID, customer.Summarize(o, order.Created), t0)
				p.Recompute(th)
				return changed
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.GetProfile(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != 20 || p.TotalSpent != 20*4300 || p.Stage != customer.StageLoyal || p.CategoryCounts["sweets"] != 40 {
		t.Errorf("profile = count %d spent %d stage %s cats %v", p.OrderCount, p.TotalSpent, p.Stage, p.CategoryCounts)
	}
	// Re-applying a known order writes nothing and changes nothing.
	again, err := s.UpdateProfile(ctx, "c-1", func(p *customer.Profile) bool {
		o := createdEvent("3").Order
		return p.ApplyOrder(o.ID, customer.Summarize(o, order.Created), t0)
	})
	if err != nil || again.OrderCount != 20 {
		t.Errorf("re-apply = %d, %v", again.OrderCount, err)
	}
}

func TestMessageClaims(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	rec := MessageRecord{Key: "k1", CampaignID: "thanks", Channel: "email", CustomerID: "c-1"}
	claimed, _, err := s.ClaimMessage(ctx, rec, t0)
	if err != nil || !claimed {
		t.Fatalf("first claim = %v, %v", claimed, err)
	}
	claimed, existing, err := s.ClaimMessage(ctx, rec, t0.Add(time.Second))
	if err != nil || claimed || existing.Status != MessageSending {
		t.Fatalf("claim while sending = %v %+v %v; want refused, sending", claimed, existing, err)
	}
	mine, err := s.GetMessage(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishMessage(ctx, mine, MessageFailed, "throttled", "", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	// A retryable failure can be claimed again; the attempt is counted.
	claimed, _, err = s.ClaimMessage(ctx, rec, t0.Add(3*time.Second))
	if err != nil || !claimed {
		t.Fatalf("claim after failure = %v, %v", claimed, err)
	}
	mine, _ = s.GetMessage(ctx, "k1")
	if mine.Attempts != 2 || mine.Reason != "" {
		t.Errorf("after reclaim = %+v, want attempts 2 and no stale reason", mine)
	}
	if err := s.FinishMessage(ctx, mine, MessageSent, "", "ses-123", t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	claimed, existing, err = s.ClaimMessage(ctx, rec, t0.Add(5*time.Second))
	if err != nil || claimed || existing.Status != MessageSent || existing.ProviderID != "ses-123" {
		t.Fatalf("claim after sent = %v %+v %v; want refused with the sent record", claimed, existing, err)
	}
	// A stale claim holder cannot overwrite the outcome.
	if err := s.FinishMessage(ctx, MessageRecord{Key: "k1", ClaimedAt: t0}, MessageFailed, "late", "", t0.Add(6*time.Second)); err == nil {
		t.Error("FinishMessage by a stale claim holder succeeded")
	}
	if err := s.RecordSkipped(ctx, MessageRecord{Key: "k2", CampaignID: "thanks", Channel: "email", CustomerID: "c-1"}, "no_consent", t0); err != nil {
		t.Fatal(err)
	}
	log, err := s.CustomerMessages(ctx, "c-1", t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Key != "k1" && log[1].Key != "k1" {
		t.Errorf("customer log = %+v", log)
	}
}

func TestOrdersPlacedOn(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	for i, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(24 * time.Hour)} {
		ev := createdEvent(fmt.Sprint("d", i))
		ev.Order.PlacedAt = at
		if _, err := s.ApplyOrderEvent(ctx, ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	stub := order.Event{Type: order.Cancelled, OccurredAt: t0, Order: order.Order{ID: "stub"}}
	if _, err := s.ApplyOrderEvent(ctx, stub, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrdersPlacedOn(ctx, t0)
	if err != nil || len(got) != 2 || got[0].Order.ID != "d0" || got[1].Order.ID != "d1" {
		t.Errorf("orders of the day = %+v, %v; want d0, d1 (a stub without details is not listed)", got, err)
	}
}

func TestConsentLedger(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	const id = "c-ledger"
	steps := []struct {
		name   string
		change func(*customer.Profile) bool
	}{
		{"granted at checkout", func(p *customer.Profile) bool {
			p.LineUserID = "U0123"
			return p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: t0})
		}},
		{"one-click unsubscribe", func(p *customer.Profile) bool {
			return p.Unsubscribe("email", "unsubscribe:one-click", t0.Add(time.Hour))
		}},
		{"same unsubscribe retried", func(p *customer.Profile) bool {
			return p.Unsubscribe("email", "unsubscribe:one-click", t0.Add(time.Hour))
		}},
		{"opt-in on the thank-you page", func(p *customer.Profile) bool {
			return p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: "thankyou:optin", At: t0.Add(2 * time.Hour), Shown: "新着のお知らせを受け取る"})
		}},
		{"LINE blocked", func(p *customer.Profile) bool { return p.UnfollowLine("U0123", t0.Add(3*time.Hour)) }},
		{"LINE followed again", func(p *customer.Profile) bool {
			return p.FollowLine("U0123", customer.LineSourceFollow, t0.Add(4*time.Hour))
		}},
		{"contact change only", func(p *customer.Profile) bool { p.Name = "三咲"; return true }},
	}
	for _, st := range steps {
		if _, err := s.UpdateProfile(ctx, id, st.change); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	// A retry after the ledger write but before the profile write writes
	// the same entry again: it must not show twice.
	if err := s.recordConsent(ctx, id, []customer.ConsentChange{{Channel: "email", State: "unsubscribed", Source: "unsubscribe:one-click", At: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}

	got, err := s.ConsentLedger(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []customer.ConsentChange{
		{Channel: "email", State: "granted", Source: "webhook:generic", At: t0},
		{Channel: "email", State: "unsubscribed", Source: "unsubscribe:one-click", At: t0.Add(time.Hour)},
		{Channel: "email", State: "granted", Source: "thankyou:optin", At: t0.Add(2 * time.Hour), Shown: "新着のお知らせを受け取る"},
		{Channel: "line", State: "unsubscribed", Source: "line:unfollow", At: t0.Add(3 * time.Hour)},
		{Channel: "line", State: "resubscribed", Source: "line:follow", At: t0.Add(4 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("ledger has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Channel != want[i].Channel || got[i].State != want[i].State || got[i].Source != want[i].Source || !got[i].At.Equal(want[i].At) || got[i].Shown != want[i].Shown {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
