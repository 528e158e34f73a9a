package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func event(t *testing.T, file string) events.CloudWatchEvent {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestFeedback(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		address    string
		key        string
		suppressed bool
		soft       int
		delivery   string
	}{
		{name: "hard bounce suppresses", file: "bounce-permanent.json", address: "gone@example.jp", key: "k-bounce", suppressed: true, delivery: "bounced"},
		{name: "soft bounce is counted", file: "bounce-transient.json", address: "full@example.jp", key: "k-soft", soft: 1, delivery: "soft_bounced"},
		{name: "complaint suppresses", file: "complaint.json", address: "angry@example.jp", key: "k-complaint", suppressed: true, delivery: "complained"},
		{name: "delivery is logged", file: "delivery.json", address: "misaki@example.jp", key: "k-delivered", delivery: "delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
			ctx := context.Background()
			if claimed, _, err := st.ClaimMessage(ctx, store.MessageRecord{Key: tt.key, CampaignID: "post-purchase-thanks", Channel: "email", CustomerID: "c-1"}, time.Now()); err != nil || !claimed {
				t.Fatal(err)
			}
			h := &Handler{Store: st}
			if err := h.Handle(ctx, event(t, tt.file)); err != nil {
				t.Fatal(err)
			}
			sup, err := st.SuppressionOf(ctx, tt.address)
			if err != nil || sup.Suppressed != tt.suppressed || sup.SoftBounces != tt.soft {
				t.Errorf("suppression = %+v, %v", sup, err)
			}
			if msg, err := st.GetMessage(ctx, tt.key); err != nil || msg.Delivery != tt.delivery {
				t.Errorf("message log = %+v, %v; want delivery %s", msg, err, tt.delivery)
			}
			// Redelivered by EventBridge: the same state.
			if err := h.Handle(ctx, event(t, tt.file)); err != nil {
				t.Fatal(err)
			}
			if again, _ := st.SuppressionOf(ctx, tt.address); again.Suppressed != tt.suppressed {
				t.Errorf("after a redelivery: %+v", again)
			}
		})
	}
	if err := (&Handler{Store: store.New(testenv.DynamoDB(), testenv.NewTable(t))}).Handle(context.Background(), events.CloudWatchEvent{Detail: []byte("not json")}); err != nil {
		t.Errorf("an unreadable event must be dropped, not retried: %v", err)
	}
}
