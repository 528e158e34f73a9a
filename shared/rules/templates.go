package rules

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// TemplatesDir holds one directory per message template, plus _layout.
const TemplatesDir = "templates"

// LayoutDir is the template directory every email is wrapped in; it carries
// the legal footer.
const LayoutDir = "_layout"

// Template file names inside a template directory: the three email parts
// and the LINE message. A template has the email parts, the LINE part or both.
const (
	SubjectFile = "subject.txt"
	HTMLFile    = "body.html"
	TextFile    = "body.txt"
	LineFile    = "line.txt"
)

// Template is one compiled message template: an email (subject, HTML and
// text bodies, the bodies wrapped in the shared layout) and/or a LINE text.
type Template struct {
	Name    string
	subject *texttemplate.Template
	html    *htmltemplate.Template // the layout, with the body as "content"
	text    *texttemplate.Template // the layout, with the body as "content"
	line    *texttemplate.Template
	// HasLegalFooter is true when a sample rendering shows the sender's
	// name, postal address, contact and unsubscribe link in both bodies.
	HasLegalFooter bool
	// UsesPoints is true when a part refers to .Points, so the sender
	// reads the customer's points ledger only for such messages.
	UsesPoints bool
	// ShowsReviewPoints is true when both email bodies show
	// {{.ReviewPoints}} when it is on (a sample rendering with points
	// for reviews prints them), as review requests must.
	ShowsReviewPoints bool
	// UsesProductReviews is true when a part refers to .Rating,
	// .RatingCount or .Reviews, so the sender reads the recommended
	// products' review aggregates only for such messages.
	UsesProductReviews bool
}

// HasEmail reports whether the template can render an email.
func (t *Template) HasEmail() bool { return t.subject != nil }

// HasLine reports whether the template can render a LINE message.
func (t *Template) HasLine() bool { return t.line != nil }

