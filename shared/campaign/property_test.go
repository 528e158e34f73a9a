package campaign

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// propertySeed makes the random customers and campaigns the same on every
// run; change it to explore other ones.
const propertySeed = 20261121

// propertyEvents are the triggers random campaigns listen to.
var propertyEvents = []rules.Trigger{rules.TriggerOrderCreated, rules.TriggerOrderCreated, rules.TriggerOrderDelivered, rules.TriggerThankyouViewed, rules.TriggerBirthday}

// propertyAudiences include audiences that pick exactly the customers who
// must not get marketing: the rules have to hold whatever marketers write.
var propertyAudiences = []string{"", "", "order.total > 0", "customer.order_count >= 1", "customer.accepts_marketing", "!customer.accepts_marketing",
	"customer.has_email", "!customer.has_email", "customer.has_line", `bought_category("tea")`, `customer.stage == "new"`, `in_segment("vip")`, "true"}

// randomCampaign writes one campaign file body (without id and name).
func randomCampaign(rng *rand.Rand) string {
	var b strings.Builder
	kind := "marketing"
	if rng.IntN(10) < 3 {
		kind = "transactional"
	}
	fmt.Fprintf(&b, "kind: %s\ntrigger: %s\npriority: %d\n", kind, propertyEvents[rng.IntN(len(propertyEvents))], rng.IntN(200))
	if rng.IntN(10) == 0 {
		b.WriteString("enabled: false\n")
	}
	if a := propertyAudiences[rng.IntN(len(propertyAudiences))]; a != "" {
		fmt.Fprintf(&b, "audience: '%s'\n", a)
	}
	switch rng.IntN(5) {
	case 0:
		b.WriteString("delay: 1d\n")
	case 1:
		b.WriteString("delay: next day 10:00\n")
	}
	if rng.IntN(4) == 0 {
		fmt.Fprintf(&b, "holdout: %d\n", rng.IntN(50))
	}
	if rng.IntN(4) == 0 {
		fmt.Fprintf(&b, "caps: [{max: %d, per: %s}]\n", 1+rng.IntN(3), []string{"1d", "7d", "30d"}[rng.IntN(3)])
	}
	both := rng.IntN(4) == 0
	if both {
		b.WriteString("channel: line_or_email\n")
	}
	if rng.IntN(6) == 0 {
		fmt.Fprintf(&b, "line_budget: %d\n", rng.IntN(3))
	}
	if rng.IntN(5) == 0 {
		w := 1 + rng.IntN(99)
		fmt.Fprintf(&b, "variants:\n  - {name: a, weight: %d, actions: %s}\n  - {name: b, weight: %d, actions: %s}\n", w, randomActions(rng, both), 100-w, randomActions(rng, both))
	} else {
		fmt.Fprintf(&b, "actions: %s\n", randomActions(rng, both))
	}
	return b.String()
}

// randomActions writes a flow list of one to three actions; both asks for
// a LINE and an email action (channel line_or_email).
func randomActions(rng *rand.Rand, both bool) string {
	lineTemplates := []string{"post-purchase-thanks", "replenishment", "winback"}
	emailTemplates := []string{"post-purchase-thanks", "replenishment", "winback", "birthday", "second-purchase-nudge"}
	var actions []string
	if rng.IntN(3) == 0 {
		actions = append(actions, "{type: coupon, name: x, percent_off: 10, expires_in: 30d}")
	}
	pick := rng.IntN(4)
	if both || pick == 0 || pick == 3 {
		actions = append(actions, "{type: line, template: "+lineTemplates[rng.IntN(len(lineTemplates))]+"}")
	}
	if both || pick == 1 || pick == 3 {
		actions = append(actions, "{type: email, template: "+emailTemplates[rng.IntN(len(emailTemplates))]+"}")
	}
	if !both && pick == 2 {
		actions = append(actions, "{type: review_request, template: review-request}")
	}
	return "[" + strings.Join(actions, ", ") + "]"
}

// randomRuleSet loads the shipped settings, segments and templates with one
// to four random campaigns.
func randomRuleSet(t testing.TB, rng *rand.Rand) *rules.Set {
	t.Helper()
	campaigns := map[string]string{}
	for i := range 1 + rng.IntN(4) {
		campaigns[fmt.Sprintf("r%d", i)] = randomCampaign(rng)
	}
	return ruleSet(t, campaigns)
}

