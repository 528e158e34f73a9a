package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	channelSecret = "test-channel-secret"
	signingSecret = "dev-secret"
	loginURL      = "https://tsubaki-chaen.example.jp/account/line-link"
	botUser       = "U4f3c2b1a0918273645f5e4d3c2b1a0f9"
	user          = "Ua1b2c3d4e5f60718293a4b5c6d7e8f90"
	otherUser     = "U0f9e8d7c6b5a49382716f5e4d3c2b1a0"
)

var now = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

type fixture struct {
	h    *Handler
	st   *store.Store
	line *lineapi.Server
	logs *bytes.Buffer
}

// setup gives a handler on a fresh table, talking to LINE's stand-in
// through the real SDK, with the logs kept (unmasked) for inspection and
// printed for make logcheck. The handler's requests to the table are held
// to LineFunction's policies in template.yaml; the test's own reads are not.
func setup(t *testing.T) fixture {
	t.Helper()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	srv := lineapi.NewServer(t)
	client, err := line.New(lineapi.Token, line.WithEndpoint(srv.URL), line.WithBackoff(line.Backoff{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.MultiWriter(logs, os.Stderr), nil)))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		if strings.Contains(logs.String(), user[1:]) || strings.Contains(logs.String(), otherUser[1:]) {
			t.Errorf("a LINE user id reached the logs:\n%s", logs)
		}
	})
	h := &Handler{Store: store.New(testenv.DynamoDBAs(t, "LineFunction"), table), LINE: client, ChannelSecret: signature.Keys{channelSecret}, SigningSecret: signature.Keys{signingSecret}, LoginURL: loginURL, Now: func() time.Time { return now }}
	return fixture{h: h, st: st, line: srv, logs: logs}
}