// RenderLine fills the LINE message for one recipient.
func (t *Template) RenderLine(d MessageData) (string, error) {
	if t.line == nil {
		return "", fmt.Errorf("render %s: no %s", t.Name, LineFile)
	}
	var b bytes.Buffer
	if err := t.line.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s line: %w", t.Name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Rendered is a template rendered for one recipient.
type Rendered struct {
	Subject string
	HTML    string
	Text    string
}

// MessageData is what templates see. Its field names are the merge fields
// marketers write, such as {{.Customer.Name}}.
type MessageData struct {
	Shop            Shop
	Customer        CustomerData
	Order           OrderData
	Recommendations []Recommendation
	// Coupon is the coupon this campaign issued, if it has a coupon action.
	Coupon *CouponData
	// Reviews are the products a review request asks about.
	Reviews []ReviewData
	// Survey is a survey's question and one-tap score links.
	Survey *SurveyData
	// Points is the customer's points (loyalty.yaml); zero for a shop
	// without a programme.
	Points PointsData
	// Referral is the recipient's own referral link and the programme's
	// offer (loyalty.yaml referral:); empty without a programme, and the
	// link empty until the customer has ordered.
	Referral ReferralData
	// ReviewPoints is what a review earns (loyalty.yaml reviews: points),
	// whatever its rating; 0 when reviews earn nothing. Review request
	// templates must show it when it is on (the incentive disclosed).
	ReviewPoints int64
	// UnsubscribeURL is the one-click unsubscribe link for this recipient.
	UnsubscribeURL string
	// links rewrites the links of one message being sent (WithLinks).
	links func(string) string
}

// CouponData is an issued coupon as templates show it.
type CouponData struct {
	Code      string
	Name      string
	Discount  string // "10%OFF" or "500円引き"
	MinOrder  int64
	ExpiresAt time.Time
}

// PointsData is a customer's points as templates show them:
// {{.Points.Balance}}, {{.Points.Expiring}}.
type PointsData struct {
	// Balance is the approved points, which can be spent; negative when a
	// refund took back points already spent.
	Balance int64
	// Pending is the points of orders still in their return window.
	Pending int64
	// Expiring is the approved points that expire at ExpiresAt unless the
	// customer orders again; 0 when none do.
	Expiring  int64
	ExpiresAt time.Time
	// DaysLeft is the whole days from the message to ExpiresAt (the
	// loyalty.points_expiring trigger's days left).
	DaysLeft int
	// Awarded is what the campaign's points action just gave.
	Awarded int64
	// RedeemURL opens the recipient's points page, where rewards are
	// exchanged for coupons ("" without rewards in loyalty.yaml).
	RedeemURL string
}

// ReferralData is the referral programme as templates show it:
// {{.Referral.Link}}, {{.Referral.FriendDiscount}}.
type ReferralData struct {
	// Code and Link are the recipient's own code and link to share
	// (GET /r/ref/{code}).
	Code string
	Link string
	// FriendDiscount is what a friend gets on a first order ("500円引き");
	// Reward what the advocate gets once it is approved ("500ポイント").
	FriendDiscount string
	Reward         string
}

// SurveyData is a survey as templates show it: its scale's question and
// one link per score, lowest first.
type SurveyData struct {
	Scale    string // "nps" or "csat"
	Question string
	// Low and High name the ends of the scale ("まったく思わない").
	Low, High string
	Links     []SurveyLink
}

// SurveyLink is one score's one-tap link.
type SurveyLink struct {
	Score int
	URL   string
}

// ReviewData is one product a customer is asked to review: the link to
// review it (the shop's review app, or tsunagu's own form) and, with the
// own form, one link per star rating that opens it with the rating chosen.
type ReviewData struct {
	Name  string
	URL   string
	Stars []StarLink
}

// StarLink opens the review form with Rating stars chosen; Label draws
// them (★★★☆☆).
type StarLink struct {
	Rating int
	Label  string
	URL    string
}

// StarLinks are the five star links of a review form, its link for each
// rating made by link.
func StarLinks(link func(rating int) string) []StarLink {
	out := make([]StarLink, 5)
	for i := range out {
		out[i] = StarLink{Rating: i + 1, Label: Stars(i + 1), URL: link(i + 1)}
	}
	return out
}

// CustomerData is the recipient.
type CustomerData struct {
	Name string
	// Rank is the name of the customer's member rank (ゴールド), "" when
	// the shop has no ranks or the customer has none yet.
	Rank string
}

// OrderData is the triggering order, formatted for display.
type OrderData struct {
	ID       string
	PlacedAt time.Time
	Total    int64
	Currency string
	Items    []ItemData
}

// ItemData is one order line.
type ItemData struct {
	Name     string
	Quantity int
	Price    int64
}

// Recommendation is one cross-sell suggestion.
type Recommendation struct {
	Title    string
	URL      string
	ImageURL string
	// SKU is the product whose reviews the suggestion shows (crosssell.yaml
	// reviews_of); empty shows none.
	SKU string
	// Rating is the product's average rating (0 without reviews) over
	// RatingCount published reviews: {{printf "%.1f" .Rating}}.
	Rating      float64
	RatingCount int64
	// Reviews are the product's best recent reviews (published, verified,
	// four or five stars, newest first, at most three); their words are
	// the customers', escaped in HTML.
	Reviews []ReviewQuote
}

// ReviewQuote is a customer's review quoted in a message.
type ReviewQuote struct {
	Rating int
	// Stars draws the rating (★★★★☆).
	Stars  string
	Title  string
	Text   string
	Author string
}

// Stars draws rating out of five stars (★★★★☆).
func Stars(rating int) string {
	rating = max(0, min(rating, 5))
	return strings.Repeat("★", rating) + strings.Repeat("☆", 5-rating)
}

// Render fills the template for one recipient. An error means this message
// cannot be sent (and nothing partial is returned).
func (t *Template) Render(d MessageData) (Rendered, error) {
	var subj, html, text bytes.Buffer
	if !t.HasEmail() {
		return Rendered{}, fmt.Errorf("render %s: no email parts", t.Name)
	}
	if err := t.subject.Execute(&subj, d); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", t.Name, err)
	}
	if err := t.html.Execute(&html, d); err != nil {
		return Rendered{}, fmt.Errorf("render %s html: %w", t.Name, err)
	}
	if err := t.text.Execute(&text, d); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", t.Name, err)
	}
	return Rendered{Subject: strings.Join(strings.Fields(subj.String()), " "), HTML: html.String(), Text: text.String()}, nil
}

var japanese = message.NewPrinter(language.Japanese)

// Number shows a count with digit grouping: 1,250.
func Number(n int64) string { return japanese.Sprintf("%d", n) }

// Money formats minor units for customers: 4300 JPY is 4,300円, 5999 USD
// is USD 59.99.
func Money(amount int64, currency string) string {
	scale, err := order.CurrencyScale(currency)
	if err != nil || scale == 0 {
		if currency == "JPY" || currency == "" {
			return japanese.Sprintf("%d円", amount)
		}
		return japanese.Sprintf("%s %d", currency, amount)
	}
	div := int64(1)
	for range scale {
		div *= 10
	}
	return japanese.Sprintf("%s %d.%0*d", currency, amount/div, scale, amount%div)
}

