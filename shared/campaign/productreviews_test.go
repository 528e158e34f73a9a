package campaign

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/line"
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

// TestLineShowsProductReviews: a LINE message quotes the reviews as
// written (plain text, never HTML-escaped), from the same aggregate.
func TestLineShowsProductReviews(t *testing.T) {
	set := ruleSetFiles(t, map[string]string{
		rules.CampaignsDir + "/note.yaml": "id: note\nname: note\ntrigger: order.created\nkind: transactional\nactions:\n  - {type: line, template: ugc}\n",
		"templates/ugc/line.txt": "{{range .Recommendations}}{{.Title}}{{if .RatingCount}} ★{{printf \"%.1f\" .Rating}}（{{.RatingCount}}件）{{end}}\n" +
			"{{range .Reviews}}{{.Stars}} {{.Text}}（{{.Author}}さん）\n{{end}}{{end}}",
	})
	r, st := newRunner(t, set)
	r.ProductReviews = st
	api := lineapi.NewServer(t)
	client, err := line.New(lineapi.Token, line.WithEndpoint(api.URL))
	if err != nil {
		t.Fatal(err)
	}
	r.Line = client
	ctx := context.Background()
	rv := review.Review{Source: review.SourceGeneric, ID: "r-1", SKU: "TEA-SENCHA", Rating: 5, Text: "渋み<少なめ> & 香り\"良し\"", Author: "M&T",
		Verified: true, Published: true, CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := st.CountReview(ctx, rv, rv.CreatedAt); err != nil {
		t.Fatal(err)
	}
	p, o := linked(t, "c-ugc-line")
	if out := runOnce(t, r, p, o, "order:"+o.ID+":order.created"); statuses(out) != "note:line=sent" {
		t.Fatalf("run = %s", statuses(out))
	}
	pushes := api.Requests(lineapi.PushPath)
	if len(pushes) != 1 {
		t.Fatalf("%d pushes", len(pushes))
	}
	var body struct {
		Messages []struct {
			Type, Text string
		}
	}
	if err := json.Unmarshal(pushes[0].Body, &body); err != nil || len(body.Messages) == 0 {
		t.Fatalf("push body %s: %v", pushes[0].Body, err)
	}
	want := "羊羹に合う宇治煎茶 ★5.0（1件）\n★★★★★ 渋み<少なめ> & 香り\"良し\"（M&Tさん）"
	if body.Messages[0].Type != "text" || !strings.Contains(body.Messages[0].Text, want) {
		t.Errorf("LINE text %q, want it to hold %q", body.Messages[0].Text, want)
	}
}
