package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func event(t *testing.T, file string) events.CloudWatchEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// edited returns the event in file with its EventBridge id replaced and
// its detail changed by edit (a decoded JSON object).
func edited(t *testing.T, file, id string, edit func(detail map[string]any)) events.CloudWatchEvent {
	t.Helper()
	ev := event(t, file)
	var detail map[string]any
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(detail)
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		t.Fatal(err)
	}
	ev.ID, ev.Detail = id, raw
	return ev
}

// tag sets one of the mail's tags, or removes it when value is nil.
func tag(name string, value []any) func(map[string]any) {
	return func(detail map[string]any) {
		tags := detail["mail"].(map[string]any)["tags"].(map[string]any)
		if value == nil {
			delete(tags, name)
			return
		}
		tags[name] = value
	}
}

// newHandler returns a handler with the function's own table permissions
// and a store with full access to check what it did.
func newHandler(t *testing.T, configSet string) (*Handler, *store.Store) {
	t.Helper()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDBAs(t, "SesFeedbackFunction"), table)
	return &Handler{Store: st, ConfigurationSet: configSet, Location: tokyo, Cases: &support.Opener{Store: st, CoolingOff: 30 * 24 * time.Hour}},
		store.New(testenv.DynamoDB(), table)
}

func claim(t *testing.T, st *store.Store, key string) {
	t.Helper()
	if claimed, _, err := st.ClaimMessage(context.Background(), store.MessageRecord{Key: key, CampaignID: "post-purchase-thanks", Variant: "b", Channel: "email", CustomerID: "c-1"}, time.Now()); err != nil || !claimed {
		t.Fatalf("claim %s = %v, %v", key, claimed, err)
	}
}

func TestFeedback(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		address    string
		key        string
		suppressed bool
		reason     string
		soft       int
		delivery   string
		cased      bool // opens a support case and cools the customer off
	}{
		{name: "hard bounce suppresses", file: "bounce-permanent.json", address: "gone@example.jp", key: "k-bounce", suppressed: true, reason: "hard_bounce", delivery: "bounced"},
		{name: "soft bounce is counted", file: "bounce-transient.json", address: "full@example.jp", key: "k-soft", soft: 1, delivery: "soft_bounced"},
		{name: "complaint suppresses", file: "complaint.json", address: "angry@example.jp", key: "k-complaint", suppressed: true, reason: "complaint", delivery: "complained", cased: true},
		{name: "delivery is logged", file: "delivery.json", address: "misaki@example.jp", key: "k-delivered", delivery: "delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := newHandler(t, "tsunagu")
			ctx := context.Background()
			claim(t, st, tt.key)
			if err := st.ImportProfiles(ctx, []customer.Profile{{ID: "c-1"}}); err != nil {
				t.Fatal(err)
			}
			check := func(when string) {
				t.Helper()
				sup, err := st.SuppressionOf(ctx, tt.address)
				if err != nil || sup.Suppressed != tt.suppressed || sup.Reason != tt.reason || sup.SoftBounces != tt.soft {
					t.Errorf("%s: suppression = %+v, %v", when, sup, err)
				}
				if msg, err := st.GetMessage(ctx, tt.key); err != nil || msg.Delivery != tt.delivery {
					t.Errorf("%s: message log = %+v, %v; want delivery %s", when, msg, err, tt.delivery)
				}
				cases, err := st.OpenCases(ctx)
				if err != nil {
					t.Fatal(err)
				}
				p, err := st.GetProfile(ctx, "c-1")
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatal(err)
				}
				switch {
				case !tt.cased && (len(cases) != 0 || !p.CoolingUntil.IsZero()):
					t.Errorf("%s: %d cases, cooling until %s; want none", when, len(cases), p.CoolingUntil)
				case tt.cased && (len(cases) != 1 || cases[0].ID != "complaint#"+tt.key || cases[0].Cause != support.Complaint || cases[0].CustomerID != "c-1" || cases[0].CampaignID != "post-purchase-thanks"):
					t.Errorf("%s: cases %+v, want the complaint's", when, cases)
				case tt.cased && !p.CoolingUntil.Equal(cases[0].At.Add(30*24*time.Hour)):
					t.Errorf("%s: cooling until %s, want 30 days after %s", when, p.CoolingUntil, cases[0].At)
				}
			}
			if err := h.Handle(ctx, event(t, tt.file)); err != nil {
				t.Fatal(err)
			}
			check("first delivery")
			// Redelivered by EventBridge (same event id), then published
			// again by SES (a new event id): the same state, counted once.
			if err := h.Handle(ctx, event(t, tt.file)); err != nil {
				t.Fatal(err)
			}
			check("after a redelivery")
			if err := h.Handle(ctx, edited(t, tt.file, "republished", nil)); err != nil {
				t.Fatal(err)
			}
			check("after a republication")
		})
	}
}

