package campaign

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

const lineOrEmail = "trigger: order.created\nkind: transactional\nchannel: line_or_email\n%BUDGET%actions:\n  - {type: line, template: winback}\n  - {type: email, template: winback}\n"

func lineRunner(t *testing.T, budget string) (*Runner, *lineapi.Server) {
	t.Helper()
	return lineRunnerFor(t, strings.Replace(lineOrEmail, "%BUDGET%", budget, 1))
}

// lineRunnerFor runs campaign "note", given as YAML, with LINE's stand-in.
func lineRunnerFor(t *testing.T, campaignYAML string) (*Runner, *lineapi.Server) {
	t.Helper()
	set := ruleSet(t, map[string]string{"note": campaignYAML})
	r, _ := newRunner(t, set)
	api := lineapi.NewServer(t)
	client, err := line.New(lineapi.Token, line.WithEndpoint(api.URL), line.WithBackoff(line.Backoff{Attempts: 3, Base: 1, Max: 2}))
	if err != nil {
		t.Fatal(err)
	}
	r.Line = client
	return r, api
}

func linked(t *testing.T, id string) (customer.Profile, order.Order) {
	p, o := buyer(t, id)
	p.LinkLine("U" + strings.Repeat("a", 32))
	p.FollowLine(p.LineUserID, customer.LineSourceAccountLink, tokyo(0, 0))
	return p, o
}

func runOnce(t *testing.T, r *Runner, p customer.Profile, o order.Order, key string) []Outcome {
	t.Helper()
	out, err := r.Run(context.Background(), Trigger{Event: rules.TriggerOrderCreated, Key: key, At: tokyo(12, 0), Profile: p, Order: o})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLineOrEmail(t *testing.T) {
	tests := []struct {
		name      string
		budget    string
		script    []lineapi.Answer
		profile   func(t *testing.T) (customer.Profile, order.Order)
		want      string
		pushes    int
		wantEmail bool
	}{
		{name: "linked and following: LINE only", profile: func(t *testing.T) (customer.Profile, order.Order) { return linked(t, "l-1") },
			want: "note:line=sent", pushes: 1},
		{name: "not linked: email", profile: func(t *testing.T) (customer.Profile, order.Order) {
			p, o := buyer(t, "l-2")
			p.LineUserID = ""
			return p, o
		},
			want: "note:line=skipped note:email=sent", wantEmail: true},
		{name: "unfollowed: email", profile: func(t *testing.T) (customer.Profile, order.Order) {
			p, o := linked(t, "l-3")
			p.UnfollowLine(p.LineUserID, tokyo(1, 0))
			return p, o
		}, want: "note:line=skipped note:email=sent", wantEmail: true},
		{name: "LINE's monthly quota reached: email", script: []lineapi.Answer{{Status: 429, Body: `{"message":"You have reached your monthly limit."}`}},
			profile: func(t *testing.T) (customer.Profile, order.Order) { return linked(t, "l-4") }, want: "note:line=skipped note:email=sent", pushes: 1, wantEmail: true},
		{name: "LINE refuses the message: recorded, not retried, email", script: []lineapi.Answer{{Status: 400, Body: `{"message":"The request body has 1 error(s)"}`}},
			profile: func(t *testing.T) (customer.Profile, order.Order) { return linked(t, "l-7") }, want: "note:line=rejected note:email=sent", pushes: 1, wantEmail: true},
		{name: "LINE answer lost: the retry's 409 counts as delivered", script: []lineapi.Answer{{Status: 500, Accept: true}},
			profile: func(t *testing.T) (customer.Profile, order.Order) { return linked(t, "l-5") }, want: "note:line=sent", pushes: 2},
		{name: "campaign budget spent: email", budget: "line_budget: 1\n",
			profile: func(t *testing.T) (customer.Profile, order.Order) { return linked(t, "l-6") }, want: "note:line=sent", pushes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, api := lineRunner(t, tt.budget)
			api.Script(lineapi.PushPath, tt.script...)
			p, o := tt.profile(t)
			if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":order.created")); got != tt.want {
				t.Errorf("outcomes = %s, want %s", got, tt.want)
			}
			if len(api.Requests(lineapi.PushPath)) != tt.pushes {
				t.Errorf("%d pushes reached LINE, want %d", len(api.Requests(lineapi.PushPath)), tt.pushes)
			}
			if got := len(testenv.SentEmails(t, p.Email)) == 1; got != tt.wantEmail {
				t.Errorf("email sent = %v, want %v", got, tt.wantEmail)
			}
			if tt.budget != "" {
				// A second trigger the same month finds the budget spent.
				if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":again")); got != "note:line=skipped note:email=sent" {
					t.Errorf("over budget: %s", got)
				}
			}
		})
	}
}

