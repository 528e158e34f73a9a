package campaign

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newRunner(t *testing.T, set *rules.Set) (*Runner, *store.Store) {
	t.Helper()
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	mailer, err := email.NewSender(testenv.SES(), set.Settings.FromName, "shop@tsubaki-chaen.example.jp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := unsubscribe.NewSealer("dev-secret")
	coder, _ := coupon.NewCoder("dev-secret")
	return &Runner{Decider: Decider{Rules: set, Deciles: set.Deciles}, Store: st, Mailer: mailer, Line: line.NewDryRun(io.Discard), Unsubscribe: sealer, Coupons: coder,
		PublicURL: "https://hooks.example.jp", RecommendationLimit: 3}, st
}

// buyer is a consenting customer with a fresh address and one order.
func buyer(t *testing.T, id string, items ...order.Item) (customer.Profile, order.Order) {
	t.Helper()
	p, o := profileWithOrder(id, items...)
	p.Email = testenv.UniqueEmail(t, id)
	return p, o
}

// benchBuyer is a buyer for benchmarks, which send nothing.
func benchBuyer() (customer.Profile, order.Order) { return profileWithOrder("c-bench") }

func profileWithOrder(id string, items ...order.Item) (customer.Profile, order.Order) {
	if len(items) == 0 {
		items = []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}
	}
	at := tokyo(12, 0)
	o := order.Order{ID: "o-" + id, Currency: "JPY", Total: 4300, PlacedAt: at, Customer: &order.Customer{ID: id}, Items: items}
	p := consenting(id)
	p.Name = "高橋 美咲"
	p.ApplyOrder(o.ID, customer.Summarize(o, order.Delivered), at)
	p.Recompute(customer.Thresholds{Currency: "JPY", RecencyDays: [4]int{30, 60, 90, 180}, FrequencyOrders: [4]int{2, 3, 5, 10}, Monetary: [4]int64{5000, 10000, 30000, 100000}, LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180})
	return p, o
}

// messagesOnly leaves the treatment assignments out of a message log.
func messagesOnly(log []store.MessageRecord) []store.MessageRecord {
	var out []store.MessageRecord
	for _, m := range log {
		if m.Status != store.MessageAssigned {
			out = append(out, m)
		}
	}
	return out
}

func statuses(out []Outcome) string {
	var s []string
	for _, o := range out {
		s = append(s, o.Campaign+":"+o.Channel+"="+o.Status)
	}
	return strings.Join(s, " ")
}

func TestCouponIssuedOnceAndShownInTheEmail(t *testing.T) {
	set := ruleSet(t, map[string]string{"nudge": "trigger: order.created\nactions:\n  - {type: coupon, name: 10%OFF, percent_off: 10, min_order: 3000, expires_in: 30d}\n  - {type: email, template: second-purchase-nudge}\n"})
	r, st := newRunner(t, set)
	p, o := buyer(t, "c-coupon")
	tr := Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o}
	out, err := r.Run(context.Background(), tr)
	if err != nil || statuses(out) != "nudge:coupon=issued nudge:email=sent" {
		t.Fatalf("run = %s, %v", statuses(out), err)
	}
	// The same trigger again: the same coupon, no second email.
	out, err = r.Run(context.Background(), tr)
	if err != nil || statuses(out) != "nudge:coupon=issued nudge:email=already_sent" {
		t.Fatalf("second run = %s, %v", statuses(out), err)
	}
	code := r.Coupons.Code("nudge", tr.Key, p.ID)
	c, err := st.GetCoupon(context.Background(), code)
	if err != nil || c.Campaign != "nudge" || c.PercentOff != 10 || c.MinOrder != 3000 || !c.ExpiresAt.Equal(tr.At.Add(30*24*time.Hour)) {
		t.Fatalf("stored coupon = %+v, %v", c, err)
	}
	mails := testenv.SentEmails(t, p.Email)
	if len(mails) != 1 || !strings.Contains(mails[0].Body.Text, code) || !strings.Contains(mails[0].Subject, "10%OFF") {
		t.Fatalf("emails = %+v", mails)
	}
	// Single use, by its own customer, before expiry.
	tests := []struct {
		name     string
		order    string
		customer string
		at       time.Time
		want     bool
	}{
		{name: "another customer's order", order: "o-2", customer: "someone-else", at: tokyo(13, 0), want: false},
		{name: "after expiry", order: "o-3", customer: p.ID, at: tr.At.Add(31 * 24 * time.Hour), want: false},
		{name: "first use", order: "o-4", customer: p.ID, at: tokyo(13, 0), want: true},
		{name: "same order again", order: "o-4", customer: p.ID, at: tokyo(13, 0), want: true},
		{name: "second use", order: "o-5", customer: p.ID, at: tokyo(14, 0), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := st.RedeemCoupon(context.Background(), code, tt.order, tt.customer, tt.at)
			if err != nil || ok != tt.want || got.Campaign != "nudge" {
				t.Errorf("RedeemCoupon = %v (%+v), %v; want %v", ok, got, err, tt.want)
			}
		})
	}
}

