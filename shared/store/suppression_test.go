package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// deliveryEvent is one report of the mail service about a message.
type deliveryEvent struct {
	outcome string
	at      time.Time
}

var (
	delivered   = deliveryEvent{DeliveryDelivered, t0.Add(1 * time.Minute)}
	softBounced = deliveryEvent{DeliverySoftBounced, t0.Add(2 * time.Minute)}
	bounced     = deliveryEvent{DeliveryBounced, t0.Add(3 * time.Minute)}
	complained  = deliveryEvent{DeliveryComplained, t0.Add(4 * time.Minute)}
)

// permutations returns every order of evs.
func permutations(evs []deliveryEvent) [][]deliveryEvent {
	if len(evs) <= 1 {
		return [][]deliveryEvent{evs}
	}
	var out [][]deliveryEvent
	for i := range evs {
		rest := append(append([]deliveryEvent(nil), evs[:i]...), evs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]deliveryEvent{evs[i]}, p...))
		}
	}
	return out
}

// storedDelivery reads the delivery attributes of a message log item as
// stored.
func storedDelivery(t *testing.T, s *Store, messageKey string) (outcome, at string) {
	t.Helper()
	item, err := s.getItem(context.Background(), messagePK(messageKey), "MESSAGE", time.Now())
	if err != nil || item == nil {
		t.Fatalf("read message %s: %v (item %v)", messageKey, err, item)
	}
	if v, ok := item["delivery"].(*types.AttributeValueMemberS); ok {
		outcome = v.Value
	}
	if v, ok := item["delivery_at"].(*types.AttributeValueMemberS); ok {
		at = v.Value
	}
	return outcome, at
}

func claimed(t *testing.T, s *Store, key string) {
	t.Helper()
	if ok, _, err := s.ClaimMessage(context.Background(), MessageRecord{Key: key, CampaignID: "post-purchase-thanks", Channel: "email", CustomerID: "c-1"}, t0); err != nil || !ok {
		t.Fatalf("claim %s = %v, %v", key, ok, err)
	}
}

func TestRecordDeliveryEventOrder(t *testing.T) {
	type testCase struct {
		name   string
		events []deliveryEvent
		want   deliveryEvent
	}
	tests := []testCase{
		{name: "delivery", events: []deliveryEvent{delivered}, want: delivered},
		{name: "delivery after complaint", events: []deliveryEvent{complained, delivered}, want: complained},
		{name: "bounce after delivery", events: []deliveryEvent{delivered, bounced}, want: bounced},
		{name: "delivery after bounce", events: []deliveryEvent{bounced, delivered}, want: bounced},
		{name: "soft bounce after delivery", events: []deliveryEvent{delivered, softBounced}, want: softBounced},
		{name: "delivery after soft bounce", events: []deliveryEvent{softBounced, delivered}, want: softBounced},
		{name: "soft bounce after bounce", events: []deliveryEvent{bounced, softBounced}, want: bounced},
		{name: "bounce after soft bounce", events: []deliveryEvent{softBounced, bounced}, want: bounced},
		{name: "complaint after bounce", events: []deliveryEvent{bounced, complained}, want: complained},
		{name: "bounce after complaint", events: []deliveryEvent{complained, bounced}, want: complained},
		{name: "duplicate delivery keeps the first time", events: []deliveryEvent{delivered, {DeliveryDelivered, t0.Add(time.Hour)}}, want: delivered},
		{name: "duplicate soft bounce keeps the first time", events: []deliveryEvent{softBounced, {DeliverySoftBounced, t0.Add(time.Hour)}}, want: softBounced},
		{name: "duplicate complaint keeps the first time", events: []deliveryEvent{complained, {DeliveryComplained, t0.Add(time.Hour)}}, want: complained},
	}
	for _, p := range permutations([]deliveryEvent{delivered, softBounced, bounced, complained}) {
		var names []string
		for _, ev := range p {
			names = append(names, ev.outcome)
		}
		tests = append(tests, testCase{name: "all in order " + strings.Join(names, ","), events: p, want: complained})
	}
	for _, p := range permutations([]deliveryEvent{delivered, softBounced, bounced}) {
		var names []string
		for _, ev := range p {
			names = append(names, ev.outcome)
		}
		tests = append(tests, testCase{name: "no complaint, in order " + strings.Join(names, ","), events: p, want: bounced})
	}
	s, ctx := newStore(t), context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("k-%d", i)
			claimed(t, s, key)
			raised := map[string]int{}
			for _, ev := range tt.events {
				rec, up, err := s.RecordDeliveryEvent(ctx, key, ev.outcome, ev.at)
				if err != nil {
					t.Fatalf("record %s: %v", ev.outcome, err)
				}
				if up {
					raised[ev.outcome]++
					if rec.Delivery != ev.outcome || rec.CampaignID != "post-purchase-thanks" {
						t.Errorf("record %s returned %+v", ev.outcome, rec)
					}
				}
			}
			// Each outcome is reported raised at most once, the final one
			// always: what a caller counts.
			for outcome, n := range raised {
				if n > 1 {
					t.Errorf("%s raised %d times", outcome, n)
				}
			}
			if raised[tt.want.outcome] != 1 {
				t.Errorf("the final outcome %s was raised %d times, want 1", tt.want.outcome, raised[tt.want.outcome])
			}
			outcome, at := storedDelivery(t, s, key)
			if want := tt.want.at.UTC().Format(time.RFC3339Nano); outcome != tt.want.outcome || at != want {
				t.Errorf("stored delivery = %q at %s, want %q at %s", outcome, at, tt.want.outcome, want)
			}
			if msg, err := s.GetMessage(ctx, key); err != nil || msg.Delivery != tt.want.outcome || msg.Status != MessageSending {
				t.Errorf("GetMessage = %+v, %v", msg, err)
			}
		})
	}
}

