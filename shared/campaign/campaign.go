// Package campaign runs the marketer's campaigns for one trigger (an order
// event, later a page view or a timer): it decides per campaign whether the
// customer gets the message, records every decision, renders and sends.
//
// Every message has a deterministic key (campaign, action, trigger,
// customer), claimed in the message log before it is sent, so a retried or
// duplicated trigger never sends twice.
package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Log is the message log the runner claims and records messages in.
type Log interface {
	ClaimMessage(ctx context.Context, rec store.MessageRecord, now time.Time) (bool, store.MessageRecord, error)
	FinishMessage(ctx context.Context, rec store.MessageRecord, status store.MessageStatus, reason, providerID string, now time.Time) error
	RecordSkipped(ctx context.Context, rec store.MessageRecord, reason string, now time.Time) error
}

// Mailer sends one rendered email.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// UnsubscribeLinks makes a customer's unsubscribe link for a channel.
type UnsubscribeLinks interface {
	URL(baseURL, customerID, channel string) string
}

// Runner runs campaigns. Its fields are set once at cold start.
type Runner struct {
	Rules       *rules.Set
	Log         Log
	Mailer      Mailer
	Unsubscribe UnsubscribeLinks
	// PublicURL is the base URL of the HTTP API, for unsubscribe links.
	PublicURL string
	// RecommendationLimit caps cross-sell suggestions per message.
	RecommendationLimit int
}

// Trigger is one occasion to run campaigns for a customer.
type Trigger struct {
	// Event is the trigger name campaigns subscribe to ("order.created").
	Event string
	// Key identifies this occurrence, so the same occurrence seen twice
	// makes the same message keys ("order:1001:order.created").
	Key     string
	At      time.Time
	Profile customer.Profile
	Order   order.Order
}

