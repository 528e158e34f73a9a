package campaign

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// PreviewMessage is one message a campaign would send, rendered.
type PreviewMessage struct {
	Variant string
	Channel string // "email" or "line"
	rules.Rendered
	Line string
}

// Preview renders every message action of every variant of a campaign for
// a trigger, as it would be sent, without deciding, storing or sending
// anything. Coupons show the code they would get; review requests ask about
// every product of the order; points merge fields show the sample
// figures of rules.SampleData (a preview reads no ledger), with the points
// the campaign's points actions would give, and recommended products
// (reviews_of) its sample rating and reviews (a preview reads no
// aggregate).
func (r *Runner) Preview(t Trigger, campaignID string) ([]PreviewMessage, error) {
	c := r.Rules.Campaign(campaignID)
	if c == nil {
		return nil, fmt.Errorf("preview: no campaign %q in the rules", campaignID)
	}
	var out []PreviewMessage
	for _, v := range c.Variants {
		var coupon *store.Coupon
		var awarded int64
		for _, a := range v.Actions {
			var reviews []rules.ReviewData
			switch a.Type {
			case rules.ActionPoints:
				awarded += a.Points
				continue
			case rules.ActionCoupon:
				coupon = &store.Coupon{Code: r.Coupons.Code(c.ID, t.Key, t.Profile.ID), Name: a.Coupon.Name, PercentOff: a.Coupon.PercentOff,
					AmountOff: a.Coupon.AmountOff, MinOrder: a.Coupon.MinOrder, ExpiresAt: t.At.Add(a.Coupon.ExpiresIn)}
				continue
			case rules.ActionReviewRequest:
				for _, it := range t.Order.Items {
					reviews = append(reviews, rules.ReviewData{Name: it.Name, URL: strings.ReplaceAll(r.Rules.Settings.Shop.ReviewURL, "{sku}", url.PathEscape(it.SKU))})
				}
			}
			tpl := r.Rules.Templates[a.Template]
			m := PreviewMessage{Variant: v.Name, Channel: channelOf(a)}
			var err error
			data := r.messageData(t, coupon, reviews, channelOf(a))
			if tpl.UsesPoints {
				data.Points = rules.SampleData(r.Rules.Settings).Points
			}
			if tpl.UsesProductReviews {
				sampleReviews(r.Rules.Settings, data.Recommendations)
			}
			data.Points.Awarded = awarded
			if a.OnLine() {
				m.Line, err = tpl.RenderLine(data)
			} else {
				if a.Type == rules.ActionSurvey {
					data.Survey = rules.NewSurvey(a.Scale, r.Rules.Settings.Shop.Name, func(n int) string {
						return fmt.Sprintf("%s/survey/preview?score=%d", r.PublicURL, n)
					})
				}
				m.Rendered, err = tpl.Render(data)
			}
			if err != nil {
				return nil, fmt.Errorf("preview %s: %w", c.ID, err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// sampleReviews gives the recommendations that name a product the sample
// rating and reviews of rules.SampleData.
func sampleReviews(s rules.Settings, recs []rules.Recommendation) {
	sample := rules.SampleData(s).Recommendations[0]
	for i := range recs {
		if recs[i].SKU != "" {
			recs[i].Rating, recs[i].RatingCount, recs[i].Reviews = sample.Rating, sample.RatingCount, sample.Reviews
		}
	}
}
