// Package digest emails the shop's report to its staff (the addresses in
// rules/settings.yaml, report.recipients): every Monday from 09:00 shop
// time the past week's report, once per ISO week, and an alert when the
// complaint or bounce rate of the last 7 days nears or passes the limits
// mailbox providers and SES enforce, once per day, rate and level (a rate
// near its limit in the morning and over it by the evening is told twice).
//
// The job runs every 5 minutes and decides from the shop's clock,
// so it follows the shop's zone in settings.yaml and a failed tick is
// made up by the next. Each email is claimed before it is sent (a
// conditional write, store.ClaimNotice): however often ticks repeat or
// overlap, it goes out once; a send that fails gives its claim back.
package digest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/report"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Store is what the job reads the figures from and claims its emails in
// (a *store.Store).
type Store interface {
	kpi.Reader
	ClaimNotice(ctx context.Context, name string, at time.Time, retention time.Duration) (bool, error)
	ReleaseNotice(ctx context.Context, name string, at time.Time) error
	MarkNoticeSent(ctx context.Context, name string, at time.Time) error
}

// Mailer sends an email (an *email.Sender).
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// When the weekly report goes out, in shop time, and what the alert
// looks at.
const (
	WeeklyDay  = time.Monday
	WeeklyHour = 9
	// AlertDays is the window of the alert's rates: the last 7 days,
	// today included.
	AlertDays = 7
	// AlertMinSent is how many emails the window must hold before a rate
	// says anything: below it one bounce is a double-digit percentage.
	AlertMinSent = 50
	// claimRetention keeps a claim past any tick that could repeat it.
	claimRetention = 40 * 24 * time.Hour
)

// Job is the weekly report and the deliverability alert.
type Job struct {
	Store  Store
	Mailer Mailer
	// Report is who gets the emails and which.
	Report   rules.Report
	Location *time.Location
	// Names and Campaigns are what the report shows, as tsunagu report
	// shows them.
	Names     report.Names
	Campaigns []kpi.Campaign
}

// NewJob is the job of the rule set: its recipients, zone, shop name,
// segments and campaigns.
func NewJob(st Store, mailer Mailer, set *rules.Set) *Job {
	return &Job{Store: st, Mailer: mailer, Report: set.Settings.Report, Location: set.Settings.Location, Names: report.NamesOf(set), Campaigns: report.CampaignsOf(set)}
}

// Result is what a tick sent: the weekly report's week ("" for none) and
// the alerts' causes.
type Result struct {
	Weekly string
	Alerts []string
}

// Run does what is due at now.
func (j *Job) Run(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	if len(j.Report.Recipients) == 0 {
		return res, nil
	}
	// Each goes whatever the other's fate: a report that cannot be made
	// never keeps an alert from going out.
	var weeklyErr, alertsErr error
	if j.Report.Weekly {
		res.Weekly, weeklyErr = j.weekly(ctx, now)
	}
	if j.Report.Alerts {
		res.Alerts, alertsErr = j.alerts(ctx, now)
	}
	return res, errors.Join(weeklyErr, alertsErr)
}

// weekly sends the week before's report from Monday 09:00 shop time,
// and until the week ends to a recipient a failed tick left out: each
// week's report goes to each recipient once.
func (j *Job) weekly(ctx context.Context, now time.Time) (string, error) {
	local := now.In(j.Location)
	// This week's Monday (ISO weeks start on Monday).
	monday := time.Date(local.Year(), local.Month(), local.Day()-(int(local.Weekday())+6)%7, 0, 0, 0, 0, j.Location)
	if local.Before(monday.Add(WeeklyHour * time.Hour)) {
		return "", nil
	}
	period := kpi.Period{From: monday.AddDate(0, 0, -7), To: monday.AddDate(0, 0, -1)}
	year, wk := monday.ISOWeek()
	week := fmt.Sprintf("%d-W%02d", year, wk)
	// Claimed before it is computed: the ticks after the one that sent it
	// read nothing.
	told, err := j.deliver(ctx, []string{"report-weekly#" + week}, now, func() (email.Message, error) {
		f, err := kpi.Compute(ctx, j.Store, period, j.Campaigns, now)
		if err != nil {
			return email.Message{}, fmt.Errorf("compute the weekly report %s: %w", week, err)
		}
		return ReportMessage(f, j.Names)
	})
	if len(told) == 0 {
		return "", err
	}
	slog.InfoContext(ctx, "weekly report sent", "week", week, "period", period.String(), "recipients", len(j.Report.Recipients))
	return week, err
}

