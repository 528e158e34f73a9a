// Package campaign runs the marketer's campaigns for one trigger (an order
// event, a thank-you page view, a timer firing): it decides per campaign
// whether the customer gets the message (Decider), records every decision,
// and renders and sends what is due (Runner).
//
// Every message has a deterministic key (campaign, action, trigger
// occurrence, customer), claimed in the message log before it is sent, so a
// retried or duplicated trigger never sends twice.
package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/shared/customer"

	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the runner needs of the store.
type Store interface {
	ClaimMessage(ctx context.Context, rec store.MessageRecord, now time.Time) (bool, store.MessageRecord, error)
	FinishMessage(ctx context.Context, rec store.MessageRecord, status store.MessageStatus, reason, providerID string, now time.Time) error
	RecordSkipped(ctx context.Context, rec store.MessageRecord, reason string, now time.Time) error
	RecentSends(ctx context.Context, customerID string) ([]store.Send, error)
	ReserveSend(ctx context.Context, customerID string, send store.Send, keep time.Duration, check store.CapCheck) (string, error)
	ArmTimer(ctx context.Context, t store.Timer) (bool, error)
	FinishTimer(ctx context.Context, key, status string) (bool, error)
	IssueCoupon(ctx context.Context, c store.Coupon) (store.Coupon, error)
	ReserveLineBudget(ctx context.Context, campaignID, month string, budget int, messageKey string) (bool, error)
	ReleaseLineBudget(ctx context.Context, campaignID, month, messageKey string) (bool, error)
	ClaimReviewRequest(ctx context.Context, customerID, sku, messageKey string, at time.Time) (bool, string, error)
	SuppressionOf(ctx context.Context, email string) (store.Suppression, error)
}

// Mailer sends one rendered email.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// LineSender pushes LINE messages: the Messaging API, or a dry-run
// recorder when no channel token is configured.
type LineSender interface {
	Push(ctx context.Context, userID string, msgs []messaging_api.MessageInterface, retryKey string) (line.Result, error)
}

// UnsubscribeLinks makes a customer's unsubscribe link for a channel.
type UnsubscribeLinks interface {
	URL(baseURL, customerID, channel string) string
}

// CouponCodes derives the code of a campaign's coupon for one trigger
// occurrence and customer.
type CouponCodes interface {
	Code(campaignID, triggerKey, customerID string) string
}

// Runner runs campaigns. Its fields are set once at cold start.
type Runner struct {
	Decider
	Store       Store
	Mailer      Mailer
	Line        LineSender
	Unsubscribe UnsubscribeLinks
	Coupons     CouponCodes
	// PublicURL is the base URL of the HTTP API, for unsubscribe links.
	PublicURL string
	// RecommendationLimit caps cross-sell suggestions per message.
	RecommendationLimit int
}