// Outcome is what happened for one campaign action.
type Outcome struct {
	Campaign string `json:"campaign"`
	Channel  string `json:"channel,omitempty"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
}

// Outcome statuses besides the message log's own (sent, skipped, rejected).
const (
	StatusNotInAudience = "not_in_audience"
	StatusAlreadySent   = "already_sent"
	StatusInProgress    = "in_progress"
)

// Decision reasons recorded in the message log for skipped messages.
const (
	ReasonNoConsent    = "no_consent"
	ReasonNoAddress    = "no_address"
	ReasonRenderFailed = "render_failed"
)

// Run evaluates every enabled campaign for the trigger, highest priority
// first, and sends what is due. It returns the outcome of each action. An
// error means a retryable failure (store or transport down): the caller
// should fail so the trigger is retried; finished messages will not repeat.
func (r *Runner) Run(ctx context.Context, t Trigger) ([]Outcome, error) {
	var out []Outcome
	var env *rules.Env
	for _, c := range r.Rules.Campaigns {
		if !c.Enabled || string(c.Trigger) != t.Event {
			continue
		}
		if env == nil {
			e := rules.NewEnv(t.Event, t.Profile, t.Order, r.Rules.Settings.Thresholds, t.At)
			env = &e
		}
		in, err := c.InAudience(*env)
		if err != nil {
			// An expression that fails at run time for this customer skips
			// the campaign for them; the rest go on.
			slog.WarnContext(ctx, "audience evaluation failed", "campaign", c.ID, "error", err)
			out = append(out, Outcome{Campaign: c.ID, Status: string(store.MessageSkipped), Reason: "audience_error"})
			continue
		}
		if !in {
			out = append(out, Outcome{Campaign: c.ID, Status: StatusNotInAudience})
			continue
		}
		for i, a := range c.Actions {
			o, err := r.runAction(ctx, t, c, i, a, env)
			if err != nil {
				return out, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// MessageKey is the deterministic key of one campaign action for one
// trigger occurrence and customer.
func MessageKey(campaignID string, action int, triggerKey, customerID string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%s\x00%s", campaignID, action, triggerKey, customerID)))
	return hex.EncodeToString(sum[:16])
}

func (r *Runner) runAction(ctx context.Context, t Trigger, c *rules.Campaign, i int, a rules.Action, env *rules.Env) (Outcome, error) {
	rec := store.MessageRecord{Key: MessageKey(c.ID, i, t.Key, t.Profile.ID), CampaignID: c.ID, Channel: a.Type, CustomerID: t.Profile.ID}
	o := Outcome{Campaign: c.ID, Channel: a.Type}
	skip := func(reason string) (Outcome, error) {
		if err := r.Log.RecordSkipped(ctx, rec, reason, t.At); err != nil {
			return o, err
		}
		o.Status, o.Reason = string(store.MessageSkipped), reason
		return o, nil
	}
	switch {
	case c.Kind == rules.Marketing && t.Profile.Consent.State != order.ConsentGranted:
		return skip(ReasonNoConsent)
	case t.Profile.Email == "":
		return skip(ReasonNoAddress)
	}
	msg, err := r.renderEmail(t, c, a, env)
	if err != nil {
		slog.WarnContext(ctx, "message render failed", "campaign", c.ID, "template", a.Template, "error", err)
		return skip(ReasonRenderFailed)
	}
	claimed, existing, err := r.Log.ClaimMessage(ctx, rec, t.At)
	if err != nil {
		return o, err
	}
	if !claimed {
		o.Status = StatusAlreadySent
		if existing.Status == store.MessageSending {
			o.Status = StatusInProgress
		} else if existing.Status != store.MessageSent {
			o.Status, o.Reason = string(existing.Status), existing.Reason
		}
		return o, nil
	}
	rec.ClaimedAt = t.At.UTC()
	id, sendErr := r.Mailer.Send(ctx, msg)
	switch {
	case sendErr == nil:
		o.Status = string(store.MessageSent)
		return o, r.Log.FinishMessage(ctx, rec, store.MessageSent, "", id, t.At)
	case errors.Is(sendErr, email.ErrRejected):
		slog.WarnContext(ctx, "email rejected", "campaign", c.ID, "error", sendErr)
		o.Status, o.Reason = string(store.MessageRejected), "rejected_by_provider"
		return o, r.Log.FinishMessage(ctx, rec, store.MessageRejected, o.Reason, "", t.At)
	}
	// Retryable: release the claim so the retry can send it.
	if err := r.Log.FinishMessage(ctx, rec, store.MessageFailed, "transport_error", "", t.At); err != nil {
		return o, errors.Join(sendErr, err)
	}
	return o, sendErr
}

// renderEmail renders the action's template for this customer and order and
// adds the one-click unsubscribe headers (RFC 8058).
func (r *Runner) renderEmail(t Trigger, c *rules.Campaign, a rules.Action, env *rules.Env) (email.Message, error) {
	tpl := r.Rules.Templates[a.Template]
	if tpl == nil {
		return email.Message{}, fmt.Errorf("template %q is not loaded", a.Template)
	}
	unsub := r.Unsubscribe.URL(r.PublicURL, t.Profile.ID, "email")
	data := rules.MessageData{
		Shop:            r.Rules.Settings.Shop,
		Customer:        rules.CustomerData{Name: t.Profile.Name},
		Order:           rules.OrderData{ID: t.Order.ID, PlacedAt: t.Order.PlacedAt, Total: t.Order.Total, Currency: t.Order.Currency},
		Recommendations: r.Rules.Recommend(t.Profile.CategoryCounts, env.Order.Categories, r.RecommendationLimit),
		UnsubscribeURL:  unsub,
	}
	for _, it := range t.Order.Items {
		data.Order.Items = append(data.Order.Items, rules.ItemData{Name: it.Name, Quantity: it.Quantity, Price: it.UnitPrice})
	}
	if data.Customer.Name == "" {
		data.Customer.Name = "お客"
	}
	rendered, err := tpl.Render(data)
	if err != nil {
		return email.Message{}, err
	}
	return email.Message{
		To: t.Profile.Email, Subject: rendered.Subject, HTML: rendered.HTML, Text: rendered.Text, Campaign: c.ID,
		Headers: []email.Header{
			{Name: "List-Unsubscribe", Value: "<" + unsub + ">"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		},
	}, nil
}
