package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// documented wraps one of AWS's documented SES event records
// (testdata/aws-docs, see PROVENANCE) in the EventBridge envelope SES
// publishes it in: the record is the event's detail.
func documented(t *testing.T, file, detailType string) events.CloudWatchEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "aws-docs", file))
	if err != nil {
		t.Fatal(err)
	}
	var record struct {
		Mail struct {
			Timestamp time.Time `json:"timestamp"`
		} `json:"mail"`
	}
	if err := json.Unmarshal(raw, &record); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return events.CloudWatchEvent{
		Version: "0", ID: "docs-" + strings.TrimSuffix(file, ".json"), DetailType: detailType, Source: "aws.ses",
		AccountID: "123456789012", Time: record.Mail.Timestamp.Add(time.Minute), Region: "us-east-1",
		Resources: []string{}, Detail: raw,
	}
}

// logLine is one JSON line the handler logged.
type logLine struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Reason  string `json:"reason"`
	Outcome string `json:"outcome"`
}

// TestDocumentedEvents runs every example record of AWS's "Examples of
// event data that Amazon SES publishes" through the real handler: each is
// acted on (bounce and complaint suppress; delivery, open and click are
// recorded) or
// ignored with a logged reason, and none is an error EventBridge would
// retry. (The records carry no message key: nothing is counted.)
func TestDocumentedEvents(t *testing.T) {
	const recipient = "recipient@example.com" // every example's recipient
	tests := []struct {
		name       string
		file       string
		detailType string // as the EventBridge reference for SES names it
		msg        string // what the handler logs
		outcome    string // the outcome it logs, for events acted on
		reason     string // part of the logged reason, for events ignored
		suppressed string // the suppression reason it records, if any
	}{
		{name: "bounce", file: "bounce.json", detailType: "Email Bounced", msg: "ses event", outcome: "bounced", suppressed: "hard_bounce"},
		{name: "complaint", file: "complaint.json", detailType: "Email Complaint Received", msg: "ses event", outcome: "complained", suppressed: "complaint"},
		{name: "delivery", file: "delivery.json", detailType: "Email Delivered", msg: "ses event", outcome: "delivered"},
		{name: "send", file: "send.json", detailType: "Email Sent", msg: "ses event ignored", reason: `event type "Send"`},
		{name: "reject", file: "reject.json", detailType: "Email Rejected", msg: "ses event ignored", reason: `event type "Reject"`},
		{name: "open", file: "open.json", detailType: "Email Opened", msg: "ses event", outcome: "opened"},
		{name: "click", file: "click.json", detailType: "Email Clicked", msg: "ses event", outcome: "clicked"},
		{name: "rendering failure", file: "rendering-failure.json", detailType: "Email Rendering Failed", msg: "ses event ignored", reason: `event type "Rendering Failure"`},
		{name: "delivery delay", file: "delivery-delay.json", detailType: "Email Delivery Delayed", msg: "ses event ignored", reason: `event type "DeliveryDelay"`},
		{name: "subscription", file: "subscription.json", detailType: "Email Subscribed", msg: "ses event ignored", reason: `event type "Subscription"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			old := slog.Default()
			slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
			defer slog.SetDefault(old)

			h, st := newHandler(t, "ConfigSet") // the examples' configuration set
			ctx := context.Background()
			if err := h.Handle(ctx, documented(t, tt.file, tt.detailType)); err != nil {
				t.Fatalf("handle: %v (EventBridge would retry it)", err)
			}
			sup, err := st.SuppressionOf(ctx, recipient)
			if err != nil {
				t.Fatal(err)
			}
			if want := (store.Suppression{}); tt.suppressed == "" && sup != want {
				t.Errorf("suppression = %+v, want none", sup)
			}
			if tt.suppressed != "" && (!sup.Suppressed || sup.Reason != tt.suppressed) {
				t.Errorf("suppression = %+v, want suppressed for %s", sup, tt.suppressed)
			}

			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1:\n%s", len(lines), logs.String())
			}
			if logging.Mask(lines[0]) != lines[0] {
				t.Errorf("the log line carries an address: %s", logging.Mask(lines[0]))
			}
			var got logLine
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatal(err)
			}
			if got.Level != "INFO" || got.Msg != tt.msg || got.Outcome != tt.outcome || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("logged %+v, want %s %q outcome %q reason containing %q", got, "INFO", tt.msg, tt.outcome, tt.reason)
			}
		})
	}
}
