package main

import (
	"context"
	_ "embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Route keys this function serves (template.yaml declares them).
const (
	pageRoute = "GET /points/{token}"
	postRoute = "POST /points/{token}"
)

// Ledger reads a customer's points ledger.
type Ledger interface {
	Ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error)
}

// Redeemer exchanges approved points for a coupon (redeem.Redeemer).
type Redeemer interface {
	Redeem(ctx context.Context, req redeem.Request) (redeem.Result, error)
}

// Links opens points links (redeem.Links).
type Links interface {
	Open(token string) (redeem.Link, error)
}

// Handler serves the points page: the customer's points and a form per
// reward (no JavaScript); a form sent exchanges the points for a coupon,
// once per form (its nonce).
type Handler struct {
	Ledger   Ledger
	Redeemer Redeemer
	Links    Links
	Rules    *rules.Set
	Now      func() time.Time
}

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{"number": rules.Number}).Parse(pageSource))

// pageData is what the page shows.
type pageData struct {
	Shop, Title, Error string
	Balance, Pending   int64
	Expiring           string
	Rewards            []rewardChoice
	Coupon             *couponShown
	// Nonce names this page's exchange: a form sent twice exchanges once.
	Nonce string
}

type rewardChoice struct {
	ID, Name, Label string
	Points          int64
	Affordable      bool
}

type couponShown struct {
	Name, Code, Discount, Until, MinOrder string
}

// noncePattern is what a form's nonce looks like.
var noncePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// Handle answers one request with a page: 200; 400 for a forged or
// altered link or a bad form; 409 when the points do not cover the
// reward; 410 for a link past its time; 503 when the store failed. A
// refused exchange spends nothing.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := h.Now()
	link, err := h.Links.Open(req.PathParameters["token"])
	if err != nil {
		return h.page(http.StatusBadRequest, pageData{Title: "リンクが無効です", Error: "このリンクは無効か、途中で切れています。メールのリンクをもう一度お試しください。"}), nil
	}
	if now.Sub(link.SentAt) > redeem.LinkValidFor {
		return h.page(http.StatusGone, pageData{Title: "リンクの有効期限が切れました", Error: "このリンクの有効期限は切れました。新しいお知らせのメールか、ショップのマイページからご確認ください。"}), nil
	}
	if h.Rules.Loyalty == nil {
		return h.page(http.StatusNotFound, pageData{Title: "ポイント", Error: "このショップにはポイントプログラムがありません。"}), nil
	}
	switch req.RouteKey {
	case pageRoute:
		d, err := h.points(ctx, link.CustomerID)
		if err != nil {
			return httpapi.Unavailable(ctx, err, 30*time.Second), nil
		}
		return h.page(http.StatusOK, d), nil
	case postRoute:
		return h.exchange(ctx, req, link, now), nil
	}
	return httpapi.Error(http.StatusNotFound, "no such route"), nil
}

// exchange runs a form sent: the reward chosen, once per nonce.
func (h *Handler) exchange(ctx context.Context, req events.APIGatewayV2HTTPRequest, link redeem.Link, now time.Time) events.APIGatewayV2HTTPResponse {
	refuse := func(status int, msg string) events.APIGatewayV2HTTPResponse {
		d, err := h.points(ctx, link.CustomerID)
		if err != nil {
			return httpapi.Unavailable(ctx, err, 30*time.Second)
		}
		d.Error = msg
		return h.page(status, d)
	}
	if counted, reason := clicks.Counted(req.RequestContext.HTTP.Method, httpapi.Header(req, "User-Agent"), link.SentAt, now); !counted {
		slog.InfoContext(ctx, "points exchange not taken", "reason", reason)
		return refuse(http.StatusBadRequest, "この送信は受け付けられませんでした。もう一度お試しください。")
	}
	body, ok := httpapi.Body(req)
	form, err := url.ParseQuery(string(body))
	switch {
	case !ok || err != nil || len(body) > 1024:
		return refuse(http.StatusBadRequest, "送信内容を読み取れませんでした。もう一度お試しください。")
	case !noncePattern.MatchString(form.Get("nonce")):
		return refuse(http.StatusBadRequest, "このフォームは古いか壊れています。ページを開き直してください。")
	}
	res, err := h.Redeemer.Redeem(ctx, redeem.Request{CustomerID: link.CustomerID, RewardID: form.Get("reward"), Key: "email:" + form.Get("nonce"), At: now})
	switch {
	case errors.Is(err, redeem.ErrNotEnoughPoints):
		return refuse(http.StatusConflict, "ポイントが足りません。確定待ちのポイントは返品期間が過ぎると使えます。")
	case errors.Is(err, redeem.ErrUnknownReward), errors.Is(err, redeem.ErrNoRewards):
		return refuse(http.StatusBadRequest, "この交換はいまは受け付けていません。下から選び直してください。")
	case err != nil:
		return httpapi.Unavailable(ctx, err, 30*time.Second)
	}
	c := res.Coupon
	shown := &couponShown{Name: c.Name, Code: c.Code, Discount: h.Rules.Discount(c.PercentOff, c.AmountOff),
		Until: c.ExpiresAt.In(h.Rules.Settings.Location).Format("2006年1月2日")}
	if c.MinOrder > 0 {
		shown.MinOrder = rules.Money(c.MinOrder, c.Currency)
	}
	d, err := h.points(ctx, link.CustomerID)
	if err != nil {
		return httpapi.Unavailable(ctx, err, 30*time.Second)
	}
	d.Title, d.Coupon = "クーポンに交換しました", shown
	return h.page(http.StatusOK, d)
}

// points is the page of a customer's points, with a fresh nonce for its
// forms.
func (h *Handler) points(ctx context.Context, customerID string) (pageData, error) {
	ledger, err := h.Ledger.Ledger(ctx, customerID)
	if err != nil {
		return pageData{}, err
	}
	p := h.Rules.Loyalty
	s := loyalty.Summarize(p, ledger)
	d := pageData{Title: "ポイント", Balance: s.Approved, Pending: s.Pending, Nonce: redeem.NewNonce()}
	if s.Expiring > 0 {
		d.Expiring = rules.Number(s.Expiring) + " pt は " + s.ExpiresAt.In(h.Rules.Settings.Location).Format("2006年1月2日") + " に失効します（次のご注文で延長）"
	}
	for _, r := range p.Offers(s.Approved) {
		d.Rewards = append(d.Rewards, rewardChoice{ID: r.ID, Name: r.Name, Label: r.Label(h.Rules.Settings.Shop.Currency), Points: r.Points, Affordable: s.Approved >= r.Points})
	}
	return d, nil
}

func (h *Handler) page(status int, d pageData) events.APIGatewayV2HTTPResponse {
	d.Shop = h.Rules.Settings.Shop.Name
	return httpapi.Page(status, pageTemplate, d)
}
