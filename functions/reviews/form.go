package main

import (
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/review"
)

// The review form's routes (template.yaml declares them).
const (
	formPage = "GET /review/{token}"
	formPost = "POST /review/{token}"
)

// FormValidFor is how long after its request a review form takes a review.
const FormValidFor = 60 * 24 * time.Hour

//go:embed form.html.tmpl
var formSource string

var formTemplate = template.Must(template.New("form").Parse(formSource))

// formPageData is what the form page shows.
type formPageData struct {
	Shop, Title, Product, Message string
	Problems                      []review.FormProblem
	Form                          bool
	Rating                        int
	Stars                         []int
	ReviewTitle, Text, Author     string
	MaxTitle, MaxText, MaxAuthor  int
}

// form serves tsunagu's own review form: GET shows it (with the rating
// of the star link tapped, nothing stored: a link scanner may fetch it),
// POST stores the review, unpublished until the shop approves it, once
// per request and product (sending it again changes nothing).
func (h *Handler) form(ctx context.Context, req events.APIGatewayV2HTTPRequest, now time.Time) events.APIGatewayV2HTTPResponse {
	ask, err := h.Forms.Open(req.PathParameters["token"])
	if err != nil {
		return h.formPage(http.StatusBadRequest, formPageData{Title: "リンクが無効です", Message: "このレビューのリンクは無効か、途中で切れています。メールのリンクをもう一度お試しください。"})
	}
	if now.Sub(ask.SentAt) > FormValidFor {
		return h.formPage(http.StatusGone, formPageData{Title: "受付期間が終わりました", Message: "このレビューの受付期間は終わりました。ありがとうございました。"})
	}
	d := formPageData{Title: ask.Name + " のレビュー", Product: ask.Name, Form: true, Stars: []int{5, 4, 3, 2, 1},
		MaxTitle: review.MaxTitle, MaxText: review.MaxText, MaxAuthor: review.MaxAuthor}
	if req.RouteKey == formPage {
		if q, err := url.ParseQuery(req.RawQueryString); err == nil {
			if r, _ := review.FromForm(ask, q.Get("rating"), "", "", "", now); r.Rating > 0 {
				d.Rating = r.Rating
			}
		}
		return h.formPage(http.StatusOK, d)
	}
	body, ok := httpapi.Body(req)
	values, err := url.ParseQuery(string(body))
	if !ok || err != nil || len(body) > 64<<10 {
		d.Problems = []review.FormProblem{{Field: "form", Message: "送信内容を読み取れませんでした。もう一度お試しください。"}}
		return h.formPage(http.StatusBadRequest, d)
	}
	r, problems := review.FromForm(ask, values.Get("rating"), values.Get("title"), values.Get("text"), values.Get("author"), now)
	if len(problems) > 0 {
		d.Problems, d.Rating, d.ReviewTitle, d.Text, d.Author = problems, r.Rating, values.Get("title"), values.Get("text"), values.Get("author")
		return h.formPage(http.StatusBadRequest, d)
	}
	a, err := h.take(ctx, r, now)
	if err != nil {
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	if a.Duplicate {
		return h.formPage(http.StatusOK, formPageData{Title: "レビューは受け付け済みです", Message: "このお品のレビューは、すでにお送りいただいています。ありがとうございました。"})
	}
	return h.formPage(http.StatusOK, formPageData{Title: "ありがとうございました", Message: "レビューをお送りいただき、ありがとうございました。お店で確認したあと、商品ページに掲載されます。"})
}

func (h *Handler) formPage(status int, d formPageData) events.APIGatewayV2HTTPResponse {
	d.Shop = h.Shop
	return httpapi.Page(status, formTemplate, d)
}
