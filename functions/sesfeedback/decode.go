package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// configurationSetTag is the tag SES puts on every event of mail sent
// through a configuration set, naming the set.
const configurationSetTag = "ses:configuration-set"

// errNotFeedback marks an event that is readable but none of tsunagu's
// business (another source, an event type it does not act on).
var errNotFeedback = errors.New("not a bounce, complaint, delivery, open or click")

// Engagement outcomes: what a recipient did with a message, as SES's open
// and click tracking reports it (beside the store's delivery outcomes).
const (
	outcomeOpened  = "opened"
	outcomeClicked = "clicked"
)

// sesEvent is the part of an SES event (the EventBridge detail) tsunagu reads.
type sesEvent struct {
	EventType string `json:"eventType"`
	Mail      struct {
		MessageID string              `json:"messageId"`
		Timestamp time.Time           `json:"timestamp"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string      `json:"bounceType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []recipient `json:"complainedRecipients"`
		Timestamp            time.Time   `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"delivery"`
	Open *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"open"`
	Click *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"click"`
}

// recipient is one address a bounce or complaint names.
type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// feedback is what one SES event asks of the store. decodeSESEvent returns
// it well formed: Outcome is one of the store's delivery outcomes or an
// engagement outcome (outcomeOpened, outcomeClicked),
// MessageID is set, At is not zero, and a bounce or complaint names at
// least one recipient, each a distinct trimmed address with an @ and no
// spaces.
type feedback struct {
	Outcome    string
	Recipients []string // whom to suppress or count (bounces and complaints)
	MessageID  string   // SES's message id
	MessageKey string   // tsunagu's message log key; "" when the mail carries none
	ConfigSet  string   // the configuration set the mail went through; "" when none
	Campaign   string
	At         time.Time // when SES saw it happen
}

// decodeSESEvent reads an SES sending event as EventBridge delivers it. It
// returns an error wrapping errNotFeedback for an event tsunagu does not act
// on, and another error for one that cannot be acted on (unreadable or
// missing what the outcome needs).
func decodeSESEvent(ev events.CloudWatchEvent) (feedback, error) {
	if ev.Source != "aws.ses" {
		return feedback{}, fmt.Errorf("decode ses event: source %q: %w", ev.Source, errNotFeedback)
	}
	var e sesEvent
	if err := json.Unmarshal(ev.Detail, &e); err != nil {
		// A time's parse error quotes the value, which could be anything:
		// keep it out of the message, which is logged.
		if _, ok := errors.AsType[*time.ParseError](err); ok {
			return feedback{}, errors.New("decode ses event: a timestamp is not RFC 3339")
		}
		return feedback{}, fmt.Errorf("decode ses event: %w", err)
	}
	f := feedback{
		MessageID:  e.Mail.MessageID,
		MessageKey: only(e.Mail.Tags["message_key"]),
		ConfigSet:  only(e.Mail.Tags[configurationSetTag]),
		Campaign:   only(e.Mail.Tags["campaign"]),
	}
	var at time.Time
	var recipients []recipient
	switch e.EventType {
	case "Bounce":
		if e.Bounce == nil {
			return feedback{}, errors.New("decode ses event: bounce without a bounce object")
		}
		// Transient and Undetermined bounces are not proof the address is
		// gone: they are counted, not suppressed.
		f.Outcome = store.DeliverySoftBounced
		if e.Bounce.BounceType == "Permanent" {
			f.Outcome = store.DeliveryBounced
		}
		at, recipients = e.Bounce.Timestamp, e.Bounce.BouncedRecipients
	case "Complaint":
		if e.Complaint == nil {
			return feedback{}, errors.New("decode ses event: complaint without a complaint object")
		}
		f.Outcome, at, recipients = store.DeliveryComplained, e.Complaint.Timestamp, e.Complaint.ComplainedRecipients
	case "Delivery":
		f.Outcome = store.DeliveryDelivered
		if e.Delivery != nil {
			at = e.Delivery.Timestamp
		}
	case "Open":
		f.Outcome = outcomeOpened
		if e.Open != nil {
			at = e.Open.Timestamp
		}
	case "Click":
		f.Outcome = outcomeClicked
		if e.Click != nil {
			at = e.Click.Timestamp
		}
	default:
		return feedback{}, fmt.Errorf("decode ses event: event type %q: %w", e.EventType, errNotFeedback)
	}
	if f.MessageID == "" {
		return feedback{}, errors.New("decode ses event: mail.messageId is missing")
	}
	if f.Outcome == store.DeliveryBounced || f.Outcome == store.DeliverySoftBounced || f.Outcome == store.DeliveryComplained {
		seen := map[string]bool{}
		for _, r := range recipients {
			a := strings.TrimSpace(r.EmailAddress)
			if !plausibleAddress(a) || seen[pseudonym.NormalizeAddress(a)] {
				continue
			}
			seen[pseudonym.NormalizeAddress(a)] = true
			f.Recipients = append(f.Recipients, a)
		}
		if len(f.Recipients) == 0 {
			return feedback{}, fmt.Errorf("decode ses event: %s names no recipient address", strings.ToLower(e.EventType))
		}
	}
	// When SES saw it; else when the mail was sent; else when EventBridge
	// got the event.
	for _, t := range []time.Time{at, e.Mail.Timestamp, ev.Time} {
		if !t.IsZero() {
			f.At = t.UTC()
			break
		}
	}
	if f.At.IsZero() {
		return feedback{}, errors.New("decode ses event: no timestamp")
	}
	return f, nil
}

// plausibleAddress reports whether a can be an email address: an @ with
// something on both sides, no spaces or control characters, and no longer
// than SMTP allows.
func plausibleAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || len(a) > 254 {
		return false
	}
	return !strings.ContainsFunc(a, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar })
}

// only returns a tag's value when it has exactly one.
func only(v []string) string {
	if len(v) != 1 {
		return ""
	}
	return v[0]
}
