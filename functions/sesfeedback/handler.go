package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

// Store is what the handler needs of the store.
type Store interface {
	Suppress(ctx context.Context, email, reason string, at time.Time) error
	CountSoftBounce(ctx context.Context, email, sesMessageID string, at time.Time) error
	RecordDeliveryEvent(ctx context.Context, messageKey, outcome string, at time.Time) (store.MessageRecord, bool, error)
	MarkMessageOpened(ctx context.Context, messageKey string, at time.Time) (store.MessageRecord, bool, error)
	MarkMessageSESClicked(ctx context.Context, messageKey string, at time.Time) (store.MessageRecord, bool, error)
	AddCounts(ctx context.Context, pk, sk string, day time.Time, counts store.Counts) error
}

// Handler takes SES's sending events (through EventBridge, from the
// stack's configuration set): hard bounces and complaints suppress the
// address for marketing, soft bounces are counted once per message, and the
// message log learns what became of each message (the most severe outcome
// reported, whatever order the events arrive in), when it was first opened
// and first clicked. Each new outcome, first open and first click is
// counted once on the campaign's counters (and deliveries, bounces and
// complaints on the shop's).
type Handler struct {
	Store Store
	// ConfigurationSet is the stack's SES configuration set. When set, events
	// of mail sent through any other configuration set (or none) are
	// ignored, so another application's bounces in the same account never
	// suppress tsunagu's customers. Empty accepts every event (the local
	// stack, whose SES emulator has no configuration sets).
	ConfigurationSet string
	// Location is the shop's zone: counters are kept by its days.
	Location *time.Location
	// Cases opens a support case for a complaint about a message of a
	// known customer (shared/support).
	Cases CaseOpener
}

// CaseOpener opens a support case (a *support.Opener).
type CaseOpener interface {
	Open(ctx context.Context, c store.Case) error
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
	var counted store.Counts
	if f.MessageKey != "" {
		rec, campaign, err := h.record(ctx, f)
		if err != nil {
			return fmt.Errorf("record %s: %w", f.Outcome, err)
		}
		counted = h.count(ctx, f, rec, campaign)
		if f.Outcome == store.DeliveryComplained && rec.CustomerID != "" {
			c := store.Case{ID: "complaint#" + f.MessageKey, Cause: support.Complaint, CustomerID: rec.CustomerID, CampaignID: rec.CampaignID, At: f.At}
			if err := h.Cases.Open(ctx, c); err != nil {
				return fmt.Errorf("open the complaint's case: %w", err)
			}
		}
	}
	slog.InfoContext(ctx, "ses event", "event_id", ev.ID, "outcome", f.Outcome, "recipients", len(f.Recipients), "ses_message_id", f.MessageID, "campaign", f.Campaign,
		"counted", len(counted) > 0)
	return nil
}

// record notes the event on the message's log entry and returns the entry
// with what is new for the campaign's counters: nothing when the event
// repeats what the log knows (a redelivery, an older outcome, a second
// open or click), so that counts are added once per message.
func (h *Handler) record(ctx context.Context, f feedback) (store.MessageRecord, store.Counts, error) {
	switch f.Outcome {
	case outcomeOpened:
		rec, first, err := h.Store.MarkMessageOpened(ctx, f.MessageKey, f.At)
		if err != nil || !first {
			return rec, nil, err
		}
		return rec, store.Counts{"opened": 1}, nil
	case outcomeClicked:
		// A message the redirect saw clicked first is clicked already.
		rec, first, err := h.Store.MarkMessageSESClicked(ctx, f.MessageKey, f.At)
		if err != nil || !first || !rec.ClickedAt.IsZero() {
			return rec, nil, err
		}
		return rec, store.Counts{"clicked": 1}, nil
	}
	rec, raised, err := h.Store.RecordDeliveryEvent(ctx, f.MessageKey, f.Outcome, f.At)
	if err != nil || !raised || f.Outcome == store.DeliverySoftBounced {
		return rec, nil, err
	}
	return rec, store.Counts{f.Outcome: 1}, nil
}

// count adds what record found new to the campaign's counters (by the
// message's variant) and, for a delivery, bounce or complaint, to the
// shop's as email_<outcome>, on the shop-zone day of the event, and
// returns the campaign counts it added. The event
// is recorded already, so a failure here only loses a count (logged): a
// retry would find it recorded and count nothing.
func (h *Handler) count(ctx context.Context, f feedback, rec store.MessageRecord, campaign store.Counts) store.Counts {
	if len(campaign) == 0 || rec.CampaignID == "" {
		return nil
	}
	if err := h.Store.AddCounts(ctx, store.CampaignStatsPartition(rec.CampaignID), store.CampaignStatsKey(f.At, h.Location, rec.Variant), f.At, campaign); err != nil {
		slog.WarnContext(ctx, "ses event not counted", "counters", "campaign", "campaign", rec.CampaignID, "error", err)
		campaign = nil
	}
	if f.Outcome == outcomeOpened || f.Outcome == outcomeClicked {
		return campaign
	}
	if err := h.Store.AddCounts(ctx, store.ShopStatsPartition, store.DayKey(f.At, h.Location), f.At, store.Counts{"email_" + f.Outcome: 1}); err != nil {
		slog.WarnContext(ctx, "ses event not counted", "counters", "shop", "error", err)
	}
	return campaign
}
