package main

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// Route keys this function serves (template.yaml declares them).
const (
	pageRoute    = "GET /unsubscribe"
	oneClickPost = "POST /unsubscribe"
	// The link of an opt-in confirmation email (double opt-in).
	confirmPage = "GET /optin/confirm"
	confirmPost = "POST /optin/confirm"
)

// Store is what the handler needs of the DynamoDB store.
type Store interface {
	UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error)
	AddCounts(ctx context.Context, pk, sk string, day time.Time, counts store.Counts) error
}

// Tokens opens unsubscribe and opt-in confirmation tokens
// (unsubscribe.Sealer).
type Tokens interface {
	Open(token string) (unsubscribe.Recipient, error)
	OpenConfirmation(token string) (unsubscribe.Confirmation, error)
}

// Handler serves the unsubscribe link of every message: GET shows a
// confirmation page (and changes nothing, so link scanners cannot
// unsubscribe anyone), POST unsubscribes at once: the page's button, and
// mail clients' RFC 8058 one-click POST (List-Unsubscribe=One-Click). It
// also serves the link of an opt-in confirmation email, the same way: GET
// asks, POST records the consent.
type Handler struct {
	Store  Store
	Tokens Tokens
	Shop   rules.Shop
	// OptinText is the opt-in wording of the thank-you page
	// (thankyou.optin.text), recorded with a confirmed opt-in.
	OptinText string
	// Location is the shop's zone: counters are kept by its days.
	Location *time.Location
	Now      func() time.Time
}

// Handle answers one API Gateway request with an HTML page.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	query, err := url.ParseQuery(req.RawQueryString)
	token := ""
	if err == nil && len(query["token"]) == 1 && len(req.RawQueryString) <= 2048 {
		token = query.Get("token")
	}
	if req.RouteKey == confirmPage || req.RouteKey == confirmPost {
		return h.confirm(ctx, req.RouteKey, token), nil
	}
	recipient, err := h.Tokens.Open(token)
	if err != nil {
		return h.page(http.StatusBadRequest, pageData{Title: "リンクが無効です", Message: "この配信停止リンクは無効か、途中で切れています。お手数ですが、メールのリンクをもう一度お試しいただくか、下記までご連絡ください。"}), nil
	}
	channel := recipient.Channel
	data := pageData{Channel: channelName(channel)}
	switch req.RouteKey {
	case pageRoute:
		data.Title, data.Confirm, data.Button = "配信停止の確認", true, "配信を停止する"
		data.Message = "下のボタンを押すと、" + data.Channel + "でのお知らせの配信を停止します。"
		return h.page(http.StatusOK, data), nil
	case oneClickPost:
		source := "unsubscribe:page"
		if body, ok := httpapi.Body(req); ok && bytes.Contains(body, []byte("List-Unsubscribe=One-Click")) {
			source = "unsubscribe:one-click"
		}
		now := h.Now()
		var unsubscribed bool
		if _, err := h.Store.UpdateProfile(ctx, recipient.CustomerID, func(p *customer.Profile) bool {
			unsubscribed = p.Unsubscribe(channel, source, now)
			return unsubscribed
		}); err != nil {
			slog.ErrorContext(ctx, "unsubscribe failed", "error", err)
			return h.page(http.StatusServiceUnavailable, pageData{Title: "ただいま混み合っています", Message: "配信停止を受け付けられませんでした。少し時間をおいて、もう一度お試しください。"}), nil
		}
		slog.InfoContext(ctx, "unsubscribed", "channel", channel, "source", source, "new", unsubscribed, "campaign", recipient.CampaignID)
		if unsubscribed {
			h.count(ctx, recipient, now)
		}
		data.Title = "配信を停止しました"
		data.Message = data.Channel + "でのお知らせの配信を停止しました。ご注文に関するご連絡は引き続きお届けします。"
		if channel == "email" {
			data.Message = "メールでのお知らせの配信を停止しました。再開をご希望の場合は、ショップのお問い合わせ先までご連絡ください。"
		}
		return h.page(http.StatusOK, data), nil
	}
	return h.page(http.StatusNotFound, pageData{Title: "ページが見つかりません"}), nil
}

// count adds a new unsubscribe to the shop's counters
// (email_unsubscribed, line_unsubscribed) and, when the link named the
// message it came from, to its campaign's (unsubscribed). The unsubscribe
// is recorded already, so a failure here only loses a count (logged): a
// second click finds the customer unsubscribed and counts nothing.
func (h *Handler) count(ctx context.Context, r unsubscribe.Recipient, now time.Time) {
	if err := h.Store.AddCounts(ctx, store.ShopStatsPartition, store.DayKey(now, h.Location), now, store.Counts{r.Channel + "_unsubscribed": 1}); err != nil {
		slog.WarnContext(ctx, "unsubscribe not counted", "counters", "shop", "error", err)
	}
	if r.MessageKey == "" {
		return
	}
	if err := h.Store.AddCounts(ctx, store.CampaignStatsPartition(r.CampaignID), store.CampaignStatsKey(now, h.Location, r.Variant), now, store.Counts{"unsubscribed": 1}); err != nil {
		slog.WarnContext(ctx, "unsubscribe not counted", "counters", "campaign", "campaign", r.CampaignID, "error", err)
	}
}

