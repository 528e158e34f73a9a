// Package report renders a period's figures (shared/kpi) for a marketer:
// a summary table for the terminal and one self-contained HTML page
// (inline CSS and SVG charts drawn here, no script, nothing fetched) with
// the KPI tiles, the cohort retention heat map, each campaign's lift with
// its interval, the decile revenue chart, the deliverability panel and
// the per-campaign funnel, in Japanese and readable on a phone.
package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

//go:embed report.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"half":  func(v float64) float64 { return v / 2 },
	"width": func(lo, hi float64) float64 { return max(hi-lo, 1) },
}).Parse(pageSource))

// Names are what the figures show by name: the shop's, and the segments'
// descriptions (rules/segments.yaml) by segment name.
type Names struct {
	Shop     string
	Segments map[string]string
}

// NamesOf are the names of the rule set: the shop's and the segments'.
func NamesOf(set *rules.Set) Names {
	names := Names{Shop: set.Settings.Shop.Name, Segments: map[string]string{}}
	for name, seg := range set.Segments {
		names.Segments[name] = seg.Description
	}
	return names
}

// CampaignsOf are the campaigns of the rule set, by id and name, for
// kpi.Compute.
func CampaignsOf(set *rules.Set) []kpi.Campaign {
	out := make([]kpi.Campaign, 0, len(set.Campaigns))
	for _, c := range set.Campaigns {
		out = append(out, kpi.Campaign{ID: c.ID, Name: c.Name})
	}
	return out
}

// HTML writes the figures as one self-contained HTML page.
func HTML(w io.Writer, f *kpi.Figures, names Names) error {
	if err := pageTemplate.Execute(w, newPage(f, names)); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

// Summary writes the headline figures as a table for the terminal.
func Summary(w io.Writer, f *kpi.Figures, names Names) error {
	p := newPage(f, names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s レポート %s（前期間 %s と比較）\n", p.Shop, p.Period, p.Previous)
	if p.Empty {
		b.WriteString("この期間のデータはありません。\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	table(&b, []string{"指標", "今期", "前期比"}, func(add func(...string)) {
		for _, t := range p.Tiles {
			add(t.Label, t.Value, t.Change)
		}
		for _, s := range p.Second {
			note := ""
			if s.Provisional {
				note = "暫定"
			}
			add("2回目購入 "+s.Label, s.Rate, note)
		}
		d := p.Deliverability
		add("バウンス率", d.Bounce, "")
		add("苦情率", d.Complaint, "")
		add("配信停止率", d.Unsubscribe, "")
	})
	for _, warn := range p.Deliverability.Warnings {
		b.WriteString("注意: " + warn + "\n")
	}
	if len(p.Funnel) > 0 {
		b.WriteString("\n")
		table(&b, []string{"施策", "送信", "配信", "クリック", "購入", "売上"}, func(add func(...string)) {
			for _, r := range p.Funnel {
				add(r.Name, r.Sent.Value, r.Delivered.String(), r.Clicked.String(), r.Converted.String(), r.Revenue)
			}
		})
	}
	if len(p.Lifts) > 0 {
		b.WriteString("\n施策の効果:\n")
		for _, l := range p.Lifts {
			fmt.Fprintf(&b, "  %s: %s\n", l.Name, l.Sentence)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// table writes rows under a header, each column as wide as its widest
// cell on a terminal (Japanese characters take two columns); the first
// column is left-aligned, the others right-aligned.
func table(b *strings.Builder, head []string, rows func(add func(...string))) {
	all := [][]string{head}
	rows(func(cells ...string) { all = append(all, cells) })
	widths := make([]int, len(head))
	for _, r := range all {
		for i, c := range r {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range all {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = pad(c, widths[i], i > 0)
		}
		b.WriteString(strings.TrimRight(strings.Join(cells, "  "), " ") + "\n")
	}
}
