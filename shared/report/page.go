package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/lift"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// page is what the HTML template lays out: every figure already
// formatted, every chart already measured.
type page struct {
	Shop, Period, Previous, Generated string
	Empty                             bool
	Tiles                             []tile
	Second                            []secondRow
	Heat                              *heatmap
	Lifts                             []liftView
	Deciles                           *barChart
	SnapshotDate                      string
	Stages                            []stageRow
	Segments                          []stageRow
	Migration                         *migration
	Deliverability                    deliverability
	Funnel                            []funnelRow
}

// tile is one KPI with its change against the previous period.
type tile struct {
	Label, Value, Change, Trend, Note string
}

// npsByStage is the NPS of each lifecycle stage with answers (the
// customer's stage when they first answered): "・新規 +20（5件）…".
func npsByStage(t kpi.Totals) string {
	var out string
	for _, st := range stageLabels {
		if nps, answers := t.NPSOf(st.Stage); answers > 0 {
			out += ja.Sprintf("・%s %+.0f（%d件）", st.Label, nps, answers)
		}
	}
	return out
}

// stageLabels are the lifecycle stages in Japanese, in the order shown.
var stageLabels = []struct{ Stage, Label string }{
	{"new", "新規"}, {"repeat", "リピート"}, {"loyal", "優良"}, {"at_risk", "離反予備"}, {"dormant", "休眠"}, {"none", "購入なし"},
}

func stageLabel(s string) string {
	for _, l := range stageLabels {
		if l.Stage == s {
			return l.Label
		}
	}
	return s
}

// japaneseDate is a date as 2026年11月1日.
func japaneseDate(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}

func periodLabel(p kpi.Period) string {
	return japaneseDate(p.From) + "〜" + japaneseDate(p.To)
}

// newPage lays out the figures.
func newPage(f *kpi.Figures, names Names) *page {
	p := &page{
		Shop: names.Shop, Period: periodLabel(f.Period), Previous: periodLabel(f.Previous),
		Generated: f.AsOf.In(f.Period.From.Location()).Format("2006-01-02 15:04"), Empty: f.Empty,
	}
	if f.Empty {
		return p
	}
	p.Tiles = tiles(f)
	for _, c := range f.SecondPurchase {
		p.Second = append(p.Second, secondRow{
			Label: fmt.Sprintf("%d日以内", c.Days), Rate: percent(c.Rate()),
			Counts:      count(c.Converted, "人") + " / " + count(c.FirstOrders, "人"),
			Provisional: !c.Complete, Bar: barWidth(c.Rate()),
		})
	}
	p.Heat = newHeatmap(f.Cohorts)
	if f.Global != nil {
		p.Lifts = append(p.Lifts, newLiftView(f.Global.Name+"（施策全体の効果）", f.Global.Lift, "施策対象", "コントロール群"))
	}
	for _, c := range f.Campaigns {
		if c.Lift.Control.Customers > 0 {
			p.Lifts = append(p.Lifts, newLiftView(campaignName(c), c.Lift, "配信群", "ホールドアウト群"))
		}
	}
	if s := f.Snapshot; s != nil {
		p.SnapshotDate = s.Date
		p.Deciles = newDecileChart(s.Deciles[:], s.Revenue)
		for _, l := range stageLabels {
			if sh, ok := s.Stages[l.Stage]; ok {
				p.Stages = append(p.Stages, newShareRow(l.Label, sh))
			}
		}
		p.Migration = newMigration(s.Migration, s.MigrationSince)
		for _, name := range slices.Sorted(maps.Keys(s.Segments)) {
			label := name
			if d := names.Segments[name]; d != "" {
				label = d + "（" + name + "）"
			}
			p.Segments = append(p.Segments, newShareRow(label, s.Segments[name]))
		}
	}
	p.Deliverability = newDeliverability(f.Deliverability)
	for _, c := range f.Campaigns {
		p.Funnel = append(p.Funnel, newFunnelRow(c))
	}
	return p
}

