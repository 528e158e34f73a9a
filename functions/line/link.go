package main

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

var (
	linkTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{8,128}$`)
	orderIDPattern   = regexp.MustCompile(`^[A-Za-z0-9._:#\-]{1,200}$`)
)

// OrderLinkWindow is how long after an order its thank-you signature can
// start a LINE account link. The signature itself never expires and sits
// in the thank-you page's URL, so it may only link a customer who has no
// LINE user yet, and only while the order is fresh; moving a link to
// another LINE user takes the shop's signed word for the customer.
const OrderLinkWindow = 24 * time.Hour

// link is the shop-facing step of LINE's account link. The shop's page,
// having made sure who the customer is, sends the browser here with the
// link token from the chat and its word for the customer, signed: either
// order + sig (the order's thank-you signature, within OrderLinkWindow of
// the order and for a customer not linked yet) or customer + sig
// (signature.SignLineLink: hex HMAC-SHA256(THANKYOU_SIGNING_SECRET,
// "tsunagu-line-link\n<linkToken>\n<customer id>"), a message no
// thank-you signature signs). A single-use nonce bound to the customer is
// issued and the browser goes on to LINE's account-link dialog.
func (h *Handler) link(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	query, err := url.ParseQuery(req.RawQueryString)
	if err != nil || len(req.RawQueryString) > 2048 || len(query["linkToken"]) != 1 || !linkTokenPattern.MatchString(query.Get("linkToken")) ||
		len(query["sig"]) != 1 || len(query["order"])+len(query["customer"]) != 1 {
		return page(http.StatusBadRequest, "リンクが無効です", "このリンクは無効か、途中で切れています。LINEのトーク画面から、もう一度「連携する」を押してください。")
	}
	linkToken, sig := query.Get("linkToken"), query.Get("sig")
	var customerID string
	firstLinkOnly := false
	if orderID := query.Get("order"); len(query["order"]) == 1 {
		if !orderIDPattern.MatchString(orderID) || h.SigningSecret.VerifyOrder(orderID, sig) != nil {
			return page(http.StatusForbidden, "リンクが無効です", "このリンクの署名が正しくありません。ショップのページから、もう一度お進みください。")
		}
		st, err := h.Store.GetOrder(ctx, orderID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !st.Known() {
			return page(http.StatusNotFound, "ご注文が見つかりません", "ご注文の確認ができませんでした。時間をおいて、もう一度お試しください。")
		}
		if err != nil {
			slog.ErrorContext(ctx, "line link failed", "error", err)
			return page(http.StatusServiceUnavailable, "ただいま混み合っています", "少し時間をおいて、もう一度お試しください。")
		}
		if h.Now().Sub(st.Order.PlacedAt) > OrderLinkWindow {
			return page(http.StatusForbidden, "リンクの有効期限が切れました", "ご注文から時間が経っているため、このリンクは使えません。ショップにログインして、マイページから連携してください。")
		}
		customerID = st.Order.Customer.ID
		p, err := h.Store.GetProfile(ctx, customerID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			slog.ErrorContext(ctx, "line link failed", "error", err)
			return page(http.StatusServiceUnavailable, "ただいま混み合っています", "少し時間をおいて、もう一度お試しください。")
		}
		firstLinkOnly = true
		if p.LineUserID != "" {
			return page(http.StatusConflict, "すでに連携されています", "このお客様のアカウントは、すでにLINEと連携されています。連携先を変えるには、ショップにログインして、マイページからお進みください。")
		}
	} else {
		customerID = query.Get("customer")
		if !validCustomerID(customerID) || h.SigningSecret.VerifyLineLink(linkToken, customerID, sig) != nil {
			return page(http.StatusForbidden, "リンクが無効です", "このリンクの署名が正しくありません。ショップのページから、もう一度お進みください。")
		}
	}
	nonce := line.NewLinkNonce()
	if err := h.Store.IssueLinkNonce(ctx, store.LinkNonce{Nonce: nonce, CustomerID: customerID, IssuedAt: h.Now(), FirstLinkOnly: firstLinkOnly}); err != nil {
		slog.ErrorContext(ctx, "line link failed", "error", err)
		return page(http.StatusServiceUnavailable, "ただいま混み合っています", "少し時間をおいて、もう一度お試しください。")
	}
	slog.InfoContext(ctx, "line link nonce issued", "customer_id", customerID)
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusFound, Headers: map[string]string{
		"Location": line.AccountLinkURL(linkToken, nonce), "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
	}}
}

func validCustomerID(id string) bool {
	if id == "" || len(id) > 200 || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{margin:0;background:#f6f4ef;font-family:"Hiragino Sans","Noto Sans JP",sans-serif;color:#333;line-height:1.7}
main{max-width:520px;margin:48px auto;padding:32px;background:#fff;border-radius:8px}h1{font-size:20px;margin:0 0 16px}</style></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p></main></body></html>
`))

// page answers the customer's browser with a short HTML page.
func page(status int, title, message string) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, struct{ Title, Message string }{title, message}); err != nil {
		return httpapi.Error(http.StatusInternalServerError, "page failed")
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: b.String(), Headers: map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
	}}
}
