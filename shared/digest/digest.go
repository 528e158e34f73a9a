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
	"errors"
	"fmt"
	"log/slog"
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
	if j.Report.Weekly {
		week, err := j.weekly(ctx, now)
		if err != nil {
			return res, err
		}
		res.Weekly = week
	}
	if j.Report.Alerts {
		causes, err := j.alerts(ctx, now)
		res.Alerts = causes
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// weekly sends the past week's report when it is Monday from 09:00 shop
// time and this week's has not gone out.
func (j *Job) weekly(ctx context.Context, now time.Time) (string, error) {
	local := now.In(j.Location)
	if local.Weekday() != WeeklyDay || local.Hour() < WeeklyHour {
		return "", nil
	}
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, j.Location)
	period := kpi.Period{From: today.AddDate(0, 0, -7), To: today.AddDate(0, 0, -1)}
	year, wk := today.ISOWeek()
	week := fmt.Sprintf("%d-W%02d", year, wk)
	// Claimed before it is computed: the ticks after the one that sent it
	// read nothing.
	told, err := j.sendOnce(ctx, []string{"report-weekly#" + week}, now, func() (email.Message, error) {
		f, err := kpi.Compute(ctx, j.Store, period, j.Campaigns, now)
		if err != nil {
			return email.Message{}, fmt.Errorf("compute the weekly report %s: %w", week, err)
		}
		return ReportMessage(f, j.Names, j.Report.Recipients)
	})
	if err != nil || len(told) == 0 {
		return "", err
	}
	slog.InfoContext(ctx, "weekly report sent", "week", week, "period", period.String(), "recipients", len(j.Report.Recipients))
	return week, nil
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
	told, err := j.sendOnce(ctx, names, now, func() (email.Message, error) {
		e, err := report.AlertEmail(d, period, j.Names)
		return message(e, j.Report.Recipients), err
	})
	if err != nil || len(told) == 0 {
		return nil, err
	}
	slog.InfoContext(ctx, "deliverability alert sent", "causes", told, "period", period.String(),
		"sent", d.Sent, "bounce_rate", d.BounceRate(), "complaint_rate", d.ComplaintRate())
	return told, nil
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

// sendOnce claims the notices names and, when it claimed any, builds the
// message and sends it; it returns what it claimed (those another tick has
// claimed are left out). A message that could not be built or sent gives
// the claims back, so the next tick tries again, unless SES refused it for
// good (email.ErrRejected): then the claims stay and the error is returned.
func (j *Job) sendOnce(ctx context.Context, names []string, now time.Time, build func() (email.Message, error)) ([]string, error) {
	var claimed []string
	release := func(cause error) error {
		for _, name := range claimed {
			if err := j.Store.ReleaseNotice(ctx, name, now); err != nil {
				return fmt.Errorf("%w (and give back the claim of %s: %w)", cause, name, err)
			}
		}
		return cause
	}
	for _, name := range names {
		ok, err := j.Store.ClaimNotice(ctx, name, now, claimRetention)
		if err != nil {
			return nil, release(err)
		}
		if ok {
			claimed = append(claimed, name)
		}
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	m, err := build()
	if err != nil {
		return nil, release(err)
	}
	if _, err := j.Mailer.Send(ctx, m); err != nil {
		if errors.Is(err, email.ErrRejected) {
			// SES refuses it for good (an unverified or suppressed
			// address): trying every tick cannot help. The claims stay,
			// the error is reported for the on-call engineer.
			return nil, fmt.Errorf("send %s: %w", m.Subject, err)
		}
		return nil, release(fmt.Errorf("send %s: %w", m.Subject, err))
	}
	return claimed, nil
}

// ReportMessage is the report of the figures' period as an email to the
// recipients (at least one): the summary in the message, the full page
// attached as report-<first day>.html.
func ReportMessage(f *kpi.Figures, names report.Names, recipients []string) (email.Message, error) {
	name := "report-" + f.Period.From.Format(time.DateOnly) + ".html"
	var page bytes.Buffer
	if err := report.HTML(&page, f, names); err != nil {
		return email.Message{}, err
	}
	e, err := report.PeriodEmail(f, names, name)
	if err != nil {
		return email.Message{}, err
	}
	m := message(e, recipients)
	m.Attachments = []email.Attachment{{Name: name, ContentType: "text/html; charset=UTF-8", Content: page.Bytes()}}
	return m, nil
}

// message is e to the recipients: the first in To, the others in Cc.
func message(e report.Email, recipients []string) email.Message {
	return email.Message{To: recipients[0], Cc: recipients[1:], Subject: e.Subject, HTML: e.HTML, Text: e.Text}
}
