// Package support hears customers' problems first: a complaint about a
// marketing email, a low satisfaction score, a one-or-two-star review.
// Each opens a case once (store.OpenCase, keyed by what raised it), keeps
// marketing away from the customer for the cooling-off period
// (settings.yaml support.cooling_off), so the next message they get is
// not a coupon, and is told to the shop's support address by the next
// tick (Desk.Tell), once.
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

// Desk tells the shop's support of open cases.
type Desk struct {
	Store  TellStore
	Mailer Mailer
	// Support is the support settings: the address told, the cooling-off.
	Support  rules.Support
	Shop     string
	Location *time.Location
}

// Tell emails support one message per open case, takes each told case
// out of the open index, and returns how many it told. Each case's email
// is claimed first, so overlapping ticks tell it once, and marked sent
// before its case closes: a tick that died after claiming is taken over
// once its claim is stale (store.NoticeStaleAfter), never lost. A send
// that failed gives its claim back for the next tick; one SES refused for
// good (the support address unverified) keeps it until stale, so it is
// tried again every few ticks, not every tick. One case's failure never
// keeps the others from being told; the errors are returned together.
func (d *Desk) Tell(ctx context.Context, now time.Time) (int, error) {
	cases, err := d.Store.OpenCases(ctx)
	if err != nil || d.Support.Address == "" {
		return 0, err
	}
	told := 0
	var errs []error
	for _, c := range cases {
		sent, err := d.tell(ctx, c, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("tell case %s: %w", c.ID, err))
			continue
		}
		if sent {
			told++
			slog.InfoContext(ctx, "support case told", "case_id", c.ID, "cause", c.Cause)
		}
	}
	return told, errors.Join(errs...)
}

// tell sends c's email unless another tick has (or is sending it), and
// closes c once its email is known sent; it reports whether it sent it.
func (d *Desk) tell(ctx context.Context, c store.Case, now time.Time) (bool, error) {
	name := "case#" + c.ID
	claimed, err := d.Store.ClaimNotice(ctx, name, now, store.CaseRetention)
	if err != nil {
		return false, err
	}
	if !claimed {
		// Sent by another tick (close it), or being sent (leave it).
		sent, err := d.Store.NoticeSent(ctx, name)
		if err != nil || !sent {
			return false, err
		}
		return false, d.Store.TellCase(ctx, c.ID, now)
	}
	m, err := d.message(c)
	if err == nil {
		_, err = d.Mailer.Send(ctx, m)
	}
	switch {
	case errors.Is(err, email.ErrRejected):
		return false, err // the claim stays until stale
	case err != nil:
		return false, errors.Join(err, d.Store.ReleaseNotice(ctx, name, now))
	}
	if err := d.Store.MarkNoticeSent(ctx, name, now); err != nil {
		return true, err
	}
	return true, d.Store.TellCase(ctx, c.ID, now)
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