// propertyStart is the earliest time random histories use.
var propertyStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// randomTime is a time within days of propertyStart.
func randomTime(rng *rand.Rand, days int) time.Time {
	return propertyStart.Add(time.Duration(rng.Int64N(int64(days) * int64(24*time.Hour))))
}

// randomCustomer builds a customer through the profile's own operations:
// contact and consent from deliveries, orders, unsubscribes (email or
// LINE, sometimes followed by fresh or stale consent) and erasure.
func randomCustomer(rng *rand.Rand, id, email string, th customer.Thresholds) (customer.Profile, order.Order) {
	p := customer.Profile{ID: id}
	contact := order.Customer{ID: id, Name: "高橋 美咲"}
	if rng.IntN(5) > 0 {
		contact.Email = email
	}
	if rng.IntN(2) == 0 {
		contact.LineUserID = fmt.Sprintf("U%032x", rng.Uint64())
	}
	if rng.IntN(4) == 0 {
		contact.Birthday = fmt.Sprintf("%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28))
	}
	contactAt := randomTime(rng, 30)
	switch rng.IntN(3) {
	case 0:
		contact.Consent = order.Consent{State: order.ConsentGranted, Source: "property", At: contactAt}
	case 1:
		contact.Consent = order.Consent{State: order.ConsentDenied, Source: "property", At: contactAt}
	}
	p.ApplyContact(contact, contactAt)
	p.LinkLine(contact.LineUserID)
	if rng.IntN(2) == 0 {
		// Known to follow the shop's LINE account: consent to LINE.
		p.FollowLine(contact.LineUserID, customer.LineSourceFollow, randomTime(rng, 30))
	}

	var last order.Order
	categories := []string{"tea", "sweets", "teaware"}
	for n := range rng.IntN(4) {
		at := randomTime(rng, 60)
		o := order.Order{ID: fmt.Sprintf("%s-o%d", id, n), Currency: "JPY", Total: int64(500 + rng.IntN(20000)), PlacedAt: at, Customer: &contact,
			Items: []order.Item{{SKU: "SKU-" + categories[rng.IntN(3)], Name: "品", Category: categories[rng.IntN(3)], UnitPrice: 500, Quantity: 1 + rng.IntN(3)}}}
		status := []order.EventType{order.Created, order.Created, order.Delivered, order.Delivered, order.Fulfilled, order.Cancelled}[rng.IntN(6)]
		p.ApplyOrder(o.ID, customer.Summarize(o, status), at)
		last = o
	}
	p.Recompute(th)

	if rng.IntN(10) < 3 {
		p.Unsubscribe("email", "unsubscribe:one-click", randomTime(rng, 60))
	}
	if rng.IntN(10) < 3 {
		if !p.UnfollowLine(p.LineUserID, randomTime(rng, 60)) {
			p.Unsubscribe("line", "unsubscribe:one-click", randomTime(rng, 60))
		}
	}
	if rng.IntN(10) < 2 {
		// A follow after the block, or older than it.
		p.FollowLine(p.LineUserID, customer.LineSourceFollow, randomTime(rng, 90))
	}
	if rng.IntN(10) < 3 {
		// Consent evidence after the unsubscribes, or older than them.
		at := randomTime(rng, 90)
		p.ApplyContact(order.Customer{ID: id, Consent: order.Consent{State: order.ConsentGranted, Source: "property:later", At: at}}, at)
	}
	if rng.IntN(20) == 0 {
		p.Erase(randomTime(rng, 90))
	}
	if last.ID == "" {
		last = order.Order{ID: id + "-o", Currency: "JPY", Total: 4300, PlacedAt: randomTime(rng, 60), Customer: &contact,
			Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}}
	}
	return p, last
}

// randomTrigger is an occasion for the customer that one of the set's
// campaigns listens to, at any hour of a day in the three months after
// propertyStart, sometimes a timer firing.
func randomTrigger(rng *rand.Rand, set *rules.Set, p customer.Profile, o order.Order) Trigger {
	ev := set.Campaigns[rng.IntN(len(set.Campaigns))].Trigger
	return Trigger{Event: ev, Key: "order:" + o.ID + ":" + string(ev), At: randomTime(rng, 90), Profile: p, Order: o, Fired: rng.IntN(2) == 0}
}