func TestReviewRequests(t *testing.T) {
	set := ruleSet(t, map[string]string{"reviews": "trigger: order.delivered\ndelay: 7d\nactions: [{type: review_request, template: review-request}]\n"})
	r, st := newRunner(t, set)
	tea := order.Item{SKU: "TEA-SENCHA", Name: "宇治煎茶", Category: "tea", UnitPrice: 1500, Quantity: 1}
	yokan := order.Item{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}
	// Reviewed on Judge.me, which names products by Shopify's product id.
	matcha := order.Item{SKU: "TEA-MATCHA", Name: "抹茶 星の昔", Category: "tea", UnitPrice: 3000, Quantity: 1, ProductID: "632910392"}
	p, o := buyer(t, "c-review", yokan, tea, matcha)
	ctx := context.Background()
	if err := st.RecordReview(ctx, p.ID, "TEA-SENCHA", "generic#r-1", tokyo(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordReview(ctx, p.ID, order.ProductKey("632910392"), "judgeme#465077653", tokyo(0, 0)); err != nil {
		t.Fatal(err)
	}
	delivered := Trigger{Event: rules.TriggerOrderDelivered, Key: "order:" + o.ID + ":order.delivered", At: tokyo(12, 0), Profile: p, Order: o}
	out, err := r.Run(ctx, delivered)
	if err != nil || statuses(out) != "reviews:=wait" {
		t.Fatalf("on delivery = %s, %v", statuses(out), err)
	}
	tm, err := st.GetTimer(ctx, TimerKey("reviews", delivered.Key, p.ID, "delay"))
	if err != nil || !tm.DueAt.Equal(delivered.At.Add(7*24*time.Hour)) || tm.Status != store.TimerArmed {
		t.Fatalf("timer = %+v, %v", tm, err)
	}
	fired := delivered
	fired.At, fired.Fired, fired.Campaign = tm.DueAt, true, "reviews"
	out, err = r.Run(ctx, fired)
	if err != nil || statuses(out) != "reviews:email=sent" {
		t.Fatalf("fired = %s, %v", statuses(out), err)
	}
	mails := testenv.SentEmails(t, p.Email)
	if len(mails) != 1 || !strings.Contains(mails[0].Body.Text, "本練羊羹") || strings.Contains(mails[0].Body.Text, "宇治煎茶") || strings.Contains(mails[0].Body.Text, "抹茶") ||
		!strings.Contains(mails[0].Body.Text, "https://tsubaki-chaen.example.jp/products/SWEET-YOKAN/reviews/new") {
		t.Fatalf("review email must ask about the yokan only (the teas are reviewed, the matcha on Judge.me): %+v", mails)
	}
	// A later order of the same product, within 12 months: not asked again.
	_, o2 := buyer(t, "c-review-2", yokan)
	again := Trigger{Event: rules.TriggerOrderDelivered, Key: "order:o-second:order.delivered", At: tm.DueAt.Add(30 * 24 * time.Hour), Profile: p, Order: o2, Fired: true, Campaign: "reviews"}
	out, err = r.Run(ctx, again)
	if err != nil || statuses(out) != "reviews:email=skipped" || out[0].Reason != ReasonNothingToReview {
		t.Fatalf("second order within 12 months = %s (%+v), %v", statuses(out), out, err)
	}
	// A cancelled order gets no review request.
	pc, oc := buyer(t, "c-review-cancel", yokan)
	pc.ApplyOrder(oc.ID, customer.Summarize(oc, order.Cancelled), tokyo(13, 0))
	out, err = r.Run(ctx, Trigger{Event: rules.TriggerOrderDelivered, Key: "order:" + oc.ID + ":order.delivered", At: tokyo(14, 0), Profile: pc, Order: oc, Fired: true, Campaign: "reviews"})
	if err != nil || statuses(out) != "reviews:=order_cancelled" {
		t.Fatalf("cancelled order = %s, %v", statuses(out), err)
	}
}

// TestCapsHoldUnderConcurrency has two campaigns, on two events arriving
// at once for one customer, race for the last daily slot: one email goes.
func TestCapsHoldUnderConcurrency(t *testing.T) {
	set := ruleSet(t, map[string]string{
		"on-order":    emailAction,
		"on-thankyou": "trigger: thankyou.viewed\nactions: [{type: email, template: post-purchase-thanks}]\n",
	})
	r, _ := newRunner(t, set)
	p, o := buyer(t, "c-race")
	var wg sync.WaitGroup
	for _, ev := range []rules.Trigger{rules.TriggerOrderCreated, rules.TriggerThankyouViewed} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Run(context.Background(), Trigger{Event: ev, Key: "order:" + o.ID + ":" + string(ev), At: tokyo(12, 0), Profile: p, Order: o}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(testenv.SentEmails(t, p.Email)); n != 1 {
		t.Errorf("%d emails under a 1-per-day cap, want 1", n)
	}
}

func TestRenderFailureSkipsOneCustomerOnly(t *testing.T) {
	// A template that needs at least one recommendation: fine for the
	// sample, broken for a customer whose categories suggest nothing.
	set := ruleSetFiles(t, map[string]string{
		"campaigns/a.yaml":                 "id: a\nname: a\ntrigger: order.created\nactions: [{type: email, template: first-pick}]\n",
		"templates/first-pick/subject.txt": "おすすめ",
		"templates/first-pick/body.html":   "<p>{{(index .Recommendations 0).Title}}</p>",
		"templates/first-pick/body.txt":    "{{(index .Recommendations 0).Title}}",
	})
	r, st := newRunner(t, set)
	ok, _ := buyer(t, "c-sweets")
	okOut, err := r.Run(context.Background(), trigger(ok, tokyo(12, 0)))
	if err != nil || statuses(okOut) != "a:email=sent" {
		t.Fatalf("customer with recommendations = %s, %v", statuses(okOut), err)
	}
	bad, _ := buyer(t, "c-shoes", order.Item{SKU: "SHOE", Name: "靴", Category: "shoes", UnitPrice: 9000, Quantity: 1})
	badOut, err := r.Run(context.Background(), trigger(bad, tokyo(12, 0)))
	if err != nil || statuses(badOut) != "a:email=skipped" || badOut[0].Reason != ReasonRenderFailed {
		t.Fatalf("customer without recommendations = %s (%+v), %v", statuses(badOut), badOut, err)
	}
	log, err := st.CustomerMessages(context.Background(), bad.ID, tokyo(0, 0))
	log = messagesOnly(log)
	if err != nil || len(log) != 1 || log[0].Reason != ReasonRenderFailed {
		t.Errorf("the render failure must be recorded: %+v %v", log, err)
	}
}

func TestLineIsADryRunUntilConfigured(t *testing.T) {
	set := ruleSet(t, map[string]string{"l": "trigger: order.created\nactions: [{type: line, template: winback}]\n"})
	r, st := newRunner(t, set)
	p, o := buyer(t, "c-line")
	out, err := r.Run(context.Background(), Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o})
	if err != nil || statuses(out) != "l:line=dry_run" {
		t.Fatalf("run = %s, %v", statuses(out), err)
	}
	log, _ := st.CustomerMessages(context.Background(), p.ID, tokyo(0, 0))
	log = messagesOnly(log)
	if len(log) != 1 || log[0].Status != store.MessageDryRun || log[0].Channel != "line" {
		t.Errorf("log = %+v", log)
	}
}

func TestSuppressedAddressGetsNoMarketing(t *testing.T) {
	set := ruleSet(t, map[string]string{"m": emailAction, "t": "kind: transactional\npriority: 1\n" + emailAction})
	r, st := newRunner(t, set)
	p, o := buyer(t, "c-suppressed")
	if err := st.Suppress(context.Background(), strings.ToUpper(p.Email), "hard_bounce", tokyo(0, 0)); err != nil {
		t.Fatal(err)
	}
	out, err := r.Run(context.Background(), Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o})
	if err != nil || statuses(out) != "m:email=skipped t:email=sent" || out[0].Reason != ReasonSuppressed {
		t.Errorf("outcomes = %s (%+v), %v; want marketing skipped as suppressed, transactional sent", statuses(out), out, err)
	}
}