// linked makes customerID a known customer linked to LINE user u.
func (f fixture) linked(t *testing.T, customerID, u string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.st.UpdateProfile(ctx, customerID, func(p *customer.Profile) bool {
		p.ApplyContact(order.Customer{ID: customerID, Email: customerID + "@example.jp"}, at)
		p.LinkLine(u)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.LinkLineUser(ctx, u, customerID, at); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) profile(t *testing.T, customerID string) *customer.Profile {
	t.Helper()
	p, err := f.st.GetProfile(context.Background(), customerID)
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// ev is one webhook event object, as LINE sends it.
type ev map[string]any

func userEvent(typ, id string, at time.Time, u string) ev {
	e := ev{"type": typ, "mode": "active", "timestamp": at.UnixMilli(), "webhookEventId": id,
		"source": map[string]any{"type": "user", "userId": u}, "deliveryContext": map[string]any{"isRedelivery": false}}
	if typ != "unfollow" {
		e["replyToken"] = "rt-" + id
	}
	return e
}

func (e ev) with(key string, v any) ev {
	c := maps.Clone(e)
	c[key] = v
	return c
}

func (e ev) redelivered() ev { return e.with("deliveryContext", map[string]any{"isRedelivery": true}) }

func bodyOf(t *testing.T, evs ...ev) []byte {
	t.Helper()
	if evs == nil {
		evs = []ev{}
	}
	b, err := json.Marshal(map[string]any{"destination": botUser, "events": evs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func webhookRequest(body []byte, sig string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json; charset=utf-8", "user-agent": "LineBotWebhook/2.0"}
	if sig != "" {
		h["x-line-signature"] = sig
	}
	return events.APIGatewayV2HTTPRequest{RouteKey: webhookRoute, RawPath: "/line/webhook", Headers: h, Body: string(body)}
}

// deliver posts a signed webhook with the events.
func (f fixture) deliver(t *testing.T, evs ...ev) events.APIGatewayV2HTTPResponse {
	t.Helper()
	body := bodyOf(t, evs...)
	return f.handle(t, webhookRequest(body, sign(channelSecret, body)))
}

func (f fixture) handle(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := f.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned a Lambda error: %v", err)
	}
	return resp
}

func answer(t *testing.T, resp events.APIGatewayV2HTTPResponse) webhookAnswer {
	t.Helper()
	var a webhookAnswer
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &a) != nil {
		t.Fatalf("answer %d: %s", resp.StatusCode, resp.Body)
	}
	return a
}

func TestWebhookSignature(t *testing.T) {
	unfollow := userEvent("unfollow", "01KAQ4BZ7C8D9E0F1G2H3J4K5N", now, user)
	body := bodyOf(t, unfollow)
	encoded := base64.StdEncoding.EncodeToString(body)
	tests := []struct {
		name       string
		req        events.APIGatewayV2HTTPRequest
		wantStatus int
	}{
		{name: "signed", req: webhookRequest(body, sign(channelSecret, body)), wantStatus: 200},
		{name: "missing", req: webhookRequest(body, ""), wantStatus: 401},
		{name: "forged with another secret", req: webhookRequest(body, sign("not-the-channel-secret", body)), wantStatus: 401},
		{name: "the signature of another body", req: webhookRequest(bodyOf(t, unfollow.with("timestamp", 1)), sign(channelSecret, body)), wantStatus: 401},
		{name: "not base64", req: webhookRequest(body, "%%%"), wantStatus: 401},
		{name: "base64 body, signature of the raw body", req: base64Request(encoded, sign(channelSecret, body)), wantStatus: 200},
		{name: "base64 body, signature of the encoded text", req: base64Request(encoded, sign(channelSecret, []byte(encoded))), wantStatus: 401},
		{name: "body not valid base64", req: base64Request("!!"+encoded, sign(channelSecret, body)), wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.linked(t, "c-1", user, now.Add(-time.Hour))
			resp := f.handle(t, tt.req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("answer %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if reachable := f.profile(t, "c-1").Reachable("line"); reachable != (tt.wantStatus != 200) {
				t.Errorf("LINE reachable = %v after a %d", reachable, resp.StatusCode)
			}
		})
	}
}

func base64Request(encoded, sig string) events.APIGatewayV2HTTPRequest {
	req := webhookRequest([]byte(encoded), sig)
	req.IsBase64Encoded = true
	return req
}

func TestWebhookReplayAndRedelivery(t *testing.T) {
	f := setup(t)
	follow := userEvent("follow", "01KAMV5S9T0E6X2F7G8H9J0K1M", now, user).with("follow", map[string]any{"isUnblocked": false})
	body := bodyOf(t, follow)
	first := f.handle(t, webhookRequest(body, sign(channelSecret, body)))
	if a := answer(t, first); a.Processed != 1 || a.Duplicate {
		t.Fatalf("first delivery = %+v", a)
	}
	// The same request again, signature and all (LINE sending it twice,
	// or a replay): done already, so 200 and no effect, never a 401 that
	// LINE would count as a failure and retry.
	if a := answer(t, f.handle(t, webhookRequest(body, sign(channelSecret, body)))); a.Processed != 0 || !a.Duplicate {
		t.Errorf("the same request again = %+v, want a duplicate", a)
	}
	// LINE's redelivery of the event: a new request, one effect.
	if a := answer(t, f.deliver(t, follow.redelivered())); a.Processed != 0 || !a.Duplicate {
		t.Errorf("redelivery = %+v, want a duplicate", a)
	}
	if n, m := len(f.line.Requests(lineapi.LinkTokenPath)), len(f.line.Requests(lineapi.ReplyPath)); n != 1 || m != 1 {
		t.Errorf("%d link tokens and %d replies, want one of each", n, m)
	}
	// A request mixing a done event with a new one does the new one.
	unfollow := userEvent("unfollow", "01KAQ4BZ7C8D9E0F1G2H3J4K5N", now.Add(time.Hour), otherUser)
	if a := answer(t, f.deliver(t, follow, unfollow)); a.Processed != 1 || a.Duplicate {
		t.Errorf("mixed delivery = %+v, want the new event processed", a)
	}
}

func TestFollowInvitesToLink(t *testing.T) {
	follow := userEvent("follow", "01KAMV5S9T0E6X2F7G8H9J0K1M", now, user).with("follow", map[string]any{"isUnblocked": false})
	tests := []struct {
		name        string
		event       ev
		loginURL    string
		wantInvites int
	}{
		{name: "a new friend not linked yet", event: follow, loginURL: loginURL, wantInvites: 1},
		{name: "a login URL with its own query", event: follow, loginURL: loginURL + "?shop=tsubaki", wantInvites: 1},
		{name: "standby mode: another channel answers", event: follow.with("mode", "standby"), loginURL: loginURL},
		{name: "no login page configured", event: follow, loginURL: ""},
		{name: "the link button", event: userEvent("postback", "01KAS8N1P2Q3R4S5T6V7W8X9Y1", now, user).with("postback", map[string]any{"data": "action=link"}), loginURL: loginURL, wantInvites: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.h.LoginURL = tt.loginURL
			answer(t, f.deliver(t, tt.event))
			replies := f.line.Requests(lineapi.ReplyPath)
			if len(replies) != tt.wantInvites || len(f.line.Requests(lineapi.LinkTokenPath)) != tt.wantInvites {
				t.Fatalf("%d replies, want %d", len(replies), tt.wantInvites)
			}
			if tt.wantInvites == 0 {
				return
			}
			var reply struct {
				ReplyToken string `json:"replyToken"`
				Messages   []struct {
					Contents struct {
						Footer struct {
							Contents []struct {
								Action struct {
									URI string `json:"uri"`
								} `json:"action"`
							} `json:"contents"`
						} `json:"footer"`
					} `json:"contents"`
				} `json:"messages"`
			}
			if err := json.Unmarshal(replies[0].Body, &reply); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(reply.Messages[0].Contents.Footer.Contents[0].Action.URI)
			if err != nil || !strings.HasPrefix(u.String(), strings.Split(tt.loginURL, "?")[0]+"?") || u.Query().Get("linkToken") == "" || reply.ReplyToken != tt.event["replyToken"] {
				t.Errorf("invitation to %s with reply token %s", u, reply.ReplyToken)
			}
			if tt.name == "a new friend not linked yet" {
				golden.Check(t, "reply-link-invitation.json", indent(t, replies[0].Body))
			}
		})
	}
}

// down fails every request in transit.
type down struct{}

func (down) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

func TestLINEDownIsLoggedWithoutTheUser(t *testing.T) {
	tests := []struct {
		name   string
		client func(srv *lineapi.Server) (*line.Client, error)
	}{
		{name: "LINE answers 5xx", client: func(srv *lineapi.Server) (*line.Client, error) {
			srv.Script(lineapi.LinkTokenPath, lineapi.Answer{Status: 500}, lineapi.Answer{Status: 503})
			return line.New(lineapi.Token, line.WithEndpoint(srv.URL), line.WithBackoff(line.Backoff{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}))
		}},
		{name: "LINE unreachable", client: func(srv *lineapi.Server) (*line.Client, error) {
			return line.New(lineapi.Token, line.WithEndpoint(srv.URL), line.WithHTTPClient(&http.Client{Transport: down{}}),
				line.WithBackoff(line.Backoff{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			client, err := tt.client(f.line)
			if err != nil {
				t.Fatal(err)
			}
			f.h.LINE = client
			answer(t, f.deliver(t, userEvent("follow", "f1", now, user).with("follow", map[string]any{"isUnblocked": false})))
			if !strings.Contains(f.logs.String(), "line link token failed") || len(f.line.Requests(lineapi.ReplyPath)) != 0 {
				t.Errorf("want the failure logged and no reply; logs:\n%s", f.logs)
			}
		})
	}
}

func indent(t *testing.T, body []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	return b.String() + "\n"
}

func TestFollowState(t *testing.T) {
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	unfollow := func(id string, h int) ev { return userEvent("unfollow", id, at(h), user) }
	follow := func(id string, h int) ev {
		return userEvent("follow", id, at(h), user).with("follow", map[string]any{"isUnblocked": true})
	}
	tests := []struct {
		name          string
		events        []ev
		wantReachable bool
	}{
		{name: "blocked", events: []ev{unfollow("e1", 1)}, wantReachable: false},
		{name: "blocked, then unblocked", events: []ev{unfollow("e1", 1), follow("e2", 2)}, wantReachable: true},
		{name: "unblocked, then blocked again", events: []ev{unfollow("e1", 1), follow("e2", 2), unfollow("e3", 3)}, wantReachable: false},
		{name: "a late unfollow older than the follow changes nothing", events: []ev{unfollow("e1", 1), follow("e3", 3), unfollow("e2", 2)}, wantReachable: true},
		{name: "a late follow older than the unfollow changes nothing", events: []ev{unfollow("e2", 2), follow("e1", 1)}, wantReachable: false},
		{name: "events of a LINE user linked elsewhere since", events: []ev{userEvent("unfollow", "e1", at(1), otherUser)}, wantReachable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.linked(t, "c-1", user, now)
			// An older link of otherUser to c-1, whose profile has named
			// another LINE user since: otherUser's events must not touch it.
			if _, err := f.st.LinkLineUser(context.Background(), otherUser, "c-1", now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.events {
				answer(t, f.deliver(t, e))
			}
			if got := f.profile(t, "c-1").Reachable("line"); got != tt.wantReachable {
				t.Errorf("LINE reachable = %v, want %v", got, tt.wantReachable)
			}
			if n := len(f.line.Requests(lineapi.ReplyPath)); n != 0 {
				t.Errorf("%d replies to a linked user's follow, want none", n)
			}
		})
	}
}

// startLink runs the shop-facing step: it returns the nonce LINE would
// carry back.
func (f fixture) startLink(t *testing.T, query string) string {
	t.Helper()
	resp := f.handle(t, events.APIGatewayV2HTTPRequest{RouteKey: linkRoute, RawPath: "/line/link", RawQueryString: query})
	if resp.StatusCode != 302 {
		t.Fatalf("link page answered %d: %s", resp.StatusCode, resp.Body)
	}
	loc, err := url.Parse(resp.Headers["Location"])
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != "https://access.line.me/dialog/bot/accountLink" {
		t.Fatalf("redirected to %s", resp.Headers["Location"])
	}
	return loc.Query().Get("nonce")
}

func (f fixture) placeOrder(t *testing.T, orderID, customerID string) {
	t.Helper()
	f.placeOrderAt(t, orderID, customerID, now)
}

func (f fixture) placeOrderAt(t *testing.T, orderID, customerID string, placed time.Time) {
	t.Helper()
	_, err := f.st.ApplyOrderEvent(context.Background(), order.Event{DeliveryID: "d-" + orderID, Source: "generic", Type: order.Created, OccurredAt: placed, Order: order.Order{
		ID: orderID, Currency: "JPY", Total: 4300, PlacedAt: placed, Customer: &order.Customer{ID: customerID},
		Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", UnitPrice: 2150, Quantity: 2}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func orderQuery(linkToken, orderID string) string {
	return url.Values{"linkToken": {linkToken}, "order": {orderID}, "sig": {signature.SignOrder(signingSecret, orderID)}}.Encode()
}

func customerQuery(linkToken, customerID string) string {
	return url.Values{"linkToken": {linkToken}, "customer": {customerID}, "sig": {signature.SignLineLink(signingSecret, linkToken, customerID)}}.Encode()
}

func accountLink(id, nonce string, at time.Time, u string) ev {
	return userEvent("accountLink", id, at, u).with("link", map[string]any{"result": "ok", "nonce": nonce})
}

func TestAccountLink(t *testing.T) {
	const linkToken = "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"
	tests := []struct {
		name string
		// run starts the link and returns the accountLink events LINE sends.
		run          func(t *testing.T, f fixture) []ev
		wantCustomer string // who the LINE user ends up linked to ("": nobody)
		wantReplies  int
	}{
		{name: "from an order's signature", run: func(t *testing.T, f fixture) []ev {
			return []ev{accountLink("e1", f.startLink(t, orderQuery(linkToken, "1001")), now.Add(time.Minute), user)}
		}, wantCustomer: "c-1", wantReplies: 1},
		{name: "from the shop's login", run: func(t *testing.T, f fixture) []ev {
			return []ev{accountLink("e1", f.startLink(t, customerQuery(linkToken, "c-1")), now.Add(time.Minute), user)}
		}, wantCustomer: "c-1", wantReplies: 1},
		{name: "a nonce spent by another LINE user links nothing", run: func(t *testing.T, f fixture) []ev {
			nonce := f.startLink(t, orderQuery(linkToken, "1001"))
			return []ev{accountLink("e1", nonce, now.Add(time.Minute), otherUser), accountLink("e2", nonce, now.Add(2*time.Minute), user)}
		}, wantCustomer: "", wantReplies: 1},
		{name: "an expired nonce links nothing", run: func(t *testing.T, f fixture) []ev {
			return []ev{accountLink("e1", f.startLink(t, orderQuery(linkToken, "1001")), now.Add(store.LinkNonceLifetime+time.Second), user)}
		}, wantCustomer: ""},
		{name: "an unknown nonce links nothing", run: func(t *testing.T, f fixture) []ev {
			return []ev{accountLink("e1", line.NewLinkNonce(), now, user)}
		}, wantCustomer: ""},
		{name: "LINE reports a failed link", run: func(t *testing.T, f fixture) []ev {
			nonce := f.startLink(t, orderQuery(linkToken, "1001"))
			return []ev{userEvent("accountLink", "e1", now, user).with("link", map[string]any{"result": "failed", "nonce": nonce})}
		}, wantCustomer: ""},
		{name: "an order's nonce does not move a link made since it was issued", run: func(t *testing.T, f fixture) []ev {
			nonce := f.startLink(t, orderQuery(linkToken, "1001"))
			f.linked(t, "c-1", otherUser, now.Add(30*time.Second))
			return []ev{accountLink("e1", nonce, now.Add(time.Minute), user)}
		}, wantCustomer: ""},
		{name: "standby mode links but does not reply", run: func(t *testing.T, f fixture) []ev {
			return []ev{accountLink("e1", f.startLink(t, orderQuery(linkToken, "1001")), now.Add(time.Minute), user).with("mode", "standby")}
		}, wantCustomer: "c-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.placeOrder(t, "1001", "c-1")
			for _, e := range tt.run(t, f) {
				answer(t, f.deliver(t, e))
			}
			l, err := f.st.GetLineLink(context.Background(), user)
			if tt.wantCustomer == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("LINE user linked to %q (%v), want nobody", l.CustomerID, err)
				}
			} else if err != nil || l.CustomerID != tt.wantCustomer || f.profile(t, tt.wantCustomer).LineUserID != user {
				t.Errorf("link = %+v, %v; want %s with the LINE user on its profile", l, err, tt.wantCustomer)
			}
			if p, err := f.st.GetProfile(context.Background(), "c-1"); err == nil && tt.wantCustomer == "" && p.LineUserID == user {
				t.Error("c-1's profile names the LINE user")
			}
			replies := f.line.Requests(lineapi.ReplyPath)
			if len(replies) != tt.wantReplies {
				t.Fatalf("%d replies, want %d", len(replies), tt.wantReplies)
			}
			if tt.name == "from an order's signature" {
				golden.Check(t, "reply-linked.json", indent(t, replies[0].Body))
			}
		})
	}
}

func TestAccountLinkMovesTheLINEUser(t *testing.T) {
	f := setup(t)
	f.linked(t, "c-2", user, now.Add(-24*time.Hour))
	f.placeOrder(t, "1001", "c-1")
	nonce := f.startLink(t, orderQuery("NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY", "1001"))
	link := accountLink("e1", nonce, now.Add(time.Minute), user)
	answer(t, f.deliver(t, link))
	answer(t, f.deliver(t, link.redelivered()))
	if p := f.profile(t, "c-1"); p.LineUserID != user {
		t.Errorf("c-1 LineUserID = %q", p.LineUserID)
	}
	if p := f.profile(t, "c-2"); p.LineUserID != "" {
		t.Errorf("c-2 still names the LINE user now linked to c-1")
	}
	if l, _ := f.st.GetLineLink(context.Background(), user); l.CustomerID != "c-1" {
		t.Errorf("link = %+v", l)
	}
}

func TestLinkPage(t *testing.T) {
	const linkToken = "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"
	tests := []struct {
		name              string
		query             string
		wantStatus        int
		wantCustomer      string
		wantFirstLinkOnly bool
	}{
		{name: "an order's thank-you signature", query: orderQuery(linkToken, "1001"), wantStatus: 302, wantCustomer: "c-1", wantFirstLinkOnly: true},
		{name: "the shop's customer signature", query: customerQuery(linkToken, "c-9"), wantStatus: 302, wantCustomer: "c-9"},
		{name: "a customer signature for another link token", query: strings.Replace(customerQuery("OtherLinkToken0123456789", "c-1"), "OtherLinkToken0123456789", linkToken, 1), wantStatus: 403},
		{name: "a forged order signature", query: url.Values{"linkToken": {linkToken}, "order": {"1001"}, "sig": {signature.SignOrder("guess", "1001")}}.Encode(), wantStatus: 403},
		{name: "an unknown order", query: orderQuery(linkToken, "9999"), wantStatus: 404},
		{name: "no link token", query: url.Values{"order": {"1001"}, "sig": {signature.SignOrder(signingSecret, "1001")}}.Encode(), wantStatus: 400},
		{name: "a malformed link token", query: orderQuery("<script>", "1001"), wantStatus: 400},
		{name: "both an order and a customer", query: orderQuery(linkToken, "1001") + "&customer=c-1", wantStatus: 400},
		{name: "no signature", query: "linkToken=" + linkToken + "&order=1001", wantStatus: 400},
		// The thank-you signature never expires and travels in a URL: it
		// cannot move a customer's LINE messages to whoever holds it.
		{name: "an order's signature a day after the order", query: orderQuery(linkToken, "old"), wantStatus: 403},
		{name: "an order's signature for a customer already linked", query: orderQuery(linkToken, "linked"), wantStatus: 409},
		{name: "the shop's signature for a customer already linked", query: customerQuery(linkToken, "c-linked"), wantStatus: 302, wantCustomer: "c-linked"},
		// One secret, one purpose: the thank-you signature of an order
		// whose id spells a LINE link ("line-link:<token>:<customer>", a
		// valid order id) is no customer signature, and the customer
		// signature is no thank-you signature.
		{name: "an order's thank-you signature as a customer signature", query: url.Values{"linkToken": {linkToken}, "customer": {"c-1"},
			"sig": {signature.SignOrder(signingSecret, "line-link:"+linkToken+":c-1")}}.Encode(), wantStatus: 403},
		{name: "a customer signature as an order's signature", query: url.Values{"linkToken": {linkToken}, "order": {"1001"},
			"sig": {signature.SignLineLink(signingSecret, linkToken, "1001")}}.Encode(), wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.placeOrder(t, "1001", "c-1")
			f.placeOrderAt(t, "old", "c-2", now.Add(-OrderLinkWindow-time.Minute))
			f.placeOrder(t, "linked", "c-linked")
			f.linked(t, "c-linked", otherUser, now.Add(-time.Hour))
			resp := f.handle(t, events.APIGatewayV2HTTPRequest{RouteKey: linkRoute, RawPath: "/line/link", RawQueryString: tt.query})
			if resp.StatusCode != tt.wantStatus || resp.Headers["Cache-Control"] != "no-store" {
				t.Fatalf("answer %d (%v), want %d: %s", resp.StatusCode, resp.Headers, tt.wantStatus, resp.Body)
			}
			if tt.wantStatus != 302 {
				if !strings.Contains(resp.Body, "<h1>") {
					t.Errorf("the customer should see a page: %s", resp.Body)
				}
				return
			}
			loc, _ := url.Parse(resp.Headers["Location"])
			nonce := loc.Query().Get("nonce")
			if loc.Query().Get("linkToken") != linkToken || len(nonce) < 10 || len(nonce) > 255 {
				t.Fatalf("Location = %s", loc)
			}
			got, err := f.st.SpendLinkNonce(context.Background(), nonce, user, now.Add(time.Minute))
			if err != nil || got.CustomerID != tt.wantCustomer || got.FirstLinkOnly != tt.wantFirstLinkOnly {
				t.Errorf("the nonce names %q, first link only %v (%v), want %s, %v", got.CustomerID, got.FirstLinkOnly, err, tt.wantCustomer, tt.wantFirstLinkOnly)
			}
		})
	}
}

func TestPostback(t *testing.T) {
	postback := func(id, data string, u string) ev {
		return userEvent("postback", id, now.Add(2*time.Hour), u).with("postback", map[string]any{"data": data})
	}
	tests := []struct {
		name          string
		event         ev
		wantReachable bool
		wantReplies   int
	}{
		{name: "opt-in resumes LINE after an unfollow", event: postback("p1", "action=optin", user), wantReachable: true, wantReplies: 1},
		{name: "an unknown action", event: postback("p1", "action=dance", user), wantReachable: false},
		{name: "data that is not a query", event: postback("p1", "%%%", user), wantReachable: false},
		{name: "opt-in by an unknown user", event: postback("p1", "action=optin", otherUser), wantReachable: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.linked(t, "c-1", user, now)
			answer(t, f.deliver(t, userEvent("unfollow", "u1", now.Add(time.Hour), user)))
			answer(t, f.deliver(t, tt.event))
			if got := f.profile(t, "c-1").Reachable("line"); got != tt.wantReachable {
				t.Errorf("LINE reachable = %v, want %v", got, tt.wantReachable)
			}
			replies := f.line.Requests(lineapi.ReplyPath)
			if len(replies) != tt.wantReplies {
				t.Fatalf("%d replies, want %d", len(replies), tt.wantReplies)
			}
			if tt.wantReplies > 0 {
				golden.Check(t, "reply-optin.json", indent(t, replies[0].Body))
			}
		})
	}
}

func TestBadInputIsAcknowledged(t *testing.T) {
	unfollow := userEvent("unfollow", "u1", now, user)
	tests := []struct {
		name string
		body []byte
		// wantProcessed counts events recorded as done (with no effect).
		wantProcessed int
	}{
		{name: "malformed JSON", body: []byte(`{"destination":"` + botUser + `","events":[{"type":`)},
		{name: "events is not a list", body: []byte(`{"destination":"` + botUser + `","events":{}}`)},
		{name: "an unknown event type", body: bodyOf(t, userEvent("message", "m1", now, user).with("message", map[string]any{"type": "text", "id": "1", "text": "こんにちは"}))},
		{name: "a group's event", body: bodyOf(t, unfollow.with("source", map[string]any{"type": "group", "groupId": "C4af4980629", "userId": user}))},
		{name: "a malformed event", body: bodyOf(t, unfollow.with("timestamp", "yesterday"))},
		{name: "no webhookEventId", body: bodyOf(t, unfollow.with("webhookEventId", ""))},
		{name: "a malformed user id", body: bodyOf(t, unfollow.with("source", map[string]any{"type": "user", "userId": "c-1"}))},
		{name: "an event of an unknown user", body: bodyOf(t, userEvent("unfollow", "u2", now, otherUser)), wantProcessed: 1},
		{name: "LINE's webhook verification", body: bodyOf(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.linked(t, "c-1", user, now.Add(-time.Hour))
			resp := f.handle(t, webhookRequest(tt.body, sign(channelSecret, tt.body)))
			if a := answer(t, resp); a.Processed != tt.wantProcessed {
				t.Errorf("answer %+v, want %d processed", a, tt.wantProcessed)
			}
			if !f.profile(t, "c-1").Reachable("line") || len(f.line.Requests(lineapi.ReplyPath)) != 0 {
				t.Error("bad input changed something")
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	f := setup(t)
	body := bytes.Repeat([]byte(" "), 256<<10+1)
	if resp := f.handle(t, webhookRequest(body, sign(channelSecret, body))); resp.StatusCode != 413 {
		t.Errorf("answer %d, want 413", resp.StatusCode)
	}
}

func TestUnavailableStoreAsksLINEToRedeliver(t *testing.T) {
	f := setup(t)
	f.h.Store = store.New(testenv.DynamoDB(), "no-such-table")
	if resp := f.deliver(t, userEvent("unfollow", "u1", now, user)); resp.StatusCode != 503 {
		t.Errorf("answer %d, want 503", resp.StatusCode)
	}
}

func TestDryRunWithoutAToken(t *testing.T) {
	f := setup(t)
	var out bytes.Buffer
	f.h.LINE = line.NewDryRun(&out)
	answer(t, f.deliver(t, userEvent("follow", "f1", now, user).with("follow", map[string]any{"isUnblocked": false})))
	if !strings.Contains(out.String(), `"line_dry_run":"link_token"`) || !strings.Contains(out.String(), `"line_dry_run":"reply"`) ||
		!strings.Contains(out.String(), "linkToken=dryrun") {
		t.Errorf("dry run output:\n%s", out.String())
	}
	if strings.Contains(out.String(), user[1:]) {
		t.Errorf("the dry run shows the LINE user id:\n%s", out.String())
	}
	if n := len(f.line.Requests(lineapi.ReplyPath)); n != 0 {
		t.Errorf("%d requests reached LINE", n)
	}
}

// TestSampleBodies keeps events/bodies/line-*.json valid: LINE's SDK reads
// every event, and the handler acknowledges each body signed with the
// local channel secret.
func TestSampleBodies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "events", "bodies", "line-*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("%d LINE sample bodies (%v)", len(files), err)
	}
	f := setup(t)
	f.h.ChannelSecret = signature.Keys{"dev-secret"}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var cb webhook.CallbackRequest
			if err := json.Unmarshal(body, &cb); err != nil || len(cb.Events) == 0 {
				t.Fatalf("the SDK cannot read it: %v", err)
			}
			for _, e := range cb.Events {
				if _, unknown := e.(webhook.UnknownEvent); unknown {
					t.Errorf("an event of unknown type %q", e.GetType())
				}
			}
			if resp := f.handle(t, webhookRequest(body, sign("dev-secret", body))); resp.StatusCode != 200 {
				t.Errorf("answer %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestValidLoginURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{url: "https://tsubaki-chaen.example.jp/account/line-link", want: true},
		{url: "http://127.0.0.1:4000/line-link", want: true},
		{url: "http://localhost:4000/line-link", want: true},
		{url: "http://tsubaki-chaen.example.jp/account/line-link", want: false},
		{url: "/account/line-link", want: false},
		{url: "javascript:alert(1)", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := validLoginURL(tt.url); got != tt.want {
				t.Errorf("validLoginURL = %v, want %v", got, tt.want)
			}
		})
	}
}