// alerts sends one alert for the rates (bounce, complaint) near or over a
// limit in the last AlertDays days that have not been told today at that
// level.
func (j *Job) alerts(ctx context.Context, now time.Time) ([]string, error) {
	local := now.In(j.Location)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, j.Location)
	period := kpi.Period{From: today.AddDate(0, 0, 1-AlertDays), To: today}
	d, err := kpi.DeliverabilityIn(ctx, j.Store, period)
	if err != nil {
		return nil, fmt.Errorf("read deliverability of %s: %w", period, err)
	}
	if d.Sent < AlertMinSent {
		return nil, nil
	}
	causes := causes(d)
	if len(causes) == 0 {
		return nil, nil
	}
	names := make([]string, len(causes))
	for i, c := range causes {
		names[i] = "alert#" + today.Format(time.DateOnly) + "#" + c
	}
	told, err := j.deliver(ctx, names, now, func() (email.Message, error) {
		e, err := report.AlertEmail(d, period, j.Names)
		return message(e), err
	})
	if len(told) == 0 {
		return nil, err
	}
	slog.InfoContext(ctx, "deliverability alert sent", "causes", told, "period", period.String(),
		"sent", d.Sent, "bounce_rate", d.BounceRate(), "complaint_rate", d.ComplaintRate())
	return told, err
}

// causes are the rates near or over a limit with their worst level, as
// "bounce-near" or "complaint-over": a rate that passes its limit later
// in a day it was near is a new cause.
func causes(d kpi.Deliverability) []string {
	worst := map[string]kpi.Level{}
	for _, c := range d.Checks {
		rate := "complaint"
		if c.Name == "bounce" {
			rate = "bounce"
		}
		worst[rate] = max(worst[rate], c.Level)
	}
	var out []string
	for _, rate := range []string{"bounce", "complaint"} {
		switch worst[rate] {
		case kpi.Near:
			out = append(out, rate+"-near")
		case kpi.Over:
			out = append(out, rate+"-over")
		}
	}
	return out
}

// deliver sends the notices names, as one email that build makes (once,
// and only when someone is due it), to each recipient who has not had
// them, and returns the notices that reached at least one recipient.
// Each recipient's notice is claimed first, so however ticks repeat or
// overlap it goes once; a send that went is marked, one that failed
// gives its claims back for the next tick, and one SES refused for good
// (email.ErrRejected: an unverified address in the SES sandbox) keeps
// them and is reported, never tried every tick. One recipient's failure
// never keeps the email from the others.
func (j *Job) deliver(ctx context.Context, names []string, now time.Time, build func() (email.Message, error)) ([]string, error) {
	var (
		built *email.Message
		told  []string
		errs  []error
	)
	for i, to := range j.Report.Recipients {
		var claimed []string
		for _, name := range names {
			mine := name + "#" + recipientKey(to)
			ok, err := j.Store.ClaimNotice(ctx, mine, now, claimRetention)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				claimed = append(claimed, mine)
			}
		}
		if len(claimed) == 0 {
			continue
		}
		if built == nil {
			m, err := build()
			if err != nil {
				return told, errors.Join(append(errs, err, j.release(ctx, claimed, now))...)
			}
			built = &m
		}
		m := *built
		m.To = to
		_, err := j.Mailer.Send(ctx, m)
		switch {
		case errors.Is(err, email.ErrRejected):
			errs = append(errs, fmt.Errorf("send %s to recipient %d of report.recipients: %w", m.Subject, i+1, err))
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("send %s to recipient %d of report.recipients: %w", m.Subject, i+1, err), j.release(ctx, claimed, now))
			continue
		}
		for _, name := range claimed {
			if err := j.Store.MarkNoticeSent(ctx, name, now); err != nil {
				errs = append(errs, err)
			}
			if base := name[:strings.LastIndex(name, "#")]; !slices.Contains(told, base) {
				told = append(told, base)
			}
		}
	}
	return told, errors.Join(errs...)
}

// release gives back the claims made at now.
func (j *Job) release(ctx context.Context, claimed []string, now time.Time) error {
	var errs []error
	for _, name := range claimed {
		errs = append(errs, j.Store.ReleaseNotice(ctx, name, now))
	}
	return errors.Join(errs...)
}

// recipientKey names a recipient in notice names without the address.
func recipientKey(address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return hex.EncodeToString(sum[:6])
}

// ReportMessage is the report of the figures' period as an email (its
// recipient to be set): the summary in the message, the full page
// attached as report-<first day>.html.
func ReportMessage(f *kpi.Figures, names report.Names) (email.Message, error) {
	name := "report-" + f.Period.From.Format(time.DateOnly) + ".html"
	var page bytes.Buffer
	if err := report.HTML(&page, f, names); err != nil {
		return email.Message{}, err
	}
	e, err := report.PeriodEmail(f, names, name)
	if err != nil {
		return email.Message{}, err
	}
	m := message(e)
	m.Attachments = []email.Attachment{{Name: name, ContentType: "text/html; charset=UTF-8", Content: page.Bytes()}}
	return m, nil
}

// message is e as an email, its recipient to be set.
func message(e report.Email) email.Message {
	return email.Message{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
}
