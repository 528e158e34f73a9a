package campaign

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// sendEmail renders, claims, sends and records one email.
func (r *Runner) sendEmail(ctx context.Context, t Trigger, d Decision, i int, a rules.Action, coupon *store.Coupon, extra func(*rules.MessageData)) (Outcome, error) {
	c := d.Campaign
	rec := store.MessageRecord{Key: MessageKey(c.ID, i, t.Key, t.Profile.ID), CampaignID: c.ID, Variant: d.Variant, Channel: "email", CustomerID: t.Profile.ID}
	o := Outcome{Campaign: c.ID, Variant: d.Variant, Channel: "email"}
	switch {
	case t.Profile.Email == "":
		o.Status, o.Reason = string(store.MessageSkipped), string(NoAddress)
		return o, r.Store.RecordSkipped(ctx, rec, string(NoAddress), t.At)
	case !t.Profile.Reachable("email"):
		o.Status, o.Reason = string(store.MessageSkipped), string(Unsubscribed)
		return o, r.Store.RecordSkipped(ctx, rec, string(Unsubscribed), t.At)
	case c.Kind == rules.Marketing && !t.Profile.MarketingAllowed():
		// The campaign's LINE consent let it through; email has none.
		o.Status, o.Reason = string(store.MessageSkipped), string(NoConsent)
		return o, r.Store.RecordSkipped(ctx, rec, string(NoConsent), t.At)
	}
	if c.Kind == rules.Marketing {
		// An address that hard-bounced or complained gets no marketing.
		sup, err := r.Store.SuppressionOf(ctx, t.Profile.Email)
		if err != nil {
			return o, err
		}
		if sup.Suppressed {
			o.Status, o.Reason = string(store.MessageSkipped), ReasonSuppressed
			return o, r.Store.RecordSkipped(ctx, rec, ReasonSuppressed, t.At)
		}
	}
	data := r.messageData(t, coupon, nil, "email")
	if extra != nil {
		extra(&data) // the action's own: the products to review, the survey
	}
	if err := r.pointsData(ctx, t, d, a, &data); err != nil {
		return o, err
	}
	if err := r.reviewsData(ctx, a, &data); err != nil {
		return o, err
	}
	data = r.measured(data, rec, t.At)
	rendered, err := r.Rules.Templates[a.Template].Render(data)
	if err != nil {
		// One customer's data broke the template: skip this message,
		// record why, and let the rest go on.
		slog.WarnContext(ctx, "message render failed", "campaign", c.ID, "template", a.Template, "error", err)
		o.Status, o.Reason = string(store.MessageSkipped), ReasonRenderFailed
		return o, r.Store.RecordSkipped(ctx, rec, ReasonRenderFailed, t.At)
	}
	msg := email.Message{
		To: t.Profile.Email, Subject: rendered.Subject, HTML: rendered.HTML, Text: rendered.Text, Campaign: c.ID, Key: rec.Key,
		Headers: []email.Header{
			{Name: "List-Unsubscribe", Value: "<" + data.UnsubscribeURL + ">"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		},
	}
	claimed, existing, err := r.Store.ClaimMessage(ctx, rec, t.At)
	if err != nil || !claimed {
		return alreadyHandled(o, existing), err
	}
	rec.ClaimedAt = t.At.UTC()
	id, sendErr := r.Mailer.Send(ctx, msg)
	return r.settle(ctx, o, rec, id, sendErr, t.At)
}

// sendLine renders a LINE message (text, then a carousel of recommended
// products and a coupon card when there are any) and pushes it with a
// retry key derived from the message key, so a retry never delivers twice.
// Without a LINE user, once unfollowed, over the campaign's monthly budget
// or LINE's quota, it records why (and a line_or_email campaign's email
// goes instead).
func (r *Runner) sendLine(ctx context.Context, t Trigger, d Decision, i int, a rules.Action, coupon *store.Coupon, extra func(*line.Content)) (Outcome, error) {
	c := d.Campaign
	rec := store.MessageRecord{Key: MessageKey(c.ID, i, t.Key, t.Profile.ID), CampaignID: c.ID, Variant: d.Variant, Channel: "line", CustomerID: t.Profile.ID}
	o := Outcome{Campaign: c.ID, Variant: d.Variant, Channel: "line"}
	skip := func(reason string) (Outcome, error) {
		o.Status, o.Reason = string(store.MessageSkipped), reason
		return o, r.Store.RecordSkipped(ctx, rec, reason, t.At)
	}
	switch {
	case t.Profile.LineUserID == "":
		return skip(string(NoAddress))
	case !t.Profile.Reachable("line"):
		return skip(string(Unsubscribed))
	case c.Kind == rules.Marketing && !t.Profile.LineConsented():
		return skip(string(NoConsent))
	case c.LineOrEmail && t.Profile.LineFollowedAt.IsZero():
		// "LINE if linked and following": not known to follow, so email.
		return skip(ReasonLineNotFollowing)
	}
	data := r.messageData(t, coupon, nil, "line")
	if err := r.pointsData(ctx, t, d, a, &data); err != nil {
		return o, err
	}
	if err := r.reviewsData(ctx, a, &data); err != nil {
		return o, err
	}
	data = r.measured(data, rec, t.At)
	text, err := r.Rules.Templates[a.Template].RenderLine(data)
	var msgs []messaging_api.MessageInterface
	if err == nil {
		content := line.Content{Text: text, Products: line.Recommendations(data.Recommendations), Coupon: data.Coupon,
			Shop: r.Rules.Settings.Shop, Location: r.Rules.Settings.Location, Link: data.Link}
		if extra != nil {
			extra(&content) // the action's own: a survey's quick-reply scores
		}
		msgs, err = line.Messages(content)
	}
	if err != nil {
		slog.WarnContext(ctx, "message render failed", "campaign", c.ID, "template", a.Template, "error", err)
		return skip(ReasonRenderFailed)
	}
	claimed, existing, err := r.Store.ClaimMessage(ctx, rec, t.At)
	if err != nil || !claimed {
		return alreadyHandled(o, existing), err
	}
	rec.ClaimedAt = t.At.UTC()
	month := t.At.In(r.Rules.Settings.Location).Format("2006-01")
	if c.LineBudget > 0 {
		ok, err := r.Store.ReserveLineBudget(ctx, c.ID, month, c.LineBudget, rec.Key)
		if err != nil {
			return o, errors.Join(err, r.release(ctx, rec, t.At))
		}
		if !ok {
			o.Status, o.Reason = string(store.MessageSkipped), ReasonLineBudget
			return o, r.Store.FinishMessage(ctx, rec, store.MessageSkipped, ReasonLineBudget, "", t.At)
		}
	}
	res, sendErr := r.Line.Push(ctx, t.Profile.LineUserID, msgs, line.RetryKey(rec.Key))
	dryRun := sendErr == nil && res.DryRun
	if c.LineBudget > 0 && (dryRun || errors.Is(sendErr, line.ErrQuotaExceeded) || errors.Is(sendErr, line.ErrRejected)) {
		// LINE took nothing (or was never asked): the place goes back to
		// the campaign's budget.
		// Failing to give it back only means sending less.
		if _, err := r.Store.ReleaseLineBudget(ctx, c.ID, month, rec.Key); err != nil {
			slog.WarnContext(ctx, "line budget place not given back", "campaign", c.ID, "error", err)
		}
	}
	if dryRun {
		o.Status = StatusDryRun
		return o, r.Store.FinishMessage(ctx, rec, store.MessageDryRun, "line_not_configured", "", t.At)
	}
	return r.settle(ctx, o, rec, res.RequestID, sendErr, t.At)
}

// measured is the data of a message sent with measurement (Clicks set):
// every link goes through the message's tracked redirect, and an email's
// unsubscribe link names the message, so its unsubscribe counts against
// the campaign. The unsubscribe link (body and List-Unsubscribe headers)
// stays a direct link to the API, as RFC 8058 wants.
func (r *Runner) measured(data rules.MessageData, rec store.MessageRecord, sentAt time.Time) rules.MessageData {
	if r.Clicks == nil {
		return data
	}
	if rec.Channel == "email" {
		data.UnsubscribeURL = r.Unsubscribe.RecipientURL(r.PublicURL, unsubscribe.Recipient{
			CustomerID: rec.CustomerID, Channel: rec.Channel, MessageKey: rec.Key, CampaignID: rec.CampaignID, Variant: rec.Variant})
	}
	return data.WithLinks(r.Clicks.Tracker(clicks.Message{Key: rec.Key, CampaignID: rec.CampaignID, Variant: rec.Variant, CustomerID: rec.CustomerID, SentAt: sentAt.UTC()}))
}