// TestLineOrEmailWhateverTheListedOrder: a line_or_email campaign tries
// LINE before deciding on email even when its file lists email first, and
// a dry run (no channel token) reached nobody, so the email goes.
func TestLineOrEmailWhateverTheListedOrder(t *testing.T) {
	const emailFirst = "trigger: order.created\nkind: transactional\nchannel: line_or_email\nactions:\n  - {type: email, template: winback}\n  - {type: line, template: winback}\n"
	t.Run("linked: LINE only", func(t *testing.T) {
		r, api := lineRunnerFor(t, emailFirst)
		p, o := linked(t, "o-1")
		if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":order.created")); got != "note:line=sent" {
			t.Errorf("outcomes = %s, want note:line=sent", got)
		}
		if n := len(api.Requests(lineapi.PushPath)); n != 1 {
			t.Errorf("%d pushes, want 1", n)
		}
		if n := len(testenv.SentEmails(t, p.Email)); n != 0 {
			t.Errorf("%d emails as well as the LINE message", n)
		}
	})
	t.Run("dry run: email as well", func(t *testing.T) {
		r, _ := lineRunnerFor(t, emailFirst)
		r.Line = line.NewDryRun(io.Discard)
		p, o := linked(t, "o-2")
		if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":order.created")); got != "note:line=dry_run note:email=sent" {
			t.Errorf("outcomes = %s, want note:line=dry_run note:email=sent", got)
		}
		if n := len(testenv.SentEmails(t, p.Email)); n != 1 {
			t.Errorf("%d emails, want 1", n)
		}
	})
}

// TestConsentPerChannel: marketing on LINE needs the customer's LINE user
// to follow the shop's account, marketing email needs email consent, and
// leaving one channel leaves the other as it was.
func TestConsentPerChannel(t *testing.T) {
	const both = "trigger: order.created\nkind: marketing\nactions:\n  - {type: line, template: winback}\n  - {type: email, template: winback}\n"
	tests := []struct {
		name    string
		profile func(t *testing.T) (customer.Profile, order.Order)
		want    string
		pushes  int
		emails  int
	}{
		{name: "both consents: both channels", profile: func(t *testing.T) (customer.Profile, order.Order) { return linked(t, "pc-1") },
			want: "note:line=sent note:email=sent", pushes: 1, emails: 1},
		{name: "LINE follower without email consent: LINE only", profile: func(t *testing.T) (customer.Profile, order.Order) {
			p, o := linked(t, "pc-2")
			p.Consent = customer.Consent{State: order.ConsentDenied, Source: "checkout", At: tokyo(0, 0)}
			return p, o
		}, want: "note:line=sent note:email=skipped", pushes: 1},
		{name: "email unsubscribe leaves LINE", profile: func(t *testing.T) (customer.Profile, order.Order) {
			p, o := linked(t, "pc-3")
			p.Unsubscribe("email", "unsubscribe:one-click", tokyo(1, 0))
			return p, o
		}, want: "note:line=sent note:email=skipped", pushes: 1},
		{name: "linked but not known to follow: email only", profile: func(t *testing.T) (customer.Profile, order.Order) {
			p, o := buyer(t, "pc-4")
			p.LinkLine("U" + strings.Repeat("b", 32))
			return p, o
		}, want: "note:line=skipped note:email=sent", emails: 1},
		{name: "LINE blocked: email only", profile: func(t *testing.T) (customer.Profile, order.Order) {
			p, o := linked(t, "pc-5")
			p.UnfollowLine(p.LineUserID, tokyo(1, 0))
			return p, o
		}, want: "note:line=skipped note:email=sent", emails: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, api := lineRunnerFor(t, both)
			p, o := tt.profile(t)
			if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":order.created")); got != tt.want {
				t.Errorf("outcomes = %s, want %s", got, tt.want)
			}
			if n := len(api.Requests(lineapi.PushPath)); n != tt.pushes {
				t.Errorf("%d pushes, want %d", n, tt.pushes)
			}
			if n := len(testenv.SentEmails(t, p.Email)); n != tt.emails {
				t.Errorf("%d emails, want %d", n, tt.emails)
			}
		})
	}
}

// TestRefusedPushGivesBackItsBudget: a push LINE refused cost nothing, so
// its place in the campaign's monthly LINE budget goes to the next message.
func TestRefusedPushGivesBackItsBudget(t *testing.T) {
	r, api := lineRunner(t, "line_budget: 1\n")
	api.Script(lineapi.PushPath, lineapi.Answer{Status: 400, Body: `{"message":"The request body has 1 error(s)"}`})
	p, o := linked(t, "rb-1")
	if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":first")); got != "note:line=rejected note:email=sent" {
		t.Errorf("refused push: %s", got)
	}
	if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":second")); got != "note:line=sent" {
		t.Errorf("next message, budget 1 with the refused one given back: %s", got)
	}
}

// TestDryRunSpendsNoBudget: without a channel token nothing reaches LINE,
// so a dry run gives its place in the monthly budget back.
func TestDryRunSpendsNoBudget(t *testing.T) {
	r, _ := lineRunner(t, "line_budget: 1\n")
	r.Line = line.NewDryRun(io.Discard)
	p, o := linked(t, "dr-1")
	for _, key := range []string{"first", "second"} {
		if got := statuses(runOnce(t, r, p, o, "order:"+o.ID+":"+key)); got != "note:line=dry_run note:email=sent" {
			t.Errorf("%s: %s", key, got)
		}
	}
	used, err := r.Store.(*store.Store).LineBudgetUsed(context.Background(), "note", tokyo(12, 0).Format("2006-01"))
	if err != nil || used != 0 {
		t.Errorf("budget used %d (%v) after dry runs, want 0", used, err)
	}
}