func campaignName(c kpi.CampaignFigures) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// tiles are the headline KPIs: the period against the previous one.
func tiles(f *kpi.Figures) []tile {
	now, prev := f.Shop, f.PreviousShop
	hasPrev := len(prev.Counts) > 0
	amount := func(label string, v, pv float64, format func(float64) string) tile {
		t := tile{Label: label, Value: format(v)}
		t.Change, t.Trend = change(v, pv, hasPrev && pv != 0, signed((v-pv)/pv))
		return t
	}
	rate := func(label string, v, pv float64) tile {
		t := tile{Label: label, Value: percent(v)}
		t.Change, t.Trend = change(v, pv, hasPrev, points(v-pv))
		return t
	}
	ts := []tile{
		amount("売上", float64(now.Counts["revenue"]), float64(prev.Counts["revenue"]), yen),
		amount("注文数", float64(now.Counts["orders"]), float64(prev.Counts["orders"]), func(v float64) string { return count(int64(v), "件") }),
		amount("平均注文額", now.AOV(), prev.AOV(), yen),
		amount("新規顧客", float64(now.Counts["first_orders"]), float64(prev.Counts["first_orders"]), func(v float64) string { return count(int64(v), "人") }),
		rate("リピート注文比率", now.RepeatOrderRate(), prev.RepeatOrderRate()),
		rate("クロスセル率", now.CrossSellRate(), prev.CrossSellRate()),
		rate("クーポン利用率", now.CouponRate(), prev.CouponRate()),
	}
	if nps, answers := now.NPS(); answers > 0 {
		pnps, panswers := prev.NPS()
		t := tile{Label: "NPS（おすすめ度）", Value: ja.Sprintf("%+.0f", nps), Note: "回答 " + count(answers, "件") + npsByStage(now)}
		t.Change, t.Trend = change(nps, pnps, panswers > 0, ja.Sprintf("%+.0f", nps-pnps))
		ts = append(ts, t)
	}
	if csat, answers := now.CSAT(); answers > 0 {
		pcsat, panswers := prev.CSAT()
		t := tile{Label: "満足度（CSAT 4〜5の割合）", Value: percent(csat), Note: "回答 " + count(answers, "件")}
		t.Change, t.Trend = change(csat, pcsat, panswers > 0, points(csat-pcsat))
		ts = append(ts, t)
	}
	second, prevSecond := f.SecondPurchase[0], f.PreviousSecondPurchase[0]
	t := tile{Label: "2回目購入転換率（30日）", Value: percent(second.Rate())}
	t.Change, t.Trend = change(second.Rate(), prevSecond.Rate(), prevSecond.FirstOrders > 0, points(second.Rate()-prevSecond.Rate()))
	if !second.Complete {
		t.Note = "集計期間が未経過のため暫定値"
	}
	ts = append(ts, t)
	if s := f.Snapshot; s != nil && s.Customers > 0 {
		repeat := kpi.RepeatCustomerRate(*s)
		t := tile{Label: "リピート率（2回以上購入の顧客）", Value: percent(repeat), Note: count(int64(s.RepeatCustomers), "人") + "・" + s.Date + " 時点"}
		prevRepeat, hasPrevRepeat := 0.0, f.PreviousSnapshot != nil && f.PreviousSnapshot.Customers > 0
		if hasPrevRepeat {
			prevRepeat = kpi.RepeatCustomerRate(*f.PreviousSnapshot)
		}
		t.Change, t.Trend = change(repeat, prevRepeat, hasPrevRepeat, points(repeat-prevRepeat))
		ts = append(ts, t,
			tile{Label: "LINE連携率", Value: percent(kpi.Rate(int64(s.LineLinked), int64(s.Customers))), Trend: "flat",
				Note: "友だち（配信可）" + count(int64(s.LineFollowing), "人") + "・" + s.Date + " 時点"},
			tile{Label: "メール許諾率", Value: percent(kpi.Rate(int64(s.EmailConsenting), int64(s.Customers))), Trend: "flat", Note: s.Date + " 時点"},
		)
	}
	return ts
}

