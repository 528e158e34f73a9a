package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Store is what the handler needs of the store.
type Store interface {
	Suppress(ctx context.Context, email, reason string, at time.Time) error
	CountSoftBounce(ctx context.Context, email string, at time.Time) error
	RecordDeliveryEvent(ctx context.Context, messageKey, event string, at time.Time) error
}

// Handler takes SES's sending events (through EventBridge, from the
// stack's configuration set): hard bounces and complaints suppress the
// address for marketing, soft bounces are counted, and the message log
// learns what became of each message.
type Handler struct {
	Store Store
}

// sesEvent is the part of an SES event tsunagu reads.
type sesEvent struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID string              `json:"messageId"`
		Timestamp time.Time           `json:"timestamp"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"bouncedRecipients"`
		Timestamp time.Time `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		Timestamp time.Time `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"delivery"`
}

// Handle processes one event. An error makes EventBridge retry it; every
// step is safe to repeat.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	var e sesEvent
	if err := json.Unmarshal(ev.Detail, &e); err != nil {
		slog.WarnContext(ctx, "unreadable ses event dropped", "event_id", ev.ID, "detail_type", ev.DetailType)
		return nil // retrying cannot make it readable
	}
	var outcome string
	switch {
	case e.EventType == "Bounce" && e.Bounce != nil && e.Bounce.BounceType == "Permanent":
		outcome = "bounced"
		for _, r := range e.Bounce.BouncedRecipients {
			if err := h.Store.Suppress(ctx, r.EmailAddress, "hard_bounce", e.Bounce.Timestamp); err != nil {
				return err
			}
		}
	case e.EventType == "Bounce" && e.Bounce != nil:
		outcome = "soft_bounced"
		for _, r := range e.Bounce.BouncedRecipients {
			if err := h.Store.CountSoftBounce(ctx, r.EmailAddress, e.Bounce.Timestamp); err != nil {
				return err
			}
		}
	case e.EventType == "Complaint" && e.Complaint != nil:
		outcome = "complained"
		for _, r := range e.Complaint.ComplainedRecipients {
			if err := h.Store.Suppress(ctx, r.EmailAddress, "complaint", e.Complaint.Timestamp); err != nil {
				return err
			}
		}
	case e.EventType == "Delivery":
		outcome = "delivered"
	default:
		slog.InfoContext(ctx, "ses event ignored", "event_type", e.EventType)
		return nil
	}
	if keys := e.Mail.Tags["message_key"]; len(keys) == 1 {
		if err := h.Store.RecordDeliveryEvent(ctx, keys[0], outcome, ev.Time); err != nil {
			return fmt.Errorf("record %s: %w", outcome, err)
		}
	}
	slog.InfoContext(ctx, "ses event", "outcome", outcome, "ses_message_id", e.Mail.MessageID, "campaign", first(e.Mail.Tags["campaign"]))
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