func TestFeedbackOutOfOrder(t *testing.T) {
	// Each step is a sample event, retagged with the test's message key.
	tests := []struct {
		name     string
		files    []string
		delivery string
		soft     int // soft bounces of full@example.jp
	}{
		{name: "delivery after complaint", files: []string{"complaint.json", "delivery.json"}, delivery: "complained"},
		{name: "bounce after delivery", files: []string{"delivery.json", "bounce-permanent.json"}, delivery: "bounced"},
		{name: "delivery after bounce", files: []string{"bounce-permanent.json", "delivery.json"}, delivery: "bounced"},
		{name: "soft bounce after delivery", files: []string{"delivery.json", "bounce-transient.json"}, delivery: "soft_bounced", soft: 1},
		{name: "duplicate soft bounce", files: []string{"bounce-transient.json", "delivery.json", "bounce-transient.json"}, delivery: "soft_bounced", soft: 1},
		{name: "complaint after bounce", files: []string{"bounce-permanent.json", "complaint.json", "delivery.json"}, delivery: "complained"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := newHandler(t, "tsunagu")
			ctx := context.Background()
			claim(t, st, "k-order")
			for i, file := range tt.files {
				ev := edited(t, file, file+"-"+string(rune('a'+i)), tag("message_key", []any{"k-order"}))
				if err := h.Handle(ctx, ev); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
			}
			if msg, err := st.GetMessage(ctx, "k-order"); err != nil || msg.Delivery != tt.delivery {
				t.Errorf("message log = %+v, %v; want delivery %s", msg, err, tt.delivery)
			}
			if sup, err := st.SuppressionOf(ctx, "full@example.jp"); err != nil || sup.SoftBounces != tt.soft {
				t.Errorf("soft bounces = %+v, %v; want %d", sup, err, tt.soft)
			}
		})
	}
}

func TestConfigurationSetFilter(t *testing.T) {
	tests := []struct {
		name      string
		configSet string // the handler's
		edit      func(map[string]any)
		acted     bool
	}{
		{name: "the stack's set", configSet: "tsunagu", acted: true},
		{name: "another set", configSet: "tsunagu", edit: tag("ses:configuration-set", []any{"newsletter"})},
		{name: "no set", configSet: "tsunagu", edit: tag("ses:configuration-set", nil)},
		{name: "two sets", configSet: "tsunagu", edit: tag("ses:configuration-set", []any{"tsunagu", "newsletter"})},
		{name: "a set that only starts alike", configSet: "tsunagu", edit: tag("ses:configuration-set", []any{"tsunagu-staging"})},
		{name: "no filter configured, another set", configSet: "", edit: tag("ses:configuration-set", []any{"newsletter"}), acted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := newHandler(t, tt.configSet)
			ctx := context.Background()
			claim(t, st, "k-bounce")
			if err := h.Handle(ctx, edited(t, "bounce-permanent.json", "e-1", tt.edit)); err != nil {
				t.Fatal(err)
			}
			sup, err := st.SuppressionOf(ctx, "gone@example.jp")
			if err != nil || sup.Suppressed != tt.acted {
				t.Errorf("suppression = %+v, %v; want suppressed %v", sup, err, tt.acted)
			}
			want := ""
			if tt.acted {
				want = "bounced"
			}
			if msg, err := st.GetMessage(ctx, "k-bounce"); err != nil || msg.Delivery != want {
				t.Errorf("message log = %+v, %v; want delivery %q", msg, err, want)
			}
		})
	}
}

