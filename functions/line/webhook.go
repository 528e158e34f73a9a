package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

// event is what the handler uses of one webhook event.
type event struct {
	typ        string
	id         string // webhookEventId
	at         time.Time
	userID     string
	replyToken string
	// active is false in standby mode (another channel answers the chat).
	active     bool
	redelivery bool
	link       *webhook.LinkContent
	postback   *webhook.PostbackContent
}

// webhookAnswer is the body of a 200 to LINE.
type webhookAnswer struct {
	Events    int  `json:"events"`
	Processed int  `json:"processed"`
	Duplicate bool `json:"duplicate"`
}

// webhook verifies the signature on the raw body before anything else,
// then applies each event once: an event already done is skipped, so a
// request whose events are all done (LINE's redelivery, the same request
// sent twice, or a replay of a captured one) answers 200 "duplicate": true
// and has no effect; LINE counts any other answer as a failure and
// retries. Events it cannot use (unknown types, unknown users, malformed
// ones) are logged and answered 200, so LINE does not redeliver them
// forever; only a failure of tsunagu itself answers 5xx, for LINE to
// redeliver.
func (h *Handler) webhook(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	body, ok := httpapi.Body(req)
	if ok && len(body) > httpapi.MaxBody {
		return httpapi.Error(http.StatusRequestEntityTooLarge, "body over 256 KiB")
	}
	sig := httpapi.Header(req, "X-Line-Signature")
	if !ok || sig == "" || !h.ChannelSecret.Valid(func(secret string) bool { return webhook.ValidateSignature(secret, sig, body) }) {
		slog.WarnContext(ctx, "line webhook signature refused", "signature_present", sig != "")
		return httpapi.Error(http.StatusUnauthorized, "missing or invalid X-Line-Signature")
	}
	var cb struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		slog.WarnContext(ctx, "line webhook body malformed", "error", err)
		return httpapi.JSON(http.StatusOK, webhookAnswer{})
	}
	now := h.Now()
	var todo []event
	usable := 0
	for i, raw := range cb.Events {
		ev, err := parseEvent(raw)
		if err != nil {
			slog.WarnContext(ctx, "line event malformed", "index", i, "error", err)
			continue
		}
		if ev.id == "" || ev.userID == "" {
			slog.InfoContext(ctx, "line event ignored", "index", i, "type", ev.typ)
			continue
		}
		usable++
		done, err := h.Store.LineEventDone(ctx, ev.id, now)
		if err != nil {
			return httpapi.Unavailable(ctx, err, retryAfter)
		}
		if !done {
			todo = append(todo, ev)
		}
	}
	for _, ev := range todo {
		if err := h.apply(ctx, ev); err != nil {
			return httpapi.Unavailable(ctx, fmt.Errorf("line %s event %s: %w", ev.typ, ev.id, err), retryAfter)
		}
		if _, err := h.Store.MarkLineEventDone(ctx, ev.id, ev.typ, now); err != nil {
			return httpapi.Unavailable(ctx, err, retryAfter)
		}
		slog.InfoContext(ctx, "line event processed", "type", ev.typ, "webhook_event_id", ev.id, "redelivery", ev.redelivery)
	}
	return httpapi.JSON(http.StatusOK, webhookAnswer{Events: len(cb.Events), Processed: len(todo), Duplicate: usable > 0 && len(todo) == 0})
}

// parseEvent reads one event with the SDK. Types the handler does not act
// on come back with only their type; so do events from a group or room.
func parseEvent(raw json.RawMessage) (event, error) {
	e, err := webhook.UnmarshalEvent(raw)
	if err != nil {
		return event{}, err
	}
	var (
		ev   event
		src  webhook.SourceInterface
		mode webhook.EventMode
		dc   *webhook.DeliveryContext
		ts   int64
	)
	switch e := e.(type) {
	case webhook.FollowEvent:
		ev = event{id: e.WebhookEventId, replyToken: e.ReplyToken}
		src, mode, dc, ts = e.Source, e.Mode, e.DeliveryContext, e.Timestamp
	case webhook.UnfollowEvent:
		ev = event{id: e.WebhookEventId}
		src, mode, dc, ts = e.Source, e.Mode, e.DeliveryContext, e.Timestamp
	case webhook.AccountLinkEvent:
		ev = event{id: e.WebhookEventId, replyToken: e.ReplyToken, link: e.Link}
		src, mode, dc, ts = e.Source, e.Mode, e.DeliveryContext, e.Timestamp
	case webhook.PostbackEvent:
		ev = event{id: e.WebhookEventId, replyToken: e.ReplyToken, postback: e.Postback}
		src, mode, dc, ts = e.Source, e.Mode, e.DeliveryContext, e.Timestamp
	default:
		return event{typ: e.GetType()}, nil
	}
	ev.typ = e.GetType()
	ev.at = time.UnixMilli(ts).UTC()
	ev.active = mode != webhook.EventMode_STANDBY
	ev.redelivery = dc != nil && dc.IsRedelivery
	if u, ok := src.(webhook.UserSource); ok && line.ValidUserID(u.UserId) {
		ev.userID = u.UserId
	}
	return ev, nil
}