// change is the text and direction of a change, or a note that the
// previous period has nothing to compare with.
func change(v, pv float64, comparable bool, text string) (string, string) {
	switch {
	case !comparable:
		return "前期間データなし", "flat"
	case v > pv:
		return "▲ " + text, "up"
	case v < pv:
		return "▼ " + text, "down"
	}
	return "± 0", "flat"
}

// secondRow is the conversion to a second order within one window.
type secondRow struct {
	Label, Rate, Counts string
	Provisional         bool
	Bar                 float64
}

// barWidth is a rate as a bar's width in percent of its track (at least
// a sliver, so that a zero still shows where the bar starts).
func barWidth(r float64) float64 { return math.Round(max(min(r, 1), 0.005)*1000) / 10 }

// heatmap is the cohort retention heat map: rows are first-order months,
// columns months since.
type heatmap struct {
	Width, Height float64
	Cells         []heatCell
	Labels        []svgText
}

type heatCell struct {
	X, Y, W, H  float64
	Fill, Title string
	Text        string
	Dark        bool
}

type svgText struct {
	X, Y   float64
	Text   string
	Anchor string
}

const (
	heatLabelWidth = 150.0
	heatColumn     = 46.0
	heatRow        = 32.0
	// heatRepeatColumn holds each cohort's repeat rate within 90 days.
	heatRepeatColumn = 110.0
)

func newHeatmap(cohorts []kpi.Cohort) *heatmap {
	if len(cohorts) == 0 {
		return nil
	}
	cols := 0
	peak := 0.0 // the highest retention after the first month, for the colour scale
	for _, c := range cohorts {
		cols = max(cols, len(c.Active))
		for i := 1; i < len(c.Active); i++ {
			peak = max(peak, c.Retention(i))
		}
	}
	repeatX := heatLabelWidth + float64(cols)*heatColumn + heatRepeatColumn/2
	h := &heatmap{Width: heatLabelWidth + float64(cols)*heatColumn + heatRepeatColumn, Height: heatRow * float64(len(cohorts)+1)}
	h.Labels = append(h.Labels,
		svgText{X: 4, Y: heatRow * 0.65, Text: "初回購入月＼経過月", Anchor: "start"},
		svgText{X: repeatX, Y: heatRow * 0.65, Text: "90日内再購入", Anchor: "middle"})
	for i := range cols {
		h.Labels = append(h.Labels, svgText{X: heatLabelWidth + (float64(i)+0.5)*heatColumn, Y: heatRow * 0.65, Text: fmt.Sprint(i), Anchor: "middle"})
	}
	for r, c := range cohorts {
		y := heatRow * float64(r+1)
		h.Labels = append(h.Labels,
			svgText{X: 4, Y: y + heatRow*0.65, Text: fmt.Sprintf("%s（%d人）", c.Month, c.Active[0]), Anchor: "start"},
			svgText{X: repeatX, Y: y + heatRow*0.65, Text: shortPercent(c.RepeatRate()), Anchor: "middle"})
		for i := range c.Active {
			ret := c.Retention(i)
			level := 1.0
			if i > 0 {
				level = 0
				if peak > 0 {
					level = ret / peak
				}
			}
			h.Cells = append(h.Cells, heatCell{
				X: heatLabelWidth + float64(i)*heatColumn + 1, Y: y + 1, W: heatColumn - 2, H: heatRow - 2,
				Fill: fmt.Sprintf("hsl(215, 70%%, %.0f%%)", 96-level*58), Dark: level > 0.55,
				Text:  shortPercent(ret),
				Title: fmt.Sprintf("%s の初回購入客のうち %dか月後に購入: %s（%s）", c.Month, i, count(c.Active[i], "人"), percent(ret)),
			})
		}
	}
	return h
}