func TestDropped(t *testing.T) {
	sample := event(t, "bounce-permanent.json")
	tests := []struct {
		name string
		ev   events.CloudWatchEvent
	}{
		{name: "not json", ev: events.CloudWatchEvent{Source: "aws.ses", Detail: []byte("not json")}},
		{name: "another source", ev: events.CloudWatchEvent{Source: "shop.example", Detail: sample.Detail}},
		{name: "an event type not acted on", ev: edited(t, "delivery.json", "send-1", func(d map[string]any) { d["eventType"] = "Send" })},
		{name: "a bounce without recipients", ev: edited(t, "bounce-permanent.json", "b-1", func(d map[string]any) { d["bounce"].(map[string]any)["bouncedRecipients"] = []any{} })},
		{name: "a bad timestamp", ev: edited(t, "complaint.json", "c-1", func(d map[string]any) { d["complaint"].(map[string]any)["timestamp"] = "angry@example.jp" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := newHandler(t, "tsunagu")
			if err := h.Handle(context.Background(), tt.ev); err != nil {
				t.Errorf("a dropped event must not be retried: %v", err)
			}
			for _, address := range []string{"gone@example.jp", "misaki@example.jp", "angry@example.jp"} {
				if sup, _ := st.SuppressionOf(context.Background(), address); sup != (store.Suppression{}) {
					t.Errorf("%s: suppression = %+v, want none", address, sup)
				}
			}
		})
	}
}

// TestCounted: each new outcome, first open and first click of a message
// is added once to its campaign's counters (by variant, on the shop-zone
// day of the event), and deliveries, bounces and complaints to the shop's
// as well, however often and in whatever order SES reports them. A click
// the redirect counted first is not counted again from SES's click event.
func TestCounted(t *testing.T) {
	tests := []struct {
		name string
		// clickedFirst: the redirect saw the message clicked before SES.
		clickedFirst bool
		files        []string
		campaign     store.Counts
		shop         store.Counts
	}{
		{name: "delivered, reported twice", files: []string{"delivery.json", "delivery.json"}, campaign: store.Counts{"delivered": 1}, shop: store.Counts{"email_delivered": 1}},
		{name: "delivered, then bounced", files: []string{"delivery.json", "bounce-permanent.json", "bounce-permanent.json"},
			campaign: store.Counts{"delivered": 1, "bounced": 1}, shop: store.Counts{"email_delivered": 1, "email_bounced": 1}},
		{name: "a complaint, then the late delivery", files: []string{"complaint.json", "delivery.json"}, campaign: store.Counts{"complained": 1}, shop: store.Counts{"email_complained": 1}},
		{name: "a soft bounce", files: []string{"bounce-transient.json"}},
		{name: "opened twice", files: []string{"open.json", "open.json"}, campaign: store.Counts{"opened": 1}},
		{name: "clicked twice", files: []string{"click.json", "click.json"}, campaign: store.Counts{"clicked": 1}},
		{name: "clicked through the redirect first", clickedFirst: true, files: []string{"click.json"}},
		{name: "delivered, opened, clicked", files: []string{"delivery.json", "open.json", "click.json"},
			campaign: store.Counts{"delivered": 1, "opened": 1, "clicked": 1}, shop: store.Counts{"email_delivered": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := newHandler(t, "tsunagu")
			ctx := context.Background()
			claim(t, st, "k-counted")
			if tt.clickedFirst {
				if first, err := st.MarkMessageClicked(ctx, "k-counted", time.Now()); err != nil || !first {
					t.Fatalf("redirect click = %v, %v", first, err)
				}
			}
			var days []string
			for i, file := range tt.files {
				ev := edited(t, file, fmt.Sprintf("%s-%d", file, i), tag("message_key", []any{"k-counted"}))
				if err := h.Handle(ctx, ev); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				f, err := decodeSESEvent(ev)
				if err != nil {
					t.Fatal(err)
				}
				days = append(days, store.DayKey(f.At, tokyo))
			}
			slices.Sort(days)
			first, last := days[0], days[len(days)-1]
			campaign, err := st.StatsBetween(ctx, store.CampaignStatsPartition("post-purchase-thanks"), first, last+"~")
			if err != nil {
				t.Fatal(err)
			}
			shop, err := st.StatsBetween(ctx, store.ShopStatsPartition, first, last)
			if err != nil {
				t.Fatal(err)
			}
			if got := sum(campaign); !maps.Equal(got, tt.campaign) && len(got)+len(tt.campaign) > 0 {
				t.Errorf("campaign counters = %v, want %v", campaign, tt.campaign)
			}
			for sk := range campaign {
				if !strings.HasSuffix(sk, "#b") {
					t.Errorf("counted under %s, want the message's variant b", sk)
				}
			}
			if got := sum(shop); !maps.Equal(got, tt.shop) && len(got)+len(tt.shop) > 0 {
				t.Errorf("shop counters = %v, want %v", shop, tt.shop)
			}
		})
	}
}

// sum adds up the counters of several stats items.
func sum(items map[string]store.Counts) store.Counts {
	out := store.Counts{}
	for _, c := range items {
		out.Add(c)
	}
	return out
}