// apply makes one event's effects. Each step converges when repeated, so
// an event that failed halfway is safely redelivered.
func (h *Handler) apply(ctx context.Context, ev event) error {
	switch ev.typ {
	case "follow", "unfollow":
		following := ev.typ == "follow"
		l, latest, err := h.Store.RecordLineFollow(ctx, ev.userID, following, ev.at)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if following {
				h.inviteToLink(ctx, ev)
				return nil
			}
			slog.InfoContext(ctx, "line event for an unknown user", "type", ev.typ)
			return nil
		case err != nil:
			return err
		case !latest:
			slog.InfoContext(ctx, "line follow state older than the one stored", "type", ev.typ)
			return nil
		}
		_, err = h.Store.UpdateProfile(ctx, l.CustomerID, func(p *customer.Profile) bool {
			if following {
				return p.FollowLine(ev.userID, customer.LineSourceFollow, ev.at)
			}
			return p.UnfollowLine(ev.userID, ev.at)
		})
		return err
	case "accountLink":
		return h.completeLink(ctx, ev)
	case "postback":
		return h.postback(ctx, ev)
	}
	return nil
}

// completeLink is the last step of LINE's account link: the nonce the
// shop's page issued names the customer, and the LINE user in the event is
// the one LINE verified. A nonce unknown, expired or spent by another LINE
// user links nothing.
func (h *Handler) completeLink(ctx context.Context, ev event) error {
	switch {
	case ev.link == nil:
		slog.WarnContext(ctx, "line account link event without its link")
		return nil
	case ev.link.Result != webhook.LinkContentRESULT_OK:
		slog.InfoContext(ctx, "line account link failed on LINE's side", "result", string(ev.link.Result))
		return nil
	}
	n, err := h.Store.SpendLinkNonce(ctx, ev.link.Nonce, ev.userID, ev.at)
	if errors.Is(err, store.ErrNotFound) {
		slog.WarnContext(ctx, "line account link nonce unknown, expired or spent")
		return nil
	}
	if err != nil {
		return err
	}
	customerID := n.CustomerID
	// The profiles first and the link last: until the link is written, a
	// retry still sees the customer the LINE user was linked to before.
	prev, err := h.Store.GetLineLink(ctx, ev.userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if prev.LinkedAt.After(ev.at) {
		slog.InfoContext(ctx, "line account link superseded by a later one")
		return nil
	}
	refused := false
	if _, err := h.Store.UpdateProfile(ctx, customerID, func(p *customer.Profile) bool {
		if n.FirstLinkOnly && p.LineUserID != "" && p.LineUserID != ev.userID {
			// Linked since the nonce was issued: an order's signature
			// never moves a link.
			refused = true
			return false
		}
		linked := p.LinkLine(ev.userID)
		// Only a friend of the shop's account can link from the chat.
		return p.FollowLine(ev.userID, customer.LineSourceAccountLink, ev.at) || linked
	}); err != nil {
		return err
	}
	if refused {
		slog.WarnContext(ctx, "line account link refused: the customer was linked since an order's signature issued the nonce")
		return nil
	}
	if prev.CustomerID != "" && prev.CustomerID != customerID {
		if _, err := h.Store.UpdateProfile(ctx, prev.CustomerID, func(p *customer.Profile) bool { return p.UnlinkLine(ev.userID) }); err != nil {
			return err
		}
	}
	if _, err := h.Store.LinkLineUser(ctx, ev.userID, customerID, ev.at); err != nil {
		return err
	}
	slog.InfoContext(ctx, "line account linked", "customer_id", customerID)
	h.reply(ctx, ev, line.Text("LINEとショップのアカウントの連携が完了しました。ご注文やクーポンのお知らせをこちらでお届けします。"))
	return nil
}

// Postback actions the handler knows (the data of a postback action,
// as a query string: action=link).
const (
	postbackLink  = "link"
	postbackOptIn = "optin"
)

// postback runs a button the customer pressed in the chat: "link" offers
// the account link again (link tokens last 10 minutes), "optin" resumes
// LINE messages after an unsubscribe, "points" and "redeem" answer the
// customer's points requests (points.go), "survey" records a LINE
// survey's quick-reply score (survey.go).
func (h *Handler) postback(ctx context.Context, ev event) error {
	var action string
	if ev.postback != nil {
		if q, err := url.ParseQuery(ev.postback.Data); err == nil {
			action = q.Get("action")
		}
	}
	switch action {
	case postbackLink:
		h.inviteToLink(ctx, ev)
		return nil
	case survey.PostbackAction:
		q, _ := url.ParseQuery(ev.postback.Data)
		return h.answerSurvey(ctx, ev, q)
	case postbackPoints, postbackRedeem:
		q, _ := url.ParseQuery(ev.postback.Data)
		return h.points(ctx, ev, action, q)
	case postbackOptIn:
		l, err := h.Store.GetLineLink(ctx, ev.userID)
		if errors.Is(err, store.ErrNotFound) {
			slog.InfoContext(ctx, "line event for an unknown user", "type", ev.typ)
			return nil
		}
		if err != nil {
			return err
		}
		var resumed bool
		if _, err := h.Store.UpdateProfile(ctx, l.CustomerID, func(p *customer.Profile) bool {
			resumed = p.FollowLine(ev.userID, customer.LineSourceOptIn, ev.at)
			return resumed
		}); err != nil {
			return err
		}
		if resumed {
			h.reply(ctx, ev, line.Text("LINEでのお知らせを再開しました。"))
		}
		return nil
	}
	slog.InfoContext(ctx, "line postback ignored")
	return nil
}

// inviteToLink issues a link token for the LINE user and answers in the
// chat with a button to the shop's login page, which carries it. It is a
// courtesy: a failure is logged, not retried (the reply token would have
// expired), and the customer can ask again from the menu.
func (h *Handler) inviteToLink(ctx context.Context, ev event) {
	if h.LoginURL == "" || ev.replyToken == "" || !ev.active {
		return
	}
	token, err := h.LINE.IssueLinkToken(ctx, ev.userID)
	if err != nil {
		slog.WarnContext(ctx, "line link token failed", "error", err)
		return
	}
	u, err := url.Parse(h.LoginURL)
	if err != nil {
		slog.ErrorContext(ctx, "line login url malformed", "error", err)
		return
	}
	q := u.Query()
	q.Set("linkToken", token)
	u.RawQuery = q.Encode()
	h.reply(ctx, ev, linkInvitation(u.String()))
}

// validLoginURL reports whether s can be LINE_LINK_LOGIN_URL: an absolute
// https URL (http only on this machine, for the local stack).
func validLoginURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost")
}