// Outcome is what happened for one campaign or one of its actions.
type Outcome struct {
	Campaign string `json:"campaign"`
	Variant  string `json:"variant,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	// DueAt is when a waiting campaign goes on.
	DueAt *time.Time `json:"due_at,omitempty"`
}

// Outcome statuses besides the verdicts and the message log's statuses.
const (
	StatusAlreadySent = "already_sent"
	StatusInProgress  = "in_progress"
	StatusIssued      = "issued"
	StatusDryRun      = "dry_run"
)

// Decision reasons recorded in the message log besides the verdicts.
const (
	ReasonRenderFailed    = "render_failed"
	ReasonNothingToReview = "nothing_to_review"
	ReasonLineBudget      = "line_budget"
	ReasonLineQuota       = "line_quota"
	ReasonSuppressed      = "suppressed"
	// ReasonLineNotFollowing: a line_or_email campaign's customer is linked
	// to a LINE user not known to follow the shop's account.
	ReasonLineNotFollowing = "line_not_following"
)

// Run decides for every campaign the trigger concerns and carries the
// decisions out. It returns an outcome per campaign action. An error means a
// retryable failure (store or mail service down): the caller should fail so
// the trigger is retried; finished steps will not repeat.
func (r *Runner) Run(ctx context.Context, t Trigger) ([]Outcome, error) {
	var sent []store.Send
	if r.needsSends(t) {
		var err error
		if sent, err = r.Store.RecentSends(ctx, t.Profile.ID); err != nil {
			return nil, err
		}
	}
	var out []Outcome
	for _, d := range r.Decide(t, sent) {
		o, err := r.carryOut(ctx, t, d)
		out = append(out, o...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// needsSends reports whether any active marketing campaign listens to the
// trigger, so a trigger nobody listens to costs no read.
func (r *Runner) needsSends(t Trigger) bool {
	for _, c := range r.Rules.Campaigns {
		if c.Trigger == t.Event && c.Kind == rules.Marketing && c.IsActive(t.At) && (t.Campaign == "" || c.ID == t.Campaign) {
			return true
		}
	}
	return false
}

// CancelOrderTimers cancels the waits an order armed (delays and quiet
// hours of campaigns triggered by its events, and its replenishment
// reminders), when the order is cancelled. Their keys are deterministic, so
// no index is needed; only waits the rules can arm are tried (no delay
// timer for a campaign without a delay, no reminder for an item without a
// replenishment cycle). A wait armed under rules since changed is left to
// fire: at fire time the decider skips a cancelled order anyway.
func (r *Runner) CancelOrderTimers(ctx context.Context, o order.Order) error {
	cid := o.Customer.ID
	var keys []string
	for _, c := range r.Rules.Campaigns {
		switch {
		case c.Trigger == rules.TriggerReplenishment:
			for _, it := range o.Products() {
				if _, ok := r.Rules.Settings.Replenishment.Cycle(it.SKU, it.Category); ok {
					keys = append(keys, TimerKey(c.ID, replenishKey(o.ID, it.SKU), cid, "replenishment"))
				}
			}
		case strings.HasPrefix(string(c.Trigger), "order.") && c.Trigger != rules.TriggerOrderCancelled:
			reasons := []string{"quiet_hours"}
			if !c.Delay.IsZero() {
				reasons = append(reasons, "delay")
			}
			for _, reason := range reasons {
				keys = append(keys, TimerKey(c.ID, "order:"+o.ID+":"+string(c.Trigger), cid, reason))
			}
		}
	}
	for _, key := range keys {
		if _, err := r.Store.FinishTimer(ctx, key, store.TimerCancelled); err != nil {
			return err
		}
	}
	return nil
}

func replenishKey(orderID, sku string) string { return "replenish:" + orderID + ":" + sku }

// ArmLifecycle arms the lifecycle timers a customer's state calls for: a
// replenishment reminder per consumable in a new order (when it runs out),
// and the next birthday. Keys are deterministic, so arming again (a retried
// delivery, the next order) changes nothing.
func (r *Runner) ArmLifecycle(ctx context.Context, p customer.Profile, o order.Order, now time.Time) error {
	settings := r.Rules.Settings
	for _, c := range r.Rules.Campaigns {
		if !c.IsActive(now) {
			continue
		}
		switch c.Trigger {
		case rules.TriggerReplenishment:
			for _, it := range o.Products() {
				cycle, ok := settings.Replenishment.Cycle(it.SKU, it.Category)
				if !ok {
					continue
				}
				tk := replenishKey(o.ID, it.SKU)
				if _, err := r.Store.ArmTimer(ctx, store.Timer{Key: TimerKey(c.ID, tk, p.ID, "replenishment"), DueAt: o.PlacedAt.Add(cycle), Campaign: c.ID,
					CustomerID: p.ID, Trigger: string(c.Trigger), TriggerKey: tk, OrderID: o.ID, SKU: it.SKU, Reason: "replenishment"}); err != nil {
					return err
				}
			}
		case rules.TriggerBirthday:
			next, ok := p.NextBirthday(now, settings.Location)
			if !ok {
				continue
			}
			tk := "birthday:" + p.ID + ":" + next.In(settings.Location).Format("2006")
			if _, err := r.Store.ArmTimer(ctx, store.Timer{Key: TimerKey(c.ID, tk, p.ID, "birthday"), DueAt: next, Campaign: c.ID,
				CustomerID: p.ID, Trigger: string(c.Trigger), TriggerKey: tk, Reason: "birthday"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// MessageKey is the deterministic key of one campaign action for one
// trigger occurrence and customer.
func MessageKey(campaignID string, action int, triggerKey, customerID string) string {
	return hashKey(campaignID, fmt.Sprint(action), triggerKey, customerID)
}

// TimerKey is the deterministic key of a campaign's wait for one trigger
// occurrence and customer.
func TimerKey(campaignID, triggerKey, customerID, reason string) string {
	return hashKey("timer", campaignID, triggerKey, customerID, reason)
}

func hashKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func (r *Runner) carryOut(ctx context.Context, t Trigger, d Decision) ([]Outcome, error) {
	c := d.Campaign
	base := Outcome{Campaign: c.ID, Variant: d.Variant, Status: string(d.Verdict), Reason: d.Reason}
	switch {
	case d.Verdict == Inactive || d.Verdict == NotInAudience:
		return []Outcome{base}, nil
	case d.Verdict == Wait:
		reason := "delay"
		if d.Reason == "quiet_hours" {
			reason = "quiet_hours"
		}
		_, err := r.Store.ArmTimer(ctx, store.Timer{
			Key: TimerKey(c.ID, t.Key, t.Profile.ID, reason), DueAt: d.DueAt, Campaign: c.ID, CustomerID: t.Profile.ID,
			Trigger: string(t.Event), TriggerKey: t.Key, OrderID: t.Order.ID, Reason: reason,
		})
		due := d.DueAt
		base.DueAt = &due
		return []Outcome{base}, err
	case d.Recorded():
		rec := store.MessageRecord{Key: MessageKey(c.ID, 0, t.Key, t.Profile.ID), CampaignID: c.ID, Channel: channelOf(firstMessage(d.Actions)), CustomerID: t.Profile.ID}
		return []Outcome{base}, r.Store.RecordSkipped(ctx, rec, string(d.Verdict), t.At)
	}
	if c.Kind == rules.Marketing {
		// Count this campaign against the caps, atomically: a concurrent
		// trigger may have taken the last slot since Decide looked.
		reason, err := r.Store.ReserveSend(ctx, t.Profile.ID,
			store.Send{Key: reservationKey(c.ID, t), At: t.At, Campaign: c.ID, Channel: channelOf(firstMessage(d.Actions))},
			CapWindow(r.Rules), func(sent []store.Send) string { return CapReason(r.Rules, c, t.At, sent, "") })
		if err != nil {
			return nil, err
		}
		if reason != "" {
			rec := store.MessageRecord{Key: MessageKey(c.ID, 0, t.Key, t.Profile.ID), CampaignID: c.ID, Channel: channelOf(firstMessage(d.Actions)), CustomerID: t.Profile.ID}
			base.Status, base.Reason = string(Capped), reason
			return []Outcome{base}, r.Store.RecordSkipped(ctx, rec, string(Capped), t.At)
		}
	}
	var out []Outcome
	var coupon *store.Coupon
	lineDelivered := false
	for _, i := range actionOrder(c, d.Actions) {
		a := d.Actions[i]
		o := Outcome{Campaign: c.ID, Variant: d.Variant}
		var err error
		switch a.Type {
		case rules.ActionCoupon:
			coupon, err = r.issueCoupon(ctx, t, c, a)
			o.Channel, o.Status = "coupon", StatusIssued
		case rules.ActionEmail:
			if c.LineOrEmail && lineDelivered {
				continue // reached on LINE; no email as well
			}
			o, err = r.sendEmail(ctx, t, d, i, a, coupon, nil)
		case rules.ActionReviewRequest:
			o, err = r.requestReviews(ctx, t, d, i, a, coupon)
		case rules.ActionLine:
			o, err = r.sendLine(ctx, t, d, i, a, coupon)
			// Reached on LINE, or being reached by another attempt pushing
			// with the same retry key. A dry run reached nobody.
			lineDelivered = o.Status == string(store.MessageSent) || o.Status == StatusAlreadySent || o.Status == StatusInProgress
		}
		out = append(out, o)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// actionOrder is the order a decision's actions run in: as listed, except
// that a line_or_email campaign issues its coupons, then tries LINE, and
// only then decides on email, wherever the file lists them. The indexes
// are the listed positions, which name the messages.
func actionOrder(c *rules.Campaign, actions []rules.Action) []int {
	order := make([]int, len(actions))
	for i := range order {
		order[i] = i
	}
	if !c.LineOrEmail {
		return order
	}
	rank := func(a rules.Action) int {
		switch a.Type {
		case rules.ActionCoupon:
			return 0
		case rules.ActionLine:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(order, func(x, y int) int { return rank(actions[x]) - rank(actions[y]) })
	return order
}

func firstMessage(actions []rules.Action) rules.Action {
	for _, a := range actions {
		if a.Type != rules.ActionCoupon {
			return a
		}
	}
	return rules.Action{Type: rules.ActionEmail}
}

func (r *Runner) issueCoupon(ctx context.Context, t Trigger, c *rules.Campaign, a rules.Action) (*store.Coupon, error) {
	spec := a.Coupon
	cp, err := r.Store.IssueCoupon(ctx, store.Coupon{
		Code: r.Coupons.Code(c.ID, t.Key, t.Profile.ID), Campaign: c.ID, CustomerID: t.Profile.ID, TriggerKey: t.Key,
		Name: spec.Name, PercentOff: spec.PercentOff, AmountOff: spec.AmountOff, Currency: r.Rules.Settings.Shop.Currency,
		MinOrder: spec.MinOrder, IssuedAt: t.At.UTC(), ExpiresAt: t.At.Add(spec.ExpiresIn).UTC(),
	})
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

// requestReviews asks about the order's products the customer has neither
// reviewed nor been asked about in the last 12 months.
func (r *Runner) requestReviews(ctx context.Context, t Trigger, d Decision, i int, a rules.Action, coupon *store.Coupon) (Outcome, error) {
	key := MessageKey(d.Campaign.ID, i, t.Key, t.Profile.ID)
	var reviews []rules.ReviewData
	seen := map[string]bool{}
	for _, it := range t.Order.Products() {
		if seen[it.SKU] {
			continue
		}
		seen[it.SKU] = true
		ok, _, err := r.Store.ClaimReviewRequest(ctx, t.Profile.ID, it.SKU, key, t.At)
		if err != nil {
			return Outcome{Campaign: d.Campaign.ID}, err
		}
		if ok {
			reviews = append(reviews, rules.ReviewData{Name: it.Name, URL: strings.ReplaceAll(r.Rules.Settings.Shop.ReviewURL, "{sku}", url.PathEscape(it.SKU))})
		}
	}
	if len(reviews) == 0 {
		o := Outcome{Campaign: d.Campaign.ID, Variant: d.Variant, Channel: "email", Status: string(store.MessageSkipped), Reason: ReasonNothingToReview}
		rec := store.MessageRecord{Key: key, CampaignID: d.Campaign.ID, Channel: "email", CustomerID: t.Profile.ID}
		return o, r.Store.RecordSkipped(ctx, rec, ReasonNothingToReview, t.At)
	}
	return r.sendEmail(ctx, t, d, i, a, coupon, reviews)
}

// messageData is what templates see for this customer and trigger.
func (r *Runner) messageData(t Trigger, coupon *store.Coupon, reviews []rules.ReviewData, channel string) rules.MessageData {
	var justBought []string
	for _, it := range t.Order.Items {
		justBought = append(justBought, it.Category)
	}
	data := rules.MessageData{
		Shop:            r.Rules.Settings.Shop,
		Customer:        rules.CustomerData{Name: t.Profile.Name},
		Order:           rules.OrderData{ID: t.Order.ID, PlacedAt: t.Order.PlacedAt, Total: t.Order.Total, Currency: t.Order.Currency},
		Recommendations: r.Rules.Recommend(t.Profile.CategoryCounts, justBought, r.RecommendationLimit),
		Reviews:         reviews,
		UnsubscribeURL:  r.Unsubscribe.URL(r.PublicURL, t.Profile.ID, channel),
	}
	if data.Customer.Name == "" {
		data.Customer.Name = "お客"
	}
	for _, it := range t.Order.Items {
		data.Order.Items = append(data.Order.Items, rules.ItemData{Name: it.Name, Quantity: it.Quantity, Price: it.UnitPrice})
	}
	if coupon != nil {
		data.Coupon = &rules.CouponData{Code: coupon.Code, Name: coupon.Name, MinOrder: coupon.MinOrder, ExpiresAt: coupon.ExpiresAt,
			Discount: r.Rules.Discount(coupon.PercentOff, coupon.AmountOff)}
	}
	return data
}

// sendEmail renders, claims, sends and records one email.
func (r *Runner) sendEmail(ctx context.Context, t Trigger, d Decision, i int, a rules.Action, coupon *store.Coupon, reviews []rules.ReviewData) (Outcome, error) {
	c := d.Campaign
	rec := store.MessageRecord{Key: MessageKey(c.ID, i, t.Key, t.Profile.ID), CampaignID: c.ID, Channel: "email", CustomerID: t.Profile.ID}
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
	data := r.messageData(t, coupon, reviews, "email")
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

// settle records how the send of a claimed message ended: sent, with the
// provider's id; skipped for the LINE plan's quota; rejected by the
// provider, not to be retried; or anything else, retryable: the claim is
// released so the retry sends it again with the same key.
func (r *Runner) settle(ctx context.Context, o Outcome, rec store.MessageRecord, providerID string, sendErr error, at time.Time) (Outcome, error) {
	switch {
	case sendErr == nil:
		o.Status = string(store.MessageSent)
		return o, r.Store.FinishMessage(ctx, rec, store.MessageSent, "", providerID, at)
	case errors.Is(sendErr, line.ErrQuotaExceeded):
		o.Status, o.Reason = string(store.MessageSkipped), ReasonLineQuota
		return o, r.Store.FinishMessage(ctx, rec, store.MessageSkipped, ReasonLineQuota, "", at)
	case errors.Is(sendErr, email.ErrRejected), errors.Is(sendErr, line.ErrRejected):
		slog.WarnContext(ctx, "message rejected by the provider", "campaign", rec.CampaignID, "channel", rec.Channel, "error", sendErr)
		o.Status, o.Reason = string(store.MessageRejected), "rejected_by_provider"
		return o, r.Store.FinishMessage(ctx, rec, store.MessageRejected, o.Reason, "", at)
	}
	if err := r.release(ctx, rec, at); err != nil {
		return o, errors.Join(sendErr, err)
	}
	return o, sendErr
}

// releaseAttempts bounds how often a claim is released before giving up.
const releaseAttempts = 6

// release records that a claimed message was not sent and may be tried
// again. It insists, backing off (up to about 6 s in all), because a claim
// left behind when the store is briefly away would block the message for
// good: nobody can tell it from a message sent whose record was lost.
func (r *Runner) release(ctx context.Context, rec store.MessageRecord, at time.Time) error {
	var err error
	for attempt := range releaseAttempts {
		if err = r.Store.FinishMessage(ctx, rec, store.MessageFailed, "transport_error", "", at); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		}
	}
	return err
}

// sendLine renders a LINE message (text, then a carousel of recommended
// products and a coupon card when there are any) and pushes it with a
// retry key derived from the message key, so a retry never delivers twice.
// Without a LINE user, once unfollowed, over the campaign's monthly budget
// or LINE's quota, it records why (and a line_or_email campaign's email
// goes instead).
func (r *Runner) sendLine(ctx context.Context, t Trigger, d Decision, i int, a rules.Action, coupon *store.Coupon) (Outcome, error) {
	c := d.Campaign
	rec := store.MessageRecord{Key: MessageKey(c.ID, i, t.Key, t.Profile.ID), CampaignID: c.ID, Channel: "line", CustomerID: t.Profile.ID}
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
	text, err := r.Rules.Templates[a.Template].RenderLine(data)
	var msgs []messaging_api.MessageInterface
	if err == nil {
		msgs, err = line.Messages(line.Content{Text: text, Products: line.Recommendations(data.Recommendations), Coupon: data.Coupon,
			Shop: r.Rules.Settings.Shop, Location: r.Rules.Settings.Location})
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

// alreadyHandled reports a message another attempt claimed first.
func alreadyHandled(o Outcome, existing store.MessageRecord) Outcome {
	switch existing.Status {
	case store.MessageSent:
		o.Status = StatusAlreadySent
	case store.MessageSending:
		o.Status = StatusInProgress
	default:
		o.Status, o.Reason = string(existing.Status), existing.Reason
	}
	return o
}
