package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the handler needs of the store.
type Store interface {
	Suppress(ctx context.Context, email, reason string, at time.Time) error
	CountSoftBounce(ctx context.Context, email, sesMessageID string, at time.Time) error
	RecordDeliveryEvent(ctx context.Context, messageKey, outcome string, at time.Time) error
}

// Handler takes SES's sending events (through EventBridge, from the
// stack's configuration set): hard bounces and complaints suppress the
// address for marketing, soft bounces are counted once per message, and the
// message log learns what became of each message (the most severe outcome
// reported, whatever order the events arrive in).
type Handler struct {
	Store Store
	// ConfigurationSet is the stack's SES configuration set. When set, events
	// of mail sent through any other configuration set (or none) are
	// ignored, so another application's bounces in the same account never
	// suppress tsunagu's customers. Empty accepts every event (the local
	// stack, whose SES emulator has no configuration sets).
	ConfigurationSet string
}

// Handle processes one event. An error makes EventBridge retry it; every
// step is safe to repeat.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	f, err := decodeSESEvent(ev)
	if errors.Is(err, errNotFeedback) {
		slog.InfoContext(ctx, "ses event ignored", "event_id", ev.ID, "detail_type", ev.DetailType, "reason", err.Error())
		return nil
	}
	if err != nil {
		slog.WarnContext(ctx, "unreadable ses event dropped", "event_id", ev.ID, "detail_type", ev.DetailType, "error", err.Error())
		return nil // retrying cannot make it readable
	}
	if h.ConfigurationSet != "" && f.ConfigSet != h.ConfigurationSet {
		slog.InfoContext(ctx, "ses event of another configuration set ignored", "event_id", ev.ID, "configuration_set", f.ConfigSet, "ses_message_id", f.MessageID)
		return nil
	}
	for _, address := range f.Recipients {
		switch f.Outcome {
		case store.DeliveryBounced:
			err = h.Store.Suppress(ctx, address, "hard_bounce", f.At)
		case store.DeliveryComplained:
			err = h.Store.Suppress(ctx, address, "complaint", f.At)
		case store.DeliverySoftBounced:
			err = h.Store.CountSoftBounce(ctx, address, f.MessageID, f.At)
		}
		if err != nil {
			return fmt.Errorf("handle %s of ses message %s: %w", f.Outcome, f.MessageID, err)
		}
	}
	if f.MessageKey != "" {
		if err := h.Store.RecordDeliveryEvent(ctx, f.MessageKey, f.Outcome, f.At); err != nil {
			return fmt.Errorf("record %s: %w", f.Outcome, err)
		}
	}
	slog.InfoContext(ctx, "ses event", "event_id", ev.ID, "outcome", f.Outcome, "recipients", len(f.Recipients), "ses_message_id", f.MessageID, "campaign", f.Campaign)
	return nil
}
