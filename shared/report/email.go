package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	_ "embed"

	"github.com/tsunagu-dev/tsunagu/shared/kpi"
)

//go:embed email.html.tmpl
var emailSource string

// emailColors are the text colours of a trend (up, down, flat) and of a
// level (fine, near, over): mail clients need them inline.
var emailColors = map[string]string{"up": "#047857", "down": "#b91c1c", "flat": "#6b7280", "fine": "#047857", "near": "#b45309", "over": "#b91c1c"}

var emailTemplates = template.Must(template.New("email").Funcs(template.FuncMap{
	"color": func(name string) string { return emailColors[name] },
}).Parse(emailSource))

// Email is one rendered email to the shop's staff.
type Email struct {
	Subject, HTML, Text string
}

// PeriodEmail renders the report email of a period (the weekly report's,
// or any period's from tsunagu report --email): the KPI tiles, the
// deliverability warnings, each campaign's funnel and lift in HTML that
// mail clients show (tables and inline styles; they drop SVG and style
// sheets), and the summary table as its text part. The charts are in the
// full page, sent with it as the attachment named attachment.
func PeriodEmail(f *kpi.Figures, names Names, attachment string) (Email, error) {
	p := newPage(f, names)
	title := "レポート"
	if f.Period.Days() == 7 {
		title = "週次レポート"
	}
	e := Email{Subject: fmt.Sprintf("【%s】%s %s", names.Shop, title, p.Period)}
	var text strings.Builder
	if err := Summary(&text, f, names); err != nil {
		return Email{}, err
	}
	text.WriteString("\nグラフ（コホート、デシル、施策の効果）は添付の " + attachment + " をブラウザで開いてご覧ください。\n")
	e.Text = text.String()
	var html bytes.Buffer
	if err := emailTemplates.ExecuteTemplate(&html, "weekly", struct {
		Subject, Title, Attachment string
		Page                       *page
	}{e.Subject, title, attachment, p}); err != nil {
		return Email{}, fmt.Errorf("render report email: %w", err)
	}
	e.HTML = html.String()
	return e, nil
}

// AlertEmail renders the alert that email complaints or bounces in period
// p near or pass the limits mailbox providers and SES enforce.
func AlertEmail(d kpi.Deliverability, p kpi.Period, names Names) (Email, error) {
	panel := newDeliverability(d)
	over := d.Worst() == kpi.Over
	state := "上限に近づいています"
	if over {
		state = "上限を超えています"
	}
	e := Email{Subject: fmt.Sprintf("【要確認】%s メール配信の%sが%s", names.Shop, alertWhat(d), state)}
	var text strings.Builder
	fmt.Fprintf(&text, "%s・直近 %s の配信\n\n", names.Shop, periodLabel(p))
	table(&text, []string{"指標", "実績", "上限"}, func(add func(...string)) {
		for _, c := range panel.Checks {
			add(c.Label, c.Rate, c.Limit)
		}
	})
	fmt.Fprintf(&text, "\n送信 %s・配信 %s・バウンス %s・苦情 %s\n", panel.Sent, panel.Delivered, count(d.Bounced, "通"), count(d.Complained, "通"))
	for _, w := range panel.Warnings {
		text.WriteString("注意: " + w + "\n")
	}
	e.Text = text.String()
	var html bytes.Buffer
	if err := emailTemplates.ExecuteTemplate(&html, "alert", struct {
		Subject, Shop, Period, Sent, Delivered, Bounced, Complained string
		Over                                                        bool
		Checks                                                      []checkRow
		Warnings                                                    []string
	}{e.Subject, names.Shop, periodLabel(p), panel.Sent, panel.Delivered, count(d.Bounced, "通"), count(d.Complained, "通"), over, panel.Checks, panel.Warnings}); err != nil {
		return Email{}, fmt.Errorf("render deliverability alert: %w", err)
	}
	e.HTML = html.String()
	return e, nil
}

// alertWhat names the rates that stand near or over their limit.
func alertWhat(d kpi.Deliverability) string {
	var bounce, complaint bool
	for _, c := range d.Checks {
		if c.Level == kpi.Fine {
			continue
		}
		if c.Name == "bounce" {
			bounce = true
		} else {
			complaint = true
		}
	}
	switch {
	case bounce && complaint:
		return "バウンス率と苦情率"
	case bounce:
		return "バウンス率"
	}
	return "苦情率"
}
