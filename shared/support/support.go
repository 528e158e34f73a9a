// Package support hears customers' problems first: a complaint about a
// marketing email, a low satisfaction score, a one-or-two-star review.
// Each opens a case once (store.OpenCase, keyed by what raised it), keeps
// marketing away from the customer for the cooling-off period
// (settings.yaml support.cooling_off), so the next message they get is
// not a coupon, and is told to the shop's support address (and a
// Slack-compatible webhook when one is set) by the next tick (Desk.Tell),
// once.
package support

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	texttemplate "text/template"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Causes of a case.
const (
	// Complaint: the customer marked a marketing email as spam.
	Complaint = "complaint"
	// LowReview: the customer wrote a one-or-two-star review.
	LowReview = "low_review"
	// LowScore: the customer gave a survey a low score (an NPS detractor,
	// a CSAT of 1 or 2).
	LowScore = "low_score"
)

// LowRating is the highest review rating that opens a case.
const LowRating = 2

// causeLabels name the causes in the email to support.
var causeLabels = map[string]string{
	Complaint:    "迷惑メールとして報告されました（苦情）",
	LowReview:    "低評価（★1〜2）のレビューが届きました",
	LowScore:     "アンケートで低い評価をいただきました",
	NotDelivered: "発送したご注文が届いていない可能性があります",
}

// Store is where cases and the customers' cooling-off are kept (a
// *store.Store).
type Store interface {
	OpenCase(ctx context.Context, c store.Case) (bool, error)
	CoolCustomerOff(ctx context.Context, id string, until time.Time) (bool, error)
}

// Opener opens cases.
type Opener struct {
	Store Store
	// CoolingOff is how long marketing keeps away after a case.
	CoolingOff time.Duration
}

// Open records the case and keeps marketing away from its customer until
// c.At + CoolingOff (a customer without a profile has nothing to cool).
// Both steps are idempotent: a retry of the event that raised it
// converges, and the cooling-off never shortens.
func (o *Opener) Open(ctx context.Context, c store.Case) error {
	opened, err := o.Store.OpenCase(ctx, c)
	if err != nil {
		return err
	}
	until := c.At.Add(o.CoolingOff)
	if _, err := o.Store.CoolCustomerOff(ctx, c.CustomerID, until); err != nil {
		return fmt.Errorf("cool off customer of case %s: %w", c.ID, err)
	}
	if opened {
		slog.InfoContext(ctx, "support case opened", "case_id", c.ID, "cause", c.Cause, "cooling_until", until)
	}
	return nil
}

// TellStore is what Desk reads the open cases from and claims its emails
// in (a *store.Store).
type TellStore interface {
	OpenCases(ctx context.Context) ([]store.Case, error)
	TellCase(ctx context.Context, id string, at time.Time) error
	ClaimNotice(ctx context.Context, name string, at time.Time, retention time.Duration) (bool, error)
	ReleaseNotice(ctx context.Context, name string, at time.Time) error
	MarkNoticeSent(ctx context.Context, name string, at time.Time) error
	NoticeSent(ctx context.Context, name string) (bool, error)
}

// Mailer sends an email (an *email.Sender).
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// Poster posts a text message to a chat webhook (a *Slack).
type Poster interface {
	Post(ctx context.Context, text string) error
}

// Desk tells the shop's support of open cases.
type Desk struct {
	Store  TellStore
	Mailer Mailer
	// Slack, when set, is told of each case beside the email
	// (settings.yaml support.slack_webhook_url).
	Slack Poster
	// Support is the support settings: the address told, the cooling-off.
	Support  rules.Support
	Shop     string
	Location *time.Location
}

// Tell emails support one message per open case (and posts it to Slack
// when a webhook is set), takes each case whose notices all went out of
// the open index, and returns how many cases it told something of. Each
// notice is claimed first, so overlapping ticks send it once, and marked
// sent before its case closes: a tick that died after claiming is taken
// over once its claim is stale (store.NoticeStaleAfter), never lost. A
// send that failed gives its claim back for the next tick; one refused
// for good (the support address unverified, the Slack hook removed) keeps
// it until stale, so it is tried again every few ticks, not every tick.
// The email and the Slack post are claimed apart: a failing post never
// holds the email up, and is tried again by the next ticks until
// SlackGiveUp after the case. One case's failure never keeps the others
// from being told; the errors are returned together.
func (d *Desk) Tell(ctx context.Context, now time.Time) (int, error) {
	if d.Support.Address == "" && d.Slack == nil {
		return 0, nil
	}
	cases, err := d.Store.OpenCases(ctx)
	if err != nil {
		return 0, err
	}
	told := 0
	var errs []error
	for _, c := range cases {
		sent, err := d.tell(ctx, c, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("tell case %s: %w", c.ID, err))
		}
		if sent {
			told++
			slog.InfoContext(ctx, "support case told", "case_id", c.ID, "cause", c.Cause)
		}
	}
	return told, errors.Join(errs...)
}

