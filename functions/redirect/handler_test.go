package main

import (
	"context"
	"html"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
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

const (
	secret  = "dev-secret"
	browser = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	scanner = "Mozilla/5.0 (compatible; Barracuda Link Protection)"
)

// stack is the redirect function behind the local gateway, and a campaign
// runner that sends real mail to the SES emulator with links to it.
type stack struct {
	srv    string // the gateway's base URL: the public URL links point to
	h      *Handler
	runner *campaign.Runner
	store  *store.Store
	set    *rules.Set
	// now is the redirect's clock.
	now time.Time
}

func newStack(t *testing.T) *stack {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	table := testenv.NewTable(t)
	s := &stack{store: store.New(testenv.DynamoDB(), table), set: set}
	s.h = &Handler{Store: store.New(testenv.DynamoDBAs(t, "RedirectFunction"), table), Location: set.Settings.Location, Now: func() time.Time { return s.now }}
	s.srv = testenv.APIServer(t, "RedirectFunction", s.h.Handle).URL
	links, err := clicks.NewSealer(s.srv, secret)
	if err != nil {
		t.Fatal(err)
	}
	s.h.Links = links
	sealer, _ := unsubscribe.NewSealer(secret)
	coder, _ := coupon.NewCoder(secret)
	mailer, err := email.NewSender(testenv.SES(), set.Settings.FromName, "shop@tsubaki-chaen.example.jp", set.Settings.ReplyTo, "")
	if err != nil {
		t.Fatal(err)
	}
	s.runner = &campaign.Runner{Decider: campaign.Decider{Rules: set, Deciles: set.Deciles}, Store: s.store, Mailer: mailer, Line: line.NewDryRun(io.Discard),
		Unsubscribe: sealer, Clicks: links, Coupons: coder, PublicURL: s.srv, RecommendationLimit: 3}
	return s
}

// send runs the shipped post-purchase campaign for a consenting customer's
// order through the real runner, and returns the one email the SES
// emulator received and the trigger's time (the send).
func (s *stack) send(t *testing.T) (testenv.Email, time.Time, customer.Profile) {
	t.Helper()
	// Midday in the shop's zone today: outside quiet hours, and a message
	// log entry that is live now.
	y, m, d := time.Now().In(s.set.Settings.Location).Date()
	at := time.Date(y, m, d, 12, 0, 0, 0, s.set.Settings.Location)
	to := testenv.UniqueEmail(t, "click")
	o := order.Order{ID: "o-click", Currency: "JPY", Total: 4300, PlacedAt: at, Customer: &order.Customer{ID: "c-click"},
		Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}}
	var p customer.Profile
	p.ID = "c-click"
	p.ApplyContact(order.Customer{ID: "c-click", Email: to, Name: "高橋 美咲", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: at.Add(-time.Hour)}}, at)
	p.ApplyOrder(o.ID, customer.Summarize(o, order.Created), at)
	p.CategoryCounts = map[string]int{"sweets": 1} // what the cross-sell suggests from
	out, err := s.runner.Run(context.Background(), campaign.Trigger{Event: rules.TriggerOrderCreated, Key: "order:o-click:order.created", At: at, Profile: p, Order: o})
	if err != nil {
		t.Fatal(err)
	}
	mails := testenv.SentEmails(t, to)
	if len(mails) != 1 {
		t.Fatalf("outcomes %+v; %d emails, want 1", out, len(mails))
	}
	return mails[0], at, p
}

var hrefs = regexp.MustCompile(`href="([^"]*)"`)