// randomSends are marketing messages sent before at, for the caps.
func randomSends(rng *rand.Rand, at time.Time) []store.Send {
	var out []store.Send
	for i := range rng.IntN(4) {
		out = append(out, store.Send{Key: fmt.Sprint("s", i), At: at.Add(-time.Duration(rng.Int64N(int64(10 * 24 * time.Hour)))), Campaign: fmt.Sprintf("r%d", rng.IntN(4)), Channel: "email"})
	}
	return out
}

// optedOut is the promise made to a customer who unsubscribed from a
// channel, written out independently of the code under test: nothing on
// that channel, marketing or transactional, unless marketing consent for
// email was given again after the unsubscribe.
func optedOut(p customer.Profile, channel string) bool {
	at, ok := p.Unsubscribed[channel]
	if !ok {
		return false
	}
	return channel != "email" || p.Consent.State != order.ConsentGranted || !p.Consent.At.After(at)
}

// marketingConsent is the consent a channel's marketing needs, written out
// independently of the code under test: email consent granted for email;
// for LINE, a linked LINE user seen to follow the shop's account and not
// unsubscribed since.
func marketingConsent(p customer.Profile, channel string) bool {
	if channel == "line" {
		return p.LineUserID != "" && !p.LineFollowedAt.IsZero() && !optedOut(p, "line")
	}
	return p.Consent.State == order.ConsentGranted
}

// messageChannels lists the channels of a decision's message actions.
func messageChannels(actions []rules.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.Type {
		case rules.ActionEmail, rules.ActionReviewRequest:
			out = append(out, "email")
		case rules.ActionLine:
			out = append(out, "line")
		}
	}
	return out
}

// TestPropertyDecisionsRespectConsentAndUnsubscribes decides thousands of
// random customers against random campaigns: no marketing message is ever
// decided (sent or scheduled) for a customer without marketing consent,
// and no message of any kind for a customer who unsubscribed from every
// channel it would use.
func TestPropertyDecisionsRespectConsentAndUnsubscribes(t *testing.T) {
	rng := rand.New(rand.NewPCG(propertySeed, 1))
	verdicts := map[Verdict]int{}
	const sets, customersPerSet = 50, 120
	for s := range sets {
		set := randomRuleSet(t, rng)
		d := &Decider{Rules: set, Deciles: set.Deciles}
		for n := range customersPerSet {
			p, o := randomCustomer(rng, fmt.Sprintf("p%d-%d", s, n), fmt.Sprintf("p%d-%d@example.jp", s, n), set.Settings.Thresholds)
			tr := randomTrigger(rng, set, p, o)
			for _, dec := range d.Decide(tr, randomSends(rng, tr.At)) {
				verdicts[dec.Verdict]++
				if dec.Verdict != Send && dec.Verdict != Wait {
					continue
				}
				c := dec.Campaign
				channels := messageChannels(dec.Actions)
				consented := len(channels) == 0 && marketingConsent(p, "email")
				for _, ch := range channels {
					consented = consented || marketingConsent(p, ch)
				}
				if c.Kind == rules.Marketing && !consented {
					t.Errorf("set %d customer %s: marketing campaign %s decided %s without consent on %v (%+v)", s, p.ID, c.ID, dec.Verdict, channels, p.Consent)
				}
				open := 0
				for _, ch := range channels {
					if !optedOut(p, ch) {
						open++
					}
				}
				if len(channels) > 0 && open == 0 {
					t.Errorf("set %d customer %s: %s campaign %s decided %s although unsubscribed from %v", s, p.ID, c.Kind, c.ID, dec.Verdict, channels)
				}
			}
		}
	}
	t.Logf("%d triggers, verdicts %v", sets*customersPerSet, verdicts)
	for _, v := range []Verdict{Send, Wait, NoConsent, Unsubscribed, NotInAudience} {
		if verdicts[v] == 0 {
			t.Errorf("no %s verdict in %d triggers: the random cases do not reach it", v, sets*customersPerSet)
		}
	}
}