// Discount words a coupon's discount: "10%OFF" or "500円引き".
func (s *Set) Discount(percentOff int, amountOff int64) string {
	if percentOff > 0 {
		return fmt.Sprintf("%d%%OFF", percentOff)
	}
	return Money(amountOff, s.Settings.Shop.Currency) + "引き"
}

// funcs are the helpers templates can call, for the shop's zone.
func funcs(s Settings) map[string]any {
	return map[string]any{
		"money":  Money,
		"number": Number,
		// date shows a time as a date in the shop's zone: 2026年11月21日.
		"date": func(t time.Time) string {
			return t.In(s.Location).Format("2006年1月2日")
		},
	}
}

// loadTemplates compiles every template directory. Templates with
// problems are left out of the map and named in broken.
func (l *loader) loadTemplates(s Settings) (out map[string]*Template, broken map[string]bool) {
	out, broken = map[string]*Template{}, map[string]bool{}
	fm := funcs(s)
	layoutHTML, layoutText := l.readLayout(fm)
	entries, err := fs.ReadDir(l.fsys, TemplatesDir)
	if err != nil {
		l.report(Problem{File: l.name(TemplatesDir), Line: 1, Col: 1, Message: "missing templates directory"})
		return out, broken
	}
	if layoutHTML == nil || layoutText == nil {
		for _, e := range entries {
			broken[e.Name()] = true
		}
		return out, broken
	}
	sample := SampleData(s)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == LayoutDir {
			continue
		}
		dir := path.Join(TemplatesDir, e.Name())
		t, ok := l.loadTemplate(dir, e.Name(), fm, layoutHTML, layoutText, sample)
		if !ok {
			broken[e.Name()] = true
			continue
		}
		out[t.Name] = t
	}
	return out, broken
}

// loadTemplate compiles one template directory and renders it with sample
// data, which finds merge fields that do not exist.
func (l *loader) loadTemplate(dir, name string, fm map[string]any, layoutHTML *htmltemplate.Template, layoutText *texttemplate.Template, sample MessageData) (*Template, bool) {
	src := map[string]string{}
	for _, f := range []string{SubjectFile, HTMLFile, TextFile, LineFile} {
		if b, err := fs.ReadFile(l.fsys, path.Join(dir, f)); err == nil {
			src[f] = string(b)
		}
	}
	_, hasSubject := src[SubjectFile]
	_, hasHTML := src[HTMLFile]
	_, hasText := src[TextFile]
	_, hasLine := src[LineFile]
	emailParts := 0
	for _, has := range []bool{hasSubject, hasHTML, hasText} {
		if has {
			emailParts++
		}
	}
	switch {
	case emailParts == 0 && !hasLine:
		l.report(Problem{File: l.name(dir), Line: 1, Col: 1, Message: fmt.Sprintf("template %q has no files: an email needs %s, %s and %s; a LINE message needs %s", name, SubjectFile, HTMLFile, TextFile, LineFile)})
		return nil, false
	case emailParts > 0 && emailParts < 3:
		for f, has := range map[string]bool{SubjectFile: hasSubject, HTMLFile: hasHTML, TextFile: hasText} {
			if !has {
				l.report(Problem{File: l.name(dir), Line: 1, Col: 1, Message: fmt.Sprintf("template %q needs %s", name, f)})
			}
		}
		return nil, false
	}
	t := &Template{Name: name}
	ok := true
	var err error
	if emailParts == 3 {
		if t.subject, err = texttemplate.New(SubjectFile).Option("missingkey=error").Funcs(fm).Parse(src[SubjectFile]); err != nil {
			l.templateError(dir, SubjectFile, err)
			ok = false
		}
		if t.html, err = htmltemplate.Must(layoutHTML.Clone()).New("content").Parse(src[HTMLFile]); err != nil {
			l.templateError(dir, HTMLFile, err)
			ok = false
		} else {
			trackHTMLLinks(t.html.Tree.Root)
		}
		if t.text, err = texttemplate.Must(layoutText.Clone()).New("content").Parse(src[TextFile]); err != nil {
			l.templateError(dir, TextFile, err)
			ok = false
		} else {
			trackTextLinks(t.text.Tree.Root)
		}
		if ok {
			// Execute from the layout, which includes the content.
			t.html, t.text = t.html.Lookup("layout"), t.text.Lookup("layout")
		}
	}
	if hasLine {
		if t.line, err = texttemplate.New(LineFile).Option("missingkey=error").Funcs(fm).Parse(src[LineFile]); err != nil {
			l.templateError(dir, LineFile, err)
			ok = false
		} else {
			trackTextLinks(t.line.Tree.Root)
		}
	}
	if !ok {
		return nil, false
	}
	// A part names the field as written (.Points.Balance, $.Points); a
	// mention in plain text only costs a needless read.
	for _, f := range []string{SubjectFile, HTMLFile, TextFile, LineFile} {
		t.UsesPoints = t.UsesPoints || strings.Contains(src[f], ".Points")
		t.UsesProductReviews = t.UsesProductReviews || strings.Contains(src[f], ".Rating") || strings.Contains(src[f], ".Reviews")
	}
	if t.HasEmail() {
		r, rendered := l.sampleRender(dir, t, sample)
		if !rendered {
			return nil, false
		}
		t.HasLegalFooter = showsLegalFooter(r.HTML, sample, true) && showsLegalFooter(r.Text, sample, false)
		t.ShowsReviewPoints = showsReviewPoints(t, sample)
	}
	if t.HasLine() {
		var b bytes.Buffer
		if err := t.line.Execute(&b, sample); err != nil {
			l.templateError(dir, LineFile, err)
			return nil, false
		}
	}
	return t, true
}

