package campaign

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// TestCrossSellShowsProductReviews: the shipped cross-sell email shows,
// under a recommendation that names a product (crosssell.yaml
// reviews_of), the product's average rating and count and its best recent
// reviews from the aggregate, the customers' words escaped in HTML and as
// written in text; a product without reviews shows neither.
func TestCrossSellShowsProductReviews(t *testing.T) {
	set := ruleSet(t, map[string]string{"nudge": "trigger: order.created\nactions:\n" +
		"  - {type: coupon, name: 10%OFFクーポン, percent_off: 10, expires_in: 30d}\n  - {type: email, template: second-purchase-nudge}\n"})
	if !set.Templates["second-purchase-nudge"].UsesProductReviews {
		t.Fatal("the shipped cross-sell template is not marked as showing reviews")
	}
	ctx := context.Background()
	written := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		reviews []review.Review
		want    []string
		absent  []string
	}{
		{"reviews", []review.Review{
			{ID: "r-1", Rating: 5, Title: "香りが<b>違う</b>", Text: "渋みが少なく\n毎朝の一杯に", Author: "M.T.", Verified: true, Published: true, CreatedAt: written},
			{ID: "r-2", Rating: 2, Text: "薄い", Author: "K", Verified: true, Published: true, CreatedAt: written.AddDate(0, 0, 1)},
			{ID: "r-3", Rating: 5, Text: "未確認の購入者", Verified: false, Published: true, CreatedAt: written.AddDate(0, 0, 2)},
		}, []string{
			"html:★4.0", "html:（3件のレビュー）", "html:香りが&lt;b&gt;違う&lt;/b&gt;", "html:— M.T.さん", "html:渋みが少なく\n毎朝の一杯に",
			"text:羊羹に合う宇治煎茶（★4.0・3件のレビュー）", "text:★★★★★ 香りが<b>違う</b>", "text:「渋みが少なく\n毎朝の一杯に」（M.T.さん）",
		}, []string{"html:<b>違う", "html:薄い", "html:未確認の購入者", "text:薄い"}},
		{"none yet", nil, nil, []string{"html:件のレビュー", "html:<blockquote", "text:件のレビュー"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, st := newRunner(t, set)
			r.ProductReviews = st
			for _, rv := range tt.reviews {
				rv.Source, rv.SKU = review.SourceGeneric, "TEA-SENCHA"
				if _, err := st.CountReview(ctx, rv, written); err != nil {
					t.Fatal(err)
				}
			}
			p, o := buyer(t, "c-ugc")
			out, err := r.Run(ctx, Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o})
			if err != nil || statuses(out) != "nudge:coupon=issued nudge:email=sent" {
				t.Fatalf("run = %s, %v", statuses(out), err)
			}
			mails := testenv.SentEmails(t, p.Email)
			if len(mails) != 1 {
				t.Fatalf("%d emails", len(mails))
			}
			body := map[string]string{"html": mails[0].Body.HTML, "text": mails[0].Body.Text}
			for _, w := range tt.want {
				part, s, _ := strings.Cut(w, ":")
				if !strings.Contains(body[part], s) {
					t.Errorf("%s lacks %q:\n%s", part, s, body[part])
				}
			}
			for _, w := range tt.absent {
				part, s, _ := strings.Cut(w, ":")
				if strings.Contains(body[part], s) {
					t.Errorf("%s shows %q", part, s)
				}
			}
		})
	}
}