// pushRecorder is a LINE sender that records every push.
type pushRecorder struct {
	mu     sync.Mutex
	pushes map[string]int // by LINE user id
}

func (r *pushRecorder) Push(_ context.Context, userID string, _ []messaging_api.MessageInterface, _ string) (line.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pushes[userID]++
	return line.Result{RequestID: "req-" + userID}, nil
}

// TestPropertyRunSendsNothingUnwanted runs a sample of random customers
// and campaigns end to end against the emulators, with some addresses
// suppressed (hard bounce or complaint). Every email the SES emulator
// receives and every LINE push is reported as sent, and none reaches a
// customer without consent (marketing), with a suppressed address
// (marketing email) or unsubscribed from its channel (any kind).
func TestPropertyRunSendsNothingUnwanted(t *testing.T) {
	rng := rand.New(rand.NewPCG(propertySeed, 2))
	ctx := context.Background()
	const sets, customersPerSet = 20, 40
	sentEmails, sentLine := 0, 0
	// guarded counts messages decided for a channel the customer left,
	// which the sender itself must hold back (the campaign also uses
	// another channel, so the decision alone cannot).
	guarded := 0
	for s := range sets {
		set := randomRuleSet(t, rng)
		r, st := newRunner(t, set)
		recorder := &pushRecorder{pushes: map[string]int{}}
		r.Line = recorder
		for n := range customersPerSet {
			id := fmt.Sprintf("q%d-%d", s, n)
			p, o := randomCustomer(rng, id, testenv.UniqueEmail(t, id), set.Settings.Thresholds)
			suppressed := p.Email != "" && rng.IntN(5) == 0
			if suppressed {
				if err := st.Suppress(ctx, p.Email, "complaint", propertyStart); err != nil {
					t.Fatal(err)
				}
			}
			tr := randomTrigger(rng, set, p, o)
			for _, d := range r.Decide(tr, nil) {
				for _, ch := range messageChannels(d.Actions) {
					if d.Verdict == Send && optedOut(p, ch) {
						guarded++
					}
				}
			}
			out, err := r.Run(ctx, tr)
			if err != nil {
				t.Fatalf("set %d customer %s: run: %v", s, id, err)
			}
			kinds := map[string]rules.Kind{}
			for _, c := range set.Campaigns {
				kinds[c.ID] = c.Kind
			}
			emails, pushes := 0, 0
			for _, o := range out {
				switch {
				case o.Channel == "email" && o.Status == string(store.MessageSent):
					emails++
				case o.Channel == "line" && o.Status == string(store.MessageSent):
					pushes++
				default:
					continue
				}
				if kinds[o.Campaign] == rules.Marketing && !marketingConsent(p, o.Channel) {
					t.Errorf("set %d customer %s: marketing %s on %s without consent (%+v)", s, id, o.Campaign, o.Channel, p.Consent)
				}
				if optedOut(p, o.Channel) {
					t.Errorf("set %d customer %s: %s %s on %s after unsubscribing", s, id, kinds[o.Campaign], o.Campaign, o.Channel)
				}
				if o.Channel == "email" && suppressed && kinds[o.Campaign] == rules.Marketing {
					t.Errorf("set %d customer %s: marketing %s to a suppressed address", s, id, o.Campaign)
				}
			}
			if p.Email != "" {
				if got := len(testenv.SentEmails(t, p.Email)); got != emails {
					t.Errorf("set %d customer %s: the SES emulator received %d emails, the runner reports %d sent: %+v", s, id, got, emails, out)
				}
			}
			if got := recorder.pushes[p.LineUserID]; p.LineUserID != "" && got != pushes {
				t.Errorf("set %d customer %s: %d LINE pushes, the runner reports %d sent", s, id, got, pushes)
			}
			sentEmails, sentLine = sentEmails+emails, sentLine+pushes
		}
	}
	t.Logf("%d runs: %d emails and %d LINE pushes sent, each checked; %d messages decided for a channel left, held back by the sender", sets*customersPerSet, sentEmails, sentLine, guarded)
	if sentEmails == 0 || sentLine == 0 || guarded == 0 {
		t.Errorf("the sample sent %d emails and %d LINE pushes and offered the sender %d messages for a channel left: it does not prove enough", sentEmails, sentLine, guarded)
	}
}