// liftView is one campaign's lift: the sentence, and the interval chart
// when there are enough customers to draw one.
type liftView struct {
	Name, Sentence, Groups, Revenue string
	Outcome                         string
	Chart                           *intervalChart
}

// intervalChart draws a relative lift with its 95% interval on an axis
// that always shows zero.
type intervalChart struct {
	Width, Height           float64
	Zero, Low, High, Point  float64
	Ticks                   []svgText
	TickLines               []float64
	LowText, HighText, Text svgText
}

func newLiftView(name string, c lift.Comparison, treated, control string) liftView {
	v := liftView{
		Name: name,
		Groups: fmt.Sprintf("%s %s（%s中 %s）／ %s %s（%s中 %s）",
			treated, percent(c.Treatment.Rate()), count(c.Treatment.Customers, "人"), count(c.Treatment.Converted, "人"),
			control, percent(c.Control.Rate()), count(c.Control.Customers, "人"), count(c.Control.Converted, "人")),
	}
	if c.Treatment.Customers > 0 && c.Control.Customers > 0 {
		v.Revenue = fmt.Sprintf("顧客あたり売上 %s 対 %s（差 %s、95%%信頼区間 %s〜%s）、増分 注文 約%s件・売上 約%s",
			yen(c.Treatment.PerCustomer()), yen(c.Control.PerCustomer()), yen(c.Treatment.PerCustomer()-c.Control.PerCustomer()),
			yen(c.RevenueCI.Low), yen(c.RevenueCI.High), ja.Sprintf("%.0f", c.IncrementalOrders), yen(c.IncrementalRevenue))
	}
	detail := fmt.Sprintf("（コンバージョン率 %s、95%%信頼区間 %s〜%s、p値 %s）", signed(c.Lift), signed(c.LiftCI.Low), signed(c.LiftCI.High), pValue(c.PValue))
	switch c.Outcome {
	case lift.NeedsData:
		v.Outcome = "needs-data"
		if c.MinSample == 0 {
			v.Sentence = "まだ購入がないため、効果を判定するのに必要な人数を見積もれません。"
		} else {
			v.Sentence = fmt.Sprintf("判定にはデータが足りません。10%%の差を見分けるには、各グループにあと約%s必要です（1グループ%s）。",
				count(about(c.NeedMore), "人"), count(c.MinSample, "人"))
		}
		return v
	case lift.Lifted:
		v.Outcome, v.Sentence = "lifted", "効果あり"+detail
	case lift.Hurt:
		v.Outcome, v.Sentence = "hurt", "逆効果の可能性"+detail
	default:
		v.Outcome, v.Sentence = "no-difference", "差は確認できません"+detail
	}
	if !math.IsNaN(c.Lift) && c.LiftCI != (lift.Interval{}) {
		v.Chart = newIntervalChart(c.Lift, c.LiftCI)
	}
	return v
}

// shortPercent is a rate in a heat map cell: whole percents, one
// decimal below 10%.
func shortPercent(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.1f%%", r*100)
	}
	return fmt.Sprintf("%.0f%%", r*100)
}

func pValue(p float64) string {
	if p < 0.001 {
		return "0.001未満"
	}
	return fmt.Sprintf("%.3f", p)
}