// reply answers in the chat when the event allows it; failures are logged.
func (h *Handler) reply(ctx context.Context, ev event, messages ...messaging_api.MessageInterface) {
	if ev.replyToken == "" || !ev.active {
		return
	}
	if err := h.LINE.Reply(ctx, ev.replyToken, messages); err != nil {
		slog.WarnContext(ctx, "line reply failed", "type", ev.typ, "error", err)
	}
}

// linkInvitation is the chat message that starts the account link.
func linkInvitation(loginURL string) *messaging_api.FlexMessage {
	return &messaging_api.FlexMessage{
		AltText: "アカウント連携のご案内",
		Contents: &messaging_api.FlexBubble{
			Body: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Spacing: "md", Contents: []messaging_api.FlexComponentInterface{
				&messaging_api.FlexText{Text: "アカウント連携のご案内", Size: "lg", Weight: messaging_api.FlexTextWEIGHT_BOLD, Wrap: true},
				&messaging_api.FlexText{Text: "ショップのアカウントとLINEを連携すると、ご注文やクーポンのお知らせをLINEでお届けします。", Size: "sm", Wrap: true},
				&messaging_api.FlexText{Text: "ボタンは10分間有効です。連携の解除はショップのお問い合わせ先で承ります。", Size: "xs", Color: "#777777", Wrap: true},
			}},
			Footer: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Contents: []messaging_api.FlexComponentInterface{
				&messaging_api.FlexButton{Action: &messaging_api.UriAction{Label: "連携する", Uri: loginURL},
					Style: messaging_api.FlexButtonSTYLE_PRIMARY, Color: "#8a5a2b"},
			}},
		},
	}
}