func TestRecordDeliveryEventConcurrent(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	claimed(t, s, "k-race")
	var wg sync.WaitGroup
	var mu sync.Mutex
	raised := map[string]int{}
	for range 5 {
		for _, ev := range []deliveryEvent{delivered, softBounced, bounced, complained} {
			wg.Go(func() {
				_, up, err := s.RecordDeliveryEvent(ctx, "k-race", ev.outcome, ev.at)
				if err != nil {
					t.Errorf("record %s: %v", ev.outcome, err)
				}
				if up {
					mu.Lock()
					raised[ev.outcome]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for outcome, n := range raised {
		if n > 1 {
			t.Errorf("%s raised %d times by concurrent events", outcome, n)
		}
	}
	if raised[DeliveryComplained] != 1 {
		t.Errorf("the complaint was raised %d times, want 1", raised[DeliveryComplained])
	}
	if outcome, at := storedDelivery(t, s, "k-race"); outcome != DeliveryComplained || at != complained.at.Format(time.RFC3339Nano) {
		t.Errorf("after concurrent events: %q at %s, want the complaint", outcome, at)
	}
}

func TestRecordDeliveryEventIgnored(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	tests := []struct {
		name    string
		key     string
		outcome string
		wantErr string
	}{
		{name: "message of another stack", key: "k-unknown", outcome: DeliveryComplained},
		{name: "unknown outcome", key: "k-known", outcome: "opened", wantErr: `record delivery event of k-known: unknown outcome "opened"`},
		{name: "empty outcome", key: "k-known", outcome: "", wantErr: `record delivery event of k-known: unknown outcome ""`},
	}
	claimed(t, s, "k-known")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, up, err := s.RecordDeliveryEvent(ctx, tt.key, tt.outcome, t0)
			if up {
				t.Error("an ignored event reported the outcome raised")
			}
			if got := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && got != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if item, _ := s.getItem(ctx, messagePK("k-unknown"), "MESSAGE", time.Now()); item != nil {
				t.Errorf("an unknown message was created: %v", item)
			}
			if outcome, _ := storedDelivery(t, s, "k-known"); outcome != "" {
				t.Errorf("delivery of k-known = %q, want none", outcome)
			}
		})
	}
}

func TestCountSoftBounce(t *testing.T) {
	type bounce struct{ address, messageID string }
	tests := []struct {
		name    string
		bounces []bounce
		want    map[string]int
	}{
		{name: "one", bounces: []bounce{{"full@example.jp", "m-1"}}, want: map[string]int{"full@example.jp": 1}},
		{name: "same event redelivered", bounces: []bounce{{"full@example.jp", "m-1"}, {"full@example.jp", "m-1"}}, want: map[string]int{"full@example.jp": 1}},
		{name: "two messages", bounces: []bounce{{"full@example.jp", "m-1"}, {"full@example.jp", "m-2"}}, want: map[string]int{"full@example.jp": 2}},
		{name: "redelivered after another message", bounces: []bounce{{"full@example.jp", "m-1"}, {"full@example.jp", "m-2"}, {"full@example.jp", "m-1"}, {"full@example.jp", "m-2"}}, want: map[string]int{"full@example.jp": 2}},
		{name: "same address in another case", bounces: []bounce{{"full@example.jp", "m-1"}, {" Full@Example.JP", "m-1"}}, want: map[string]int{"full@example.jp": 1}},
		{name: "one message to two addresses", bounces: []bounce{{"full@example.jp", "m-1"}, {"away@example.jp", "m-1"}, {"away@example.jp", "m-1"}}, want: map[string]int{"full@example.jp": 1, "away@example.jp": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := newStore(t), context.Background()
			for _, b := range tt.bounces {
				if err := s.CountSoftBounce(ctx, b.address, b.messageID, t0); err != nil {
					t.Fatalf("count %s: %v", b.messageID, err)
				}
			}
			for address, want := range tt.want {
				sup, err := s.SuppressionOf(ctx, address)
				if err != nil || sup.SoftBounces != want || sup.Suppressed {
					t.Errorf("suppression = %+v, %v; want %d soft bounces, not suppressed", sup, err, want)
				}
				item, _ := s.getItem(ctx, s.suppressionPK(address), "SUPPRESSION", time.Now())
				if ids, _ := item["soft_bounce_ids"].(*types.AttributeValueMemberSS); ids == nil || len(ids.Value) != want {
					t.Errorf("soft_bounce_ids = %v, want %d digests", item["soft_bounce_ids"], want)
				}
			}
		})
	}
	t.Run("no message id", func(t *testing.T) {
		s := newStore(t)
		if err := s.CountSoftBounce(context.Background(), "full@example.jp", "", t0); err == nil || err.Error() != "count soft bounce: no SES message id" {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCountSoftBounceKeepsSuppression(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if err := s.Suppress(ctx, "gone@example.jp", "hard_bounce", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CountSoftBounce(ctx, "gone@example.jp", "m-1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if sup, err := s.SuppressionOf(ctx, "gone@example.jp"); err != nil || !sup.Suppressed || sup.Reason != "hard_bounce" || sup.SoftBounces != 1 {
		t.Errorf("suppression = %+v, %v", sup, err)
	}
}

// TestSuppressionIsKeyed: a suppressed address is kept under its keyed
// hash (PSEUDONYM_SECRET), so the table alone does not confirm an address:
// hashing a candidate without the key finds nothing, and a store under
// another key does not see the suppression. The same key finds it, in any
// case and spacing of the address.
func TestSuppressionIsKeyed(t *testing.T) {
	ctx := context.Background()
	keyer := pseudonym.New("a-pseudonym-secret-of-32-bytes-or-more")
	s := newStore(t).WithPseudonyms(keyer)
	if err := s.Suppress(ctx, " Misaki@Example.JP", "complaint", t0); err != nil {
		t.Fatal(err)
	}
	unkeyed := sha256.Sum256([]byte("misaki@example.jp"))
	items := testenv.Snapshot(t, s.Table())
	if len(items) != 1 || !strings.Contains(items[0], `"SUPPRESSED#`+keyer.AddressHash("misaki@example.jp")+`"`) {
		t.Fatalf("table %v, want one item under the keyed hash", items)
	}
	for _, it := range items {
		if strings.Contains(it, hex.EncodeToString(unkeyed[:])) || strings.Contains(strings.ToLower(it), "misaki") {
			t.Errorf("an item confirms the address without the key: %s", it)
		}
	}
	tests := []struct {
		name       string
		store      *Store
		address    string
		suppressed bool
	}{
		{name: "same key", store: s, address: "misaki@example.jp", suppressed: true},
		{name: "same key, another case", store: s, address: "MISAKI@example.jp ", suppressed: true},
		{name: "another key", store: New(testenv.DynamoDB(), s.Table()).WithPseudonyms(pseudonym.New("another-pseudonym-secret-of-32-bytes")), address: "misaki@example.jp"},
		{name: "another address", store: s, address: "daiki@example.jp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sup, err := tt.store.SuppressionOf(ctx, tt.address)
			if err != nil || sup.Suppressed != tt.suppressed {
				t.Errorf("SuppressionOf = %+v, %v; want suppressed %v", sup, err, tt.suppressed)
			}
		})
	}
}

// TestLegacySuppressionStillHolds: an address suppressed by a version
// that kept the plain SHA-256 of the address stays suppressed; new
// suppressions are written under the keyed hash only.
func TestLegacySuppressionStillHolds(t *testing.T) {
	ctx := context.Background()
	s := newStore(t).WithPseudonyms(pseudonym.New("a-pseudonym-secret-of-32-bytes-or-more"))
	legacy := sha256.Sum256([]byte("old@example.jp"))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SUPPRESSED#" + hex.EncodeToString(legacy[:])}, "sk": &types.AttributeValueMemberS{Value: "SUPPRESSION"},
		"suppressed": &types.AttributeValueMemberBOOL{Value: true}, "reason": &types.AttributeValueMemberS{Value: "complaint"},
	}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, address string
		suppressed    bool
	}{
		{"the address suppressed before", "old@example.jp", true},
		{"the same, spaced and in capitals", " OLD@example.jp", true},
		{"another address", "new@example.jp", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sup, err := s.SuppressionOf(ctx, tt.address)
			if err != nil || sup.Suppressed != tt.suppressed || tt.suppressed && sup.Reason != "complaint" {
				t.Errorf("SuppressionOf = %+v, %v; want suppressed %v", sup, err, tt.suppressed)
			}
		})
	}
}