// links lists the hrefs of an HTML body, unescaped, in order.
func links(body string) []string {
	var out []string
	for _, m := range hrefs.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// get requests a link as a mail client's browser would, without following
// the redirect.
func get(t *testing.T, method, link, agent string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", agent)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestClickThroughARealEmail follows the links of a campaign email as it
// was sent: rendered by the real runner, stored by the SES emulator, its
// links requested through the local gateway and the real handler.
func TestClickThroughARealEmail(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	mail, sent, p := s.send(t)

	// Every web link of both parts is tracked; the unsubscribe link (body
	// and List-Unsubscribe) and mailto: stay direct.
	var tracked []string
	unsubscribeURL := strings.Trim(mail.Header("List-Unsubscribe"), "<>")
	for _, l := range links(mail.Body.HTML) {
		switch {
		case strings.HasPrefix(l, s.srv+clicks.RoutePrefix):
			tracked = append(tracked, l)
			if !strings.Contains(mail.Body.Text, l) {
				t.Errorf("the text part lacks the HTML part's link %s", l)
			}
		case l == unsubscribeURL, strings.HasPrefix(l, "mailto:"):
		default:
			t.Errorf("an untracked link: %s", l)
		}
	}
	if !strings.HasPrefix(unsubscribeURL, s.srv+"/unsubscribe?token=") || !strings.Contains(mail.Body.Text, unsubscribeURL) || !strings.Contains(mail.Body.HTML, html.EscapeString(unsubscribeURL)) {
		t.Errorf("List-Unsubscribe %q is not the body's direct unsubscribe link", unsubscribeURL)
	}
	if len(tracked) < 3 {
		t.Fatalf("tracked links %q; want the recommendations and the shop's", tracked)
	}
	targets := map[string]clicks.Link{}
	for _, l := range tracked {
		link, err := s.h.Links.Open(strings.TrimPrefix(l, s.srv+clicks.RoutePrefix))
		if err != nil || link.CampaignID != "post-purchase-thanks" || link.CustomerID != p.ID || link.Key == "" || !link.SentAt.Equal(sent) {
			t.Fatalf("link %s opens to %+v, %v", l, link, err)
		}
		targets[l] = link
	}
	first, second := tracked[0], tracked[len(tracked)-1]
	if targets[first].Index == targets[second].Index {
		t.Fatalf("the first and last links are the same link: %+v", targets)
	}

	day := store.CampaignStatsKey(sent, s.set.Settings.Location, "")
	// The click counters of the campaign's day (the send counted its own:
	// sent, assigned_treatment).
	counters := func() store.Counts {
		t.Helper()
		got, err := s.store.StatsBetween(ctx, store.CampaignStatsPartition("post-purchase-thanks"), day, day)
		if err != nil {
			t.Fatal(err)
		}
		clickCounts := store.Counts{}
		for _, name := range []string{"clicks", "clicked"} {
			if n, ok := got[day][name]; ok {
				clickCounts[name] = n
			}
		}
		return clickCounts
	}
	steps := []struct {
		name     string
		method   string
		link     string
		agent    string
		after    time.Duration // since the send
		status   int
		location string // "" for none
		counters store.Counts
		clicks   int // click items of the customer
	}{
		{name: "a scanner on delivery", method: "GET", link: first, agent: scanner, after: 5 * time.Second, status: 302, location: targets[first].URL},
		{name: "a HEAD request", method: "HEAD", link: first, agent: browser, after: 10 * time.Minute, status: 302, location: targets[first].URL},
		{name: "the customer clicks", method: "GET", link: first, agent: browser, after: 10 * time.Minute, status: 302, location: targets[first].URL,
			counters: store.Counts{"clicks": 1, "clicked": 1}, clicks: 1},
		{name: "the same link again", method: "GET", link: first, agent: browser, after: 20 * time.Minute, status: 302, location: targets[first].URL,
			counters: store.Counts{"clicks": 1, "clicked": 1}, clicks: 1},
		{name: "a target in the query string is ignored", method: "GET", link: second + "?url=https://evil.example/&to=https://evil.example/", agent: browser, after: time.Hour,
			status: 302, location: targets[second].URL, counters: store.Counts{"clicks": 2, "clicked": 1}, clicks: 2},
		{name: "a tampered token", method: "GET", link: first[:len(first)-3] + flip(first[len(first)-3:]), agent: browser, after: time.Hour, status: 400,
			counters: store.Counts{"clicks": 2, "clicked": 1}, clicks: 2},
		{name: "a forged token", method: "GET", link: s.srv + clicks.RoutePrefix + "E5DeiZbI.bm90LWEtdG9rZW4", agent: browser, after: time.Hour, status: 400,
			counters: store.Counts{"clicks": 2, "clicked": 1}, clicks: 2},
	}
	for _, st := range steps {
		s.now = sent.Add(st.after)
		resp := get(t, st.method, st.link, st.agent)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != st.status || resp.Header.Get("Location") != st.location {
			t.Errorf("%s: %d Location %q, want %d %q\n%s", st.name, resp.StatusCode, resp.Header.Get("Location"), st.status, st.location, body)
		}
		if st.status == 400 && !strings.Contains(string(body), `"field":"token"`) {
			t.Errorf("%s: the answer does not name the token: %s", st.name, body)
		}
		if got := counters(); !maps.Equal(got, st.counters) && len(got)+len(st.counters) > 0 {
			t.Errorf("%s: campaign counters %v, want %v", st.name, got, st.counters)
		}
		recorded, err := s.store.CustomerClicks(ctx, p.ID, sent)
		if err != nil || len(recorded) != st.clicks {
			t.Errorf("%s: clicks %+v, %v; want %d", st.name, recorded, err, st.clicks)
		}
	}
	recorded, _ := s.store.CustomerClicks(ctx, p.ID, sent)
	if len(recorded) == 2 {
		want := store.Click{MessageKey: targets[first].Key, CampaignID: "post-purchase-thanks", CustomerID: p.ID, Link: targets[first].Index, URL: targets[first].URL, At: sent.Add(10 * time.Minute).UTC()}
		if recorded[0] != want || recorded[1].Link != targets[second].Index {
			t.Errorf("click items %+v, want first %+v", recorded, want)
		}
	}
	if msg, err := s.store.GetMessage(ctx, targets[first].Key); err != nil || !msg.ClickedAt.Equal(sent.Add(10*time.Minute)) {
		t.Errorf("message log %+v, %v; want clicked_at at the first click", msg, err)
	}
}

// flip changes the last characters of a token (staying in its alphabet).
func flip(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// TestExpiredAndOddLinks: a valid link of a message whose log entry is
// gone still redirects and counts the click (not the message as clicked:
// nothing says it is its first); a Japanese target is sent percent-encoded;
// a link sealed with our key whose target is not a web address redirects
// nowhere; an empty token neither.
func TestExpiredAndOddLinks(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	links, _ := clicks.NewSealer(s.srv, secret)
	sent := time.Now().Add(-500 * 24 * time.Hour).Truncate(time.Second).UTC()
	s.now = sent.Add(time.Hour)
	msg := clicks.Message{Key: "k-gone", CampaignID: "winback", Variant: "b", CustomerID: "c-9", SentAt: sent}
	tests := []struct {
		name     string
		link     string
		status   int
		location string
		counters store.Counts
	}{
		{name: "a message no longer logged", link: links.URL(clicks.Link{Message: msg, URL: "https://tsubaki-chaen.example.jp/"}), status: 302, location: "https://tsubaki-chaen.example.jp/",
			counters: store.Counts{"clicks": 1}},
		{name: "a Japanese path, sent percent-encoded", link: links.URL(clicks.Link{Message: msg, Index: 3, URL: "https://tsubaki-chaen.example.jp/collections/煎茶?q=宇治"}), status: 302,
			location: "https://tsubaki-chaen.example.jp/collections/%E7%85%8E%E8%8C%B6?q=%E5%AE%87%E6%B2%BB", counters: store.Counts{"clicks": 2}},
		{name: "a sealed javascript: target", link: links.URL(clicks.Link{Message: msg, Index: 1, URL: "javascript:alert(1)"}), status: 400, counters: store.Counts{"clicks": 2}},
		{name: "a sealed relative target", link: links.URL(clicks.Link{Message: msg, Index: 2, URL: "//evil.example/"}), status: 400, counters: store.Counts{"clicks": 2}},
		{name: "no token", link: s.srv + clicks.RoutePrefix + "%20", status: 400, counters: store.Counts{"clicks": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, "GET", tt.link, browser)
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
				t.Errorf("%d Location %q, want %d %q", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
			}
			day := store.CampaignStatsKey(s.now, s.set.Settings.Location, "b")
			got, err := s.store.StatsBetween(ctx, store.CampaignStatsPartition("winback"), day, day)
			if err != nil || !maps.Equal(got[day], tt.counters) {
				t.Errorf("counters %v, %v; want %v", got, err, tt.counters)
			}
		})
	}
}
