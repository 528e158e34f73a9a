package main

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

// Route keys this function serves (template.yaml declares them).
const (
	pageRoute = "GET /survey/{token}"
	postRoute = "POST /survey/{token}"
)

// Limits of an answer.
const (
	// MaxComment is the longest comment taken, in characters: a longer
	// one is refused with a message, never cut.
	MaxComment = 2000
)

// Tokens opens survey links (a *survey.Sealer).
type Tokens interface {
	Open(token string) (survey.Ask, error)
}

// Handler takes survey answers: a tap on a score link records the score
// (unless a link scanner fetched it) and offers a comment form; the form
// records the score and comment. One answer per survey message: a second
// tap or form changes it. An unhappy score opens a support case.
type Handler struct {
	Tokens  Tokens
	Answers Answers
	Shop    string
	Now     func() time.Time
}

// Answers records answers (a *survey.Recorder).
type Answers interface {
	Record(ctx context.Context, ask survey.Ask, score int, comment string, now time.Time) error
}

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// pageData is what the page shows.
type pageData struct {
	Shop, Title, Error, Question, Low, High, Comment string
	Score                                            int
	Recorded, Form, Thanks                           bool
	Scores                                           []scoreChoice
	MaxComment                                       int
}

type scoreChoice struct {
	Value   int
	Checked bool
}

// Handle answers one request with a page: 200, 400 for a forged or
// altered link or a bad answer, 410 for a survey past its time, 503 when
// the store failed.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := h.Now()
	ask, err := h.Tokens.Open(req.PathParameters["token"])
	if err != nil {
		return h.page(http.StatusBadRequest, pageData{Title: "リンクが無効です", Error: "このアンケートのリンクは無効か、途中で切れています。メールのリンクをもう一度お試しください。"}), nil
	}
	if now.Sub(ask.SentAt) > survey.ValidFor {
		return h.page(http.StatusGone, pageData{Title: "回答期間が終わりました", Error: "このアンケートの回答期間は終わりました。ご協力ありがとうございました。"}), nil
	}
	d := h.form(ask)
	switch req.RouteKey {
	case pageRoute:
		query, err := url.ParseQuery(req.RawQueryString)
		if err != nil || !query.Has("score") {
			return h.page(http.StatusOK, d), nil
		}
		score, ok := parseScore(ask.Scale, query.Get("score"))
		if !ok {
			d.Error = "点数が範囲の外です。下から選んでください。"
			return h.page(http.StatusBadRequest, d), nil
		}
		d.check(score)
		if counted, reason := clicks.Counted(req.RequestContext.HTTP.Method, httpapi.Header(req, "User-Agent"), ask.SentAt, now); !counted {
			// A link scanner fetched it: the form, nothing recorded.
			slog.InfoContext(ctx, "survey tap not counted", "campaign", ask.CampaignID, "reason", reason)
			return h.page(http.StatusOK, d), nil
		}
		if err := h.Answers.Record(ctx, ask, score, "", now); err != nil {
			return httpapi.Unavailable(ctx, err, 30*time.Second), nil
		}
		d.Recorded, d.Score = true, score
		return h.page(http.StatusOK, d), nil
	case postRoute:
		body, ok := httpapi.Body(req)
		form, err := url.ParseQuery(string(body))
		if !ok || err != nil {
			d.Error = "送信内容を読み取れませんでした。もう一度お試しください。"
			return h.page(http.StatusBadRequest, d), nil
		}
		score, ok := parseScore(ask.Scale, form.Get("score"))
		comment := strings.TrimSpace(form.Get("comment"))
		d.Comment = comment
		switch {
		case !ok:
			d.Error = "点数を選んでください。"
			return h.page(http.StatusBadRequest, d), nil
		case !utf8.ValidString(comment):
			d.Error = "コメントの文字を読み取れませんでした。"
			return h.page(http.StatusBadRequest, d), nil
		case utf8.RuneCountInString(comment) > MaxComment:
			d.Error = fmt.Sprintf("コメントは%d文字までです（いま%d文字）。短くしてもう一度送ってください。", MaxComment, utf8.RuneCountInString(comment))
			d.check(score)
			return h.page(http.StatusBadRequest, d), nil
		}
		if err := h.Answers.Record(ctx, ask, score, comment, now); err != nil {
			return httpapi.Unavailable(ctx, err, 30*time.Second), nil
		}
		return h.page(http.StatusOK, pageData{Title: "ありがとうございました", Thanks: true}), nil
	}
	return httpapi.Error(http.StatusNotFound, "no such route"), nil
}

// form is the survey's form for ask.
func (h *Handler) form(ask survey.Ask) pageData {
	s := rules.NewSurvey(ask.Scale, h.Shop, func(int) string { return "" })
	d := pageData{Title: h.Shop + " アンケート", Form: true, Question: s.Question, Low: s.Low, High: s.High, MaxComment: MaxComment}
	for _, l := range s.Links {
		d.Scores = append(d.Scores, scoreChoice{Value: l.Score})
	}
	return d
}

func (d *pageData) check(score int) {
	for i := range d.Scores {
		d.Scores[i].Checked = d.Scores[i].Value == score
	}
}

// parseScore reads a score of scale.
func parseScore(scale, raw string) (int, bool) {
	n, err := strconv.Atoi(raw)
	lo, hi, ok := survey.Range(scale)
	if err != nil || !ok || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func (h *Handler) page(status int, d pageData) events.APIGatewayV2HTTPResponse {
	d.Shop = h.Shop
	return httpapi.Page(status, pageTemplate, d)
}