// confirmSource is the consent ledger's source of an opt-in confirmed
// from its email.
const confirmSource = "thankyou:optin:confirmed"

// confirm is the link of an opt-in confirmation email. POST records the
// consent as of the opt-in, with the wording shown, unless the customer
// unsubscribed or was erased after it (or has no address: unknown, or
// erased); confirming again changes nothing.
func (h *Handler) confirm(ctx context.Context, routeKey, token string) events.APIGatewayV2HTTPResponse {
	c, err := h.Tokens.OpenConfirmation(token)
	if err != nil {
		return h.page(http.StatusBadRequest, pageData{Title: "リンクが無効です", Message: "この確認リンクは無効か、途中で切れています。お手数ですが、メールのリンクをもう一度お試しください。"})
	}
	if now := h.Now(); now.Sub(c.At) > unsubscribe.ConfirmationValidFor {
		return h.page(http.StatusGone, pageData{Title: "確認リンクの有効期限が切れました", Message: "お手数ですが、ご注文完了ページからもう一度お申し込みください。"})
	}
	if routeKey == confirmPage {
		return h.page(http.StatusOK, pageData{Title: "メールでのお知らせ再開の確認", Message: "下のボタンを押すと、メールでのお知らせ（新商品・セール情報）の受け取りを再開します。",
			Confirm: true, Button: "受け取りを再開する"})
	}
	var resumed, superseded bool
	if _, err := h.Store.UpdateProfile(ctx, c.CustomerID, func(p *customer.Profile) bool {
		at, unsubscribed := p.Unsubscribed["email"]
		if p.Email == "" || unsubscribed && at.After(c.At) || p.ErasedAt.After(c.At) {
			superseded = true
			return false
		}
		changed := p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: confirmSource, At: c.At, Shown: h.OptinText})
		resumed = p.Consent.State == order.ConsentGranted && p.Reachable("email")
		return changed
	}); err != nil {
		slog.ErrorContext(ctx, "opt-in confirmation failed", "error", err)
		return h.page(http.StatusServiceUnavailable, pageData{Title: "ただいま混み合っています", Message: "受け付けられませんでした。少し時間をおいて、もう一度お試しください。"})
	}
	if !resumed {
		slog.InfoContext(ctx, "opt-in confirmation superseded", "order_id", c.OrderID, "by_later_change", superseded)
		return h.page(http.StatusConflict, pageData{Title: "再開できませんでした", Message: "お申し込みのあとに配信停止などのお手続きがあったため、このリンクでは再開できません。ご希望の場合は、ショップのお問い合わせ先までご連絡ください。"})
	}
	slog.InfoContext(ctx, "opt-in confirmed", "order_id", c.OrderID)
	return h.page(http.StatusOK, pageData{Title: "受け取りを再開しました", Message: "メールでのお知らせ（新商品・セール情報）の受け取りを再開しました。配信はいつでも、各メールのリンクから停止できます。"})
}

func channelName(channel string) string {
	if channel == "line" {
		return "LINE"
	}
	return "メール"
}

type pageData struct {
	Title, Message, Channel string
	// Confirm shows a button (labelled Button) that posts the page's link.
	Confirm bool
	Button  string
	Shop    rules.Shop
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}} | {{.Shop.Name}}</title>
<style>body{margin:0;background:#f6f4ef;font-family:"Hiragino Sans","Noto Sans JP",sans-serif;color:#333;line-height:1.7}
main{max-width:520px;margin:48px auto;padding:32px;background:#fff;border-radius:8px}
h1{font-size:20px;margin:0 0 16px}button{font:inherit;padding:12px 24px;border:0;border-radius:6px;background:#8a5a2b;color:#fff;cursor:pointer}
button:focus{outline:3px solid #e0b070}footer{margin-top:32px;font-size:12px;color:#777}</style></head>
<body><main><h1>{{.Title}}</h1>{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Confirm}}<form method="post"><button type="submit">{{.Button}}</button></form>{{end}}
<footer>{{.Shop.Name}}<br>{{.Shop.PostalAddress}}<br>お問い合わせ: <a href="mailto:{{.Shop.ContactEmail}}">{{.Shop.ContactEmail}}</a></footer>
</main></body></html>
`))

func (h *Handler) page(status int, d pageData) events.APIGatewayV2HTTPResponse {
	d.Shop = h.Shop
	return httpapi.Page(status, pageTemplate, d)
}