// sampleRender renders each part with sample data, reporting failures at
// the file and position that caused them.
func (l *loader) sampleRender(dir string, t *Template, d MessageData) (Rendered, bool) {
	var r Rendered
	var buf bytes.Buffer
	ok := true
	if err := t.subject.Execute(&buf, d); err != nil {
		l.templateError(dir, SubjectFile, err)
		ok = false
	}
	r.Subject = buf.String()
	buf.Reset()
	if err := t.html.Execute(&buf, d); err != nil {
		l.templateError(dir, HTMLFile, err)
		ok = false
	}
	r.HTML = buf.String()
	buf.Reset()
	if err := t.text.Execute(&buf, d); err != nil {
		l.templateError(dir, TextFile, err)
		ok = false
	}
	r.Text = buf.String()
	return r, ok
}

// readLayout parses the shared email layout, which must include the message
// body with {{template "content" .}}.
func (l *loader) readLayout(fm map[string]any) (*htmltemplate.Template, *texttemplate.Template) {
	dir := path.Join(TemplatesDir, LayoutDir)
	read := func(name string) (string, bool) {
		b, err := fs.ReadFile(l.fsys, path.Join(dir, name))
		if err != nil {
			l.report(Problem{File: l.name(path.Join(dir, name)), Line: 1, Col: 1, Message: "the email layout is missing; it carries the legal footer"})
			return "", false
		}
		if !strings.Contains(string(b), `{{template "content" .}}`) {
			l.report(Problem{File: l.name(path.Join(dir, name)), Line: 1, Col: 1, Message: `the layout must include the message with {{template "content" .}}`})
			return "", false
		}
		return string(b), true
	}
	var h *htmltemplate.Template
	var t *texttemplate.Template
	if src, ok := read(HTMLFile); ok {
		var err error
		if h, err = htmltemplate.New("layout").Option("missingkey=error").Funcs(fm).Parse(src); err != nil {
			l.templateError(dir, HTMLFile, err)
		} else {
			trackHTMLLinks(h.Tree.Root)
		}
	}
	if src, ok := read(TextFile); ok {
		var err error
		if t, err = texttemplate.New("layout").Option("missingkey=error").Funcs(fm).Parse(src); err != nil {
			l.templateError(dir, TextFile, err)
		} else {
			trackTextLinks(t.Tree.Root)
		}
	}
	return h, t
}

// templateErrorPos matches Go template errors: "template: content:12:8: ..."
// or "template: content:12: ...".
var templateErrorPos = regexp.MustCompile(`template: ([\w.]+):(\d+):(?:(\d+):)? (.*)$`)

// templateError reports a template parse or execution error at its line and
// column, in the layout or the template's own file as the error names.
func (l *loader) templateError(dir, file string, err error) {
	msg := err.Error()
	var execErr texttemplate.ExecError
	if errors.As(err, &execErr) {
		msg = execErr.Err.Error()
	}
	p := Problem{File: l.name(path.Join(dir, file)), Line: 1, Col: 1, Message: msg}
	if m := templateErrorPos.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[2])
		if m[3] != "" {
			p.Col, _ = strconv.Atoi(m[3])
		}
		p.Message = m[4]
		if m[1] == "layout" {
			p.File = l.name(path.Join(TemplatesDir, LayoutDir, file))
		}
	}
	l.report(p)
}

