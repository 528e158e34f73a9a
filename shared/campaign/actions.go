package campaign

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

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
			// A replenishment's product and a points expiry warning's
			// expiry, for the audience and message when the wait is over.
			SKU: t.SKU, ExpiresAt: t.PointsExpireAt,
		})
		due := d.DueAt
		base.DueAt = &due
		return []Outcome{base}, err
	case d.Recorded():
		rec := store.MessageRecord{Key: MessageKey(c.ID, 0, t.Key, t.Profile.ID), CampaignID: c.ID, Variant: d.Variant, Channel: channelOf(firstMessage(d.Actions)), CustomerID: t.Profile.ID}
		reason := string(d.Verdict)
		if d.Verdict == HeldOut && c.Kind == rules.Marketing {
			// A held-out customer is recorded as "would have received",
			// at the same decision point as the treatment.
			rec.Group = store.GroupHoldout
			if d.Reason == ReasonGlobalControl {
				rec.Group, reason = store.GroupControl, ReasonGlobalControl
			}
		}
		first, err := r.Store.RecordDecision(ctx, rec, store.MessageSkipped, reason, t.At)
		if first && rec.Group != "" {
			countAssignment(ctx, rec, t.At)
		}
		return []Outcome{base}, err
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
			rec := store.MessageRecord{Key: MessageKey(c.ID, 0, t.Key, t.Profile.ID), CampaignID: c.ID, Variant: d.Variant, Channel: channelOf(firstMessage(d.Actions)), CustomerID: t.Profile.ID}
			base.Status, base.Reason = string(Capped), reason
			return []Outcome{base}, r.Store.RecordSkipped(ctx, rec, string(Capped), t.At)
		}
		// The treatment assignment: an entry of its own in the message log
		// (the reservation's key), which the customer's orders convert.
		assigned := store.MessageRecord{Key: reservationKey(c.ID, t), CampaignID: c.ID, Variant: d.Variant, Channel: channelOf(firstMessage(d.Actions)),
			CustomerID: t.Profile.ID, Group: store.GroupTreatment}
		first, err := r.Store.RecordDecision(ctx, assigned, store.MessageAssigned, "", t.At)
		if err != nil {
			return nil, err
		}
		if first {
			countAssignment(ctx, assigned, t.At)
		}
	}
	var out []Outcome
	coupon, lineDelivered := t.Coupon, false
	d.Awarded = t.PointsGiven
	for _, i := range actionOrder(c, d.Actions) {
		a := d.Actions[i]
		o := Outcome{Campaign: c.ID, Variant: d.Variant}
		var err error
		switch a.Type {
		case rules.ActionCoupon:
			coupon, err = r.issueCoupon(ctx, t, d, a)
			o.Channel, o.Status = "coupon", StatusIssued
		case rules.ActionPoints:
			o, err = r.givePoints(ctx, t, d, i, a)
			d.Awarded += a.Points
		case rules.ActionEmail:
			if c.LineOrEmail && lineDelivered {
				continue // reached on LINE; no email as well
			}
			o, err = r.sendEmail(ctx, t, d, i, a, coupon, nil)
		case rules.ActionReviewRequest:
			o, err = r.requestReviews(ctx, t, d, i, a, coupon)
		case rules.ActionSurvey:
			o, err = r.askSurvey(ctx, t, d, i, a, coupon)
		case rules.ActionLine:
			o, err = r.sendLine(ctx, t, d, i, a, coupon, nil)
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

func (r *Runner) issueCoupon(ctx context.Context, t Trigger, d Decision, a rules.Action) (*store.Coupon, error) {
	spec, c := a.Coupon, d.Campaign
	cp, first, err := r.Store.IssueCoupon(ctx, store.Coupon{
		Code: r.Coupons.Code(c.ID, t.Key, t.Profile.ID), Campaign: c.ID, Variant: d.Variant, CustomerID: t.Profile.ID, TriggerKey: t.Key,
		Name: spec.Name, PercentOff: spec.PercentOff, AmountOff: spec.AmountOff, Currency: r.Rules.Settings.Shop.Currency,
		MinOrder: spec.MinOrder, IssuedAt: t.At.UTC(), ExpiresAt: t.At.Add(spec.ExpiresIn).UTC(),
	})
	if err != nil {
		return nil, err
	}
	if first {
		count(ctx, c.ID, d.Variant, t.At, "coupons_issued")
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
		ok, _, err := r.Store.ClaimReviewRequest(ctx, t.Profile.ID, it.SKU, key, t.At, it.OtherKeys()...)
		if err != nil {
			return Outcome{Campaign: d.Campaign.ID}, err
		}
		if ok {
			reviews = append(reviews, r.reviewLink(t, key, it))
		}
	}
	if len(reviews) == 0 {
		o := Outcome{Campaign: d.Campaign.ID, Variant: d.Variant, Channel: "email", Status: string(store.MessageSkipped), Reason: ReasonNothingToReview}
		rec := store.MessageRecord{Key: key, CampaignID: d.Campaign.ID, Variant: d.Variant, Channel: "email", CustomerID: t.Profile.ID}
		return o, r.Store.RecordSkipped(ctx, rec, ReasonNothingToReview, t.At)
	}
	return r.sendEmail(ctx, t, d, i, a, coupon, func(data *rules.MessageData) { data.Reviews = reviews })
}

// reviewLink is where a request sends the customer to review a product:
// the shop's review app (shop.review_url) or, without one, tsunagu's own
// form with a link per star rating.
func (r *Runner) reviewLink(t Trigger, messageKey string, it order.Item) rules.ReviewData {
	if u := r.Rules.Settings.Shop.ReviewURL; u != "" || r.ReviewForms == nil {
		return rules.ReviewData{Name: it.Name, URL: strings.ReplaceAll(u, "{sku}", url.PathEscape(it.SKU))}
	}
	link := r.ReviewForms.Link(review.FormAsk{MessageKey: messageKey, CustomerID: t.Profile.ID, OrderID: t.Order.ID, SKU: it.SKU, Name: it.Name, SentAt: t.At.UTC()})
	return rules.ReviewData{Name: it.Name, URL: link(0), Stars: rules.StarLinks(link)}
}

// askSurvey sends a survey with one-tap score links, unless the customer
// had one within surveys.min_interval (from any campaign, on any
// channel): the message claims the customer's survey of the interval
// first, and a retry of the same message keeps its claim.
func (r *Runner) askSurvey(ctx context.Context, t Trigger, d Decision, i int, a rules.Action, coupon *store.Coupon) (Outcome, error) {
	key := MessageKey(d.Campaign.ID, i, t.Key, t.Profile.ID)
	ok, err := r.Store.ClaimSurvey(ctx, t.Profile.ID, key, t.At, r.Rules.Settings.SurveyInterval)
	if err != nil {
		return Outcome{Campaign: d.Campaign.ID}, err
	}
	channel := channelOf(a)
	if !ok {
		o := Outcome{Campaign: d.Campaign.ID, Variant: d.Variant, Channel: channel, Status: string(store.MessageSkipped), Reason: ReasonSurveyThrottled}
		rec := store.MessageRecord{Key: key, CampaignID: d.Campaign.ID, Variant: d.Variant, Channel: channel, CustomerID: t.Profile.ID}
		return o, r.Store.RecordSkipped(ctx, rec, ReasonSurveyThrottled, t.At)
	}
	if channel == "line" {
		return r.sendLine(ctx, t, d, i, a, coupon, func(c *line.Content) { c.QuickReply = survey.QuickReply(a.Scale, key, t.Order.ID) })
	}
	ask := survey.Ask{MessageKey: key, CampaignID: d.Campaign.ID, CustomerID: t.Profile.ID, OrderID: t.Order.ID, Scale: a.Scale, SentAt: t.At.UTC()}
	return r.sendEmail(ctx, t, d, i, a, coupon, func(data *rules.MessageData) {
		data.Survey = rules.NewSurvey(a.Scale, r.Rules.Settings.Shop.Name, r.Surveys.Link(ask))
	})
}

// messageData is what templates see for this customer and trigger.
func (r *Runner) messageData(t Trigger, coupon *store.Coupon, reviews []rules.ReviewData, channel string) rules.MessageData {
	var justBought []string
	for _, it := range t.Order.Items {
		justBought = append(justBought, it.Category)
	}
	data := rules.MessageData{
		Shop:            r.Rules.Settings.Shop,
		Customer:        rules.CustomerData{Name: t.Profile.Name, Rank: r.rankName(t.Profile.Rank)},
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
	if r.Rules.Loyalty != nil {
		data.ReviewPoints = r.Rules.Loyalty.ReviewPoints
	}
	data.Referral.FriendDiscount, data.Referral.Reward = r.Rules.Offer()
	if r.Referrals != nil && data.Referral.Reward != "" && len(t.Profile.Orders) > 0 {
		// A customer who has ordered has a code, indexed by that order.
		data.Referral.Code = r.Referrals.Code(t.Profile.ID)
		data.Referral.Link = r.PublicURL + "/r/ref/" + data.Referral.Code
	}
	if coupon != nil {
		data.Coupon = &rules.CouponData{Code: coupon.Code, Name: coupon.Name, MinOrder: coupon.MinOrder, ExpiresAt: coupon.ExpiresAt,
			Discount: r.Rules.Discount(coupon.PercentOff, coupon.AmountOff)}
	}
	return data
}

// rankName is the name of the member rank with the given id; "" when the
// shop has no such rank.
func (r *Runner) rankName(id string) string {
	rk, _ := r.Rules.Ranks().Find(id)
	return rk.Name
}