func newIntervalChart(point float64, ci lift.Interval) *intervalChart {
	const width, height, margin = 400.0, 64.0, 30.0
	lo, hi := min(ci.Low, -0.1), max(ci.High, 0.1)
	step := niceStep((hi - lo) / 4)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	x := func(v float64) float64 { return margin + (v-lo)/(hi-lo)*(width-2*margin) }
	c := &intervalChart{Width: width, Height: height, Zero: x(0), Low: x(ci.Low), High: x(ci.High), Point: x(point)}
	for v := lo; v <= hi+step/2; v += step {
		c.TickLines = append(c.TickLines, x(v))
		c.Ticks = append(c.Ticks, svgText{X: x(v), Y: height - 4, Text: signed(math.Round(v*1000) / 1000), Anchor: "middle"})
	}
	c.Text = svgText{X: c.Point, Y: 14, Text: signed(point), Anchor: "middle"}
	return c
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// barChart is the decile revenue chart: one bar per decile, top first,
// its share of revenue above it.
type barChart struct {
	Width, Height float64
	Bars          []bar
	Baseline      float64
}

type bar struct {
	X, Y, W, H   float64
	Label, Share svgText
	Title        string
}

func newDecileChart(deciles []store.Share, total int64) *barChart {
	const width, height, top, bottom = 480.0, 220.0, 24.0, 28.0
	if total <= 0 {
		return nil
	}
	peak := 0.0
	for _, d := range deciles {
		peak = max(peak, float64(d.Revenue)/float64(total))
	}
	c := &barChart{Width: width, Height: height, Baseline: height - bottom}
	slot := width / float64(len(deciles))
	for i, d := range deciles {
		share := float64(d.Revenue) / float64(total)
		h := 0.0
		if peak > 0 {
			h = max(share/peak*(height-top-bottom), 1)
		}
		x := float64(i)*slot + slot*0.15
		c.Bars = append(c.Bars, bar{
			X: x, Y: c.Baseline - h, W: slot * 0.7, H: h,
			Label: svgText{X: x + slot*0.35, Y: height - 8, Text: fmt.Sprintf("D%d", i+1), Anchor: "middle"},
			Share: svgText{X: x + slot*0.35, Y: c.Baseline - h - 6, Text: percent(share), Anchor: "middle"},
			Title: fmt.Sprintf("デシル%d（上位%d〜%d%%）: %s、売上 %s（%s）", i+1, i*10, (i+1)*10, count(int64(d.Customers), "人"), yen(float64(d.Revenue)), percent(share)),
		})
	}
	return c
}

// stageRow is one lifecycle stage or segment: its customers, revenue
// and LTV (revenue per customer).
type stageRow struct {
	Label, Customers, Revenue, LTV string
}

func newShareRow(label string, sh store.Share) stageRow {
	ltv := 0.0
	if sh.Customers > 0 {
		ltv = float64(sh.Revenue) / float64(sh.Customers)
	}
	return stageRow{Label: label, Customers: count(int64(sh.Customers), "人"), Revenue: yen(float64(sh.Revenue)), LTV: yen(ltv)}
}

// migration is the stage migration table: rows are stages a month
// before, columns stages now.
type migration struct {
	Since string
	Heads []string
	Rows  []migrationRow
}

type migrationRow struct {
	From  string
	Cells []string
}

func newMigration(m map[string]map[string]int, since string) *migration {
	if len(m) == 0 {
		return nil
	}
	out := &migration{Since: since}
	var to []string
	for _, l := range stageLabels {
		for _, row := range m {
			if row[l.Stage] > 0 {
				to = append(to, l.Stage)
				out.Heads = append(out.Heads, l.Label)
				break
			}
		}
	}
	for _, l := range stageLabels {
		row, ok := m[l.Stage]
		if !ok {
			continue
		}
		r := migrationRow{From: l.Label}
		for _, s := range to {
			r.Cells = append(r.Cells, ja.Sprintf("%d", row[s]))
		}
		out.Rows = append(out.Rows, r)
	}
	return out
}

// deliverability is the panel of email outcomes against the limits.
type deliverability struct {
	Sent, Delivered, Bounce, Complaint, Unsubscribe string
	Checks                                          []checkRow
	Warnings                                        []string
	Level                                           string
}

type checkRow struct {
	Label, Rate, Limit, Level string
	Bar                       float64
}

var levelNames = map[kpi.Level]string{kpi.Fine: "fine", kpi.Near: "near", kpi.Over: "over"}

func newDeliverability(d kpi.Deliverability) deliverability {
	out := deliverability{
		Sent: count(d.Sent, "通"), Delivered: count(d.Delivered, "通"),
		Bounce: percent(d.BounceRate()), Complaint: percent(d.ComplaintRate()), Unsubscribe: percent(d.UnsubscribeRate()),
		Level: levelNames[d.Worst()],
	}
	labels := map[string][2]string{
		"complaint":     {"苦情率（メールボックス事業者の上限）", "メールボックス事業者の上限"},
		"complaint_ses": {"苦情率（SES の審査基準）", "SES の審査基準"},
		"bounce":        {"バウンス率（SES の審査基準）", "SES の審査基準"},
	}
	for _, c := range d.Checks {
		l := labels[c.Name]
		out.Checks = append(out.Checks, checkRow{Label: l[0], Rate: percent(c.Rate), Limit: percent(c.Limit), Level: levelNames[c.Level], Bar: barWidth(c.Rate / c.Limit)})
		what := "苦情率"
		if c.Name == "bounce" {
			what = "バウンス率"
		}
		switch c.Level {
		case kpi.Near:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s %s が%s %s に近づいています。配信リストと頻度を見直してください。", what, percent(c.Rate), l[1], percent(c.Limit)))
		case kpi.Over:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s %s が%s %s を超えています。すぐに配信を見直してください。", what, percent(c.Rate), l[1], percent(c.Limit)))
		}
	}
	return out
}

// funnelRow is one campaign's way from sending to revenue: each step's
// count with its rate (delivered of sent; clicked and converted of
// delivered).
type funnelRow struct {
	Name                                string
	Sent, Delivered, Clicked, Converted funnelCell
	Revenue                             string
	Notes                               []string
}

type funnelCell struct {
	Value, Rate string
}

// String is the count with its rate: 15,700（98.1%）.
func (c funnelCell) String() string { return c.Value + "（" + c.Rate + "）" }

// Steps are the steps that have a rate, in order.
func (r funnelRow) Steps() []funnelCell { return []funnelCell{r.Delivered, r.Clicked, r.Converted} }

func newFunnelRow(c kpi.CampaignFigures) funnelRow {
	n := c.Counts
	step := func(v, of int64) funnelCell {
		return funnelCell{Value: ja.Sprintf("%d", v), Rate: percent(kpi.Rate(v, of))}
	}
	r := funnelRow{
		Name:      campaignName(c),
		Sent:      funnelCell{Value: ja.Sprintf("%d", n["sent"])},
		Delivered: step(n["delivered"], n["sent"]),
		Clicked:   step(n["clicked"], n["delivered"]),
		Converted: step(n["converted"], n["delivered"]),
		Revenue:   yen(float64(n["revenue"])),
	}
	if n["coupons_issued"] > 0 {
		r.Notes = append(r.Notes, "クーポン利用率 "+percent(c.CouponRedemption())+"（"+ja.Sprintf("%d / %d枚", n["coupons_redeemed"], n["coupons_issued"])+"）")
	}
	if len(c.Variants) > 1 {
		verdict := "差は確認できません"
		if c.VariantTest.PValue < lift.Alpha {
			verdict = "差あり"
		}
		parts := make([]string, len(c.Variants))
		for i, v := range c.Variants {
			g := lift.GroupOf(v.Counts, lift.Treatment)
			parts[i] = fmt.Sprintf("%s案 %s", v.Name, percent(g.Rate()))
		}
		r.Notes = append(r.Notes, fmt.Sprintf("A/Bテスト（%s）: %s（カイ二乗検定 p値 %s）", strings.Join(parts, "・"), verdict, pValue(c.VariantTest.PValue)))
	}
	return r
}