// tell sends c's email and Slack post unless another tick has (or is
// sending them), and closes c once both are known sent; it reports
// whether it sent either.
func (d *Desk) tell(ctx context.Context, c store.Case, now time.Time) (bool, error) {
	mailSent, mailDone := false, true
	var errs []error
	if d.Support.Address != "" {
		var err error
		mailSent, mailDone, err = d.notify(ctx, "case#"+c.ID, now, func() error {
			m, err := d.message(c)
			if err == nil {
				_, err = d.Mailer.Send(ctx, m)
			}
			return err
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	slackSent, slackDone := false, true
	if d.Slack != nil {
		var err error
		slackSent, slackDone, err = d.notify(ctx, "case-slack#"+c.ID, now, func() error { return d.Slack.Post(ctx, d.slackText(c)) })
		if err != nil {
			errs = append(errs, err)
		}
		if !slackDone && mailDone && now.Sub(c.At) >= SlackGiveUp {
			slog.WarnContext(ctx, "support case slack given up", "case_id", c.ID)
			slackDone = true
		}
	}
	if mailDone && slackDone {
		errs = append(errs, d.Store.TellCase(ctx, c.ID, now))
	}
	return mailSent || slackSent, errors.Join(errs...)
}

// notify sends the notice name with send unless another tick has (or is
// sending it): sent says this call sent it, done that it is known sent.
func (d *Desk) notify(ctx context.Context, name string, now time.Time, send func() error) (sent, done bool, err error) {
	claimed, err := d.Store.ClaimNotice(ctx, name, now, store.CaseRetention)
	if err != nil {
		return false, false, err
	}
	if !claimed {
		// Sent by another tick, or being sent (leave it).
		done, err := d.Store.NoticeSent(ctx, name)
		return false, done, err
	}
	err = send()
	switch {
	case errors.Is(err, email.ErrRejected), errors.Is(err, ErrSlackRejected):
		return false, false, err // the claim stays until stale
	case err != nil:
		return false, false, errors.Join(err, d.Store.ReleaseNotice(ctx, name, now))
	}
	return true, true, d.Store.MarkNoticeSent(ctx, name, now)
}

//go:embed case.html.tmpl
var caseSource string

// The email about a case: its HTML part escaped as HTML (what customers
// said is shown as text), its text part as written.
var (
	caseHTML = htmltemplate.Must(htmltemplate.New("case").Parse(caseSource))
	caseText = texttemplate.Must(texttemplate.New("case").Parse(caseSource))
)

// caseView is what the email about one case shows.
type caseView struct {
	Shop, Cause, At, Until string
	Case                   store.Case
}

// message is the email to support about c.
func (d *Desk) message(c store.Case) (email.Message, error) {
	label := causeLabels[c.Cause]
	if label == "" {
		label = c.Cause
	}
	v := caseView{Shop: d.Shop, Cause: label, Case: c,
		At:    c.At.In(d.Location).Format("2006-01-02 15:04"),
		Until: c.At.Add(d.Support.CoolingOff).In(d.Location).Format(time.DateOnly)}
	var html, text bytes.Buffer
	if err := caseHTML.ExecuteTemplate(&html, "html", v); err != nil {
		return email.Message{}, fmt.Errorf("render case %s: %w", c.ID, err)
	}
	if err := caseText.ExecuteTemplate(&text, "text", v); err != nil {
		return email.Message{}, fmt.Errorf("render case %s: %w", c.ID, err)
	}
	return email.Message{To: d.Support.Address, Subject: fmt.Sprintf("【要対応】%s お客様 %s: %s", d.Shop, c.CustomerID, label), HTML: html.String(), Text: text.String()}, nil
}