// showsLegalFooter checks that a sample rendering carries what 特定電子メール法
// requires of a marketing email: the sender's name, postal address, a
// contact, and the unsubscribe link.
func showsLegalFooter(body string, d MessageData, html bool) bool {
	unsub := d.UnsubscribeURL
	if html {
		unsub = htmltemplate.HTMLEscapeString(unsub)
	}
	for _, want := range []string{d.Shop.Name, d.Shop.PostalAddress, d.Shop.ContactEmail, unsub} {
		if !strings.Contains(body, want) {
			return false
		}
	}
	return true
}

// reviewPointsProbe is an unlikely number of points for reviews, to find
// in a rendering.
const reviewPointsProbe = 48611

// showsReviewPoints reports whether t's HTML and text bodies print
// {{.ReviewPoints}} when reviews earn points (as 48611 or 48,611).
func showsReviewPoints(t *Template, sample MessageData) bool {
	sample.ReviewPoints = reviewPointsProbe
	r, err := t.Render(sample)
	if err != nil {
		return false
	}
	shows := func(body string) bool {
		return strings.Contains(body, "48611") || strings.Contains(body, "48,611")
	}
	return shows(r.HTML) && shows(r.Text)
}

// SampleData is a complete sample recipient, used to check templates at
// load and for previews.
func SampleData(s Settings) MessageData {
	return MessageData{
		Shop:     s.Shop,
		Customer: CustomerData{Name: "高橋 美咲", Rank: "ゴールド"},
		Order: OrderData{ID: "1001", PlacedAt: time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC), Total: 4300, Currency: s.Shop.Currency,
			Items: []ItemData{{Name: "本練羊羹", Quantity: 2, Price: 2150}}},
		Recommendations: []Recommendation{{Title: "羊羹に合う日本茶", URL: s.Shop.URL + "/collections/tea", SKU: "TEA-SENCHA", Rating: 4.6, RatingCount: 23,
			Reviews: []ReviewQuote{
				{Rating: 5, Stars: Stars(5), Title: "香りが違います", Text: "羊羹と一緒にいただきました。\n渋みが少なく、家族にも好評です。", Author: "M.T."},
				{Rating: 4, Stars: Stars(4), Text: "毎朝の一杯に。<また買います>", Author: "茶好き"},
			}}},
		Coupon: &CouponData{Code: "TSN-SAMPLE-CODE", Name: "10%OFFクーポン", Discount: "10%OFF", MinOrder: 3000,
			ExpiresAt: time.Date(2026, 12, 21, 14, 59, 0, 0, time.UTC)},
		Reviews:  []ReviewData{{Name: "本練羊羹", URL: s.Shop.URL + "/products/SWEET-YOKAN/reviews/new"}},
		Survey:   NewSurvey(ScaleNPS, s.Shop.Name, func(n int) string { return fmt.Sprintf("https://example.invalid/survey/sample?score=%d", n) }),
		Referral: ReferralData{Code: "REF-SAMPL-ECODE", Link: "https://example.invalid/r/ref/REF-SAMPL-ECODE", FriendDiscount: "500円引き", Reward: "500ポイント"},
		Points: PointsData{Balance: 1250, Pending: 43, Expiring: 1250, ExpiresAt: time.Date(2027, 11, 20, 15, 0, 0, 0, time.UTC), DaysLeft: 30, Awarded: 100,
			RedeemURL: "https://example.invalid/points/sample"},
		ReviewPoints:   50,
		UnsubscribeURL: "https://example.invalid/unsubscribe?token=sample",
	}
}

// NewSurvey is the survey of scale for the shop named shop, with the
// one-tap link of each score made by link.
func NewSurvey(scale, shop string, link func(score int) string) *SurveyData {
	d := &SurveyData{Scale: scale, Question: shop + "を友人や知人にすすめる可能性はどのくらいありますか？", Low: "まったくない", High: "とても高い"}
	lo, hi := 0, 10
	if scale == ScaleCSAT {
		d.Question, d.Low, d.High, lo, hi = "今回のお買い物にどのくらい満足されましたか？", "不満", "とても満足", 1, 5
	}
	for n := lo; n <= hi; n++ {
		d.Links = append(d.Links, SurveyLink{Score: n, URL: link(n)})
	}
	return d
}
