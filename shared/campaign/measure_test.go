package campaign

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// TestMeasuredMessages: with Clicks set, every URI action and link of a
// LINE push and every web link of an email go through the message's own
// tracked redirect; the email's unsubscribe link (body and header) stays
// direct and names the message.
func TestMeasuredMessages(t *testing.T) {
	r, api := lineRunnerFor(t, "trigger: order.created\nkind: transactional\nactions:\n  - {type: coupon, name: 10%OFF, percent_off: 10, expires_in: 30d}\n"+
		"  - {type: line, template: post-purchase-thanks}\n  - {type: email, template: post-purchase-thanks}\n")
	links, err := clicks.NewSealer(r.PublicURL, "dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	r.Clicks = links
	p, o := linked(t, "m-1")
	const key = "order:o-m-1:order.created"
	if out := runOnce(t, r, p, o, key); statuses(out) != "note:coupon=issued note:line=sent note:email=sent" {
		t.Fatalf("run = %s", statuses(out))
	}
	opens := func(link string, action int) {
		t.Helper()
		l, err := links.Open(strings.TrimPrefix(link, r.PublicURL+clicks.RoutePrefix))
		if err != nil || !strings.HasPrefix(link, r.PublicURL+clicks.RoutePrefix) || l.Key != MessageKey("note", action, key, p.ID) || l.CampaignID != "note" || l.CustomerID != p.ID {
			t.Errorf("link %s opens to %+v, %v; want a tracked link of action %d", link, l, err, action)
		}
	}

	pushes := api.Requests(lineapi.PushPath)
	if len(pushes) != 1 {
		t.Fatalf("%d pushes", len(pushes))
	}
	var uris []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "uri" {
					uris = append(uris, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var body any
	if err := json.Unmarshal(pushes[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	walk(body)
	if len(uris) < 2 {
		t.Fatalf("URI actions %q; want the products' and the coupon's shop button", uris)
	}
	for _, u := range uris {
		opens(u, 1)
	}
	for _, u := range regexp.MustCompile(`https?://[^\s"\\]+`).FindAllString(string(pushes[0].Body), -1) {
		if !strings.HasPrefix(u, "https://cdn.") && !strings.HasPrefix(u, r.PublicURL+clicks.RoutePrefix) {
			t.Errorf("an untracked link in the push: %s", u)
		}
	}

	mails := testenv.SentEmails(t, p.Email)
	if len(mails) != 1 {
		t.Fatalf("%d emails", len(mails))
	}
	unsub := strings.Trim(mails[0].Header("List-Unsubscribe"), "<>")
	token, ok := strings.CutPrefix(unsub, r.PublicURL+"/unsubscribe?token=")
	sealer, _ := unsubscribe.NewSealer("dev-secret")
	if rcpt, err := sealer.Open(unescape(t, token)); !ok || err != nil || rcpt.MessageKey != MessageKey("note", 2, key, p.ID) || rcpt.CampaignID != "note" || rcpt.Channel != "email" {
		t.Errorf("List-Unsubscribe %s names %+v, %v; want the email", unsub, rcpt, err)
	}
	if !strings.Contains(mails[0].Body.Text, "配信停止はこちら: "+unsub) {
		t.Errorf("the text part's unsubscribe link is not the header's direct one:\n%s", mails[0].Body.Text)
	}
	for _, u := range regexp.MustCompile(`https?://[^\s"<]+`).FindAllString(mails[0].Body.Text, -1) {
		if u != unsub {
			opens(u, 2)
		}
	}
}

// unescape undoes a query value's escaping.
func unescape(t *testing.T, s string) string {
	t.Helper()
	v, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
