package main

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// refused is one request a LINE route must refuse, or acknowledge without
// any effect.
type refused struct {
	name   string
	req    events.APIGatewayV2HTTPRequest
	status int
}

// Hostile names the row for testenv.ExpectNoEffect.
func (r refused) Hostile() (string, events.APIGatewayV2HTTPRequest, int) {
	return r.name, r.req, r.status
}

// expectNoEffect runs each request against one seeded fixture: each has its
// status, writes nothing and calls LINE for nothing.
func expectNoEffect(t *testing.T, f fixture, tests []refused) {
	t.Helper()
	lineCalls := func(testing.TB) int {
		return len(f.line.Requests(lineapi.ReplyPath)) + len(f.line.Requests(lineapi.LinkTokenPath))
	}
	testenv.ExpectNoEffect(t, f.st.Table(), f.h.Handle, tests, nil, testenv.Effects{"calls to LINE": lineCalls})
}

// TestWebhookRefusesHostileInput sends POST /line/webhook forged,
// replayed and oversized requests (401, 413) and signed bodies tsunagu
// cannot use (200, acknowledged so LINE does not redeliver): nothing is
// stored and nothing is sent to LINE.
func TestWebhookRefusesHostileInput(t *testing.T) {
	f := setup(t)
	f.linked(t, "c-1", user, now.Add(-time.Hour))
	done := bodyOf(t, userEvent("unfollow", "01KAQ4BZ7C8D9E0F1G2H3J4K5N", now, user))
	if resp := f.handle(t, webhookRequest(done, sign(channelSecret, done))); resp.StatusCode != 200 {
		t.Fatalf("seed delivery = %d %s", resp.StatusCode, resp.Body)
	}
	follow := userEvent("follow", "01KAMV5S9T0E6X2F7G8H9J0K1M", now.Add(time.Hour), user)
	valid := bodyOf(t, follow)
	mac, _ := base64.StdEncoding.DecodeString(sign(channelSecret, valid))
	signed := func(body []byte) events.APIGatewayV2HTTPRequest {
		return webhookRequest(body, sign(channelSecret, body))
	}
	raw := func(s string) events.APIGatewayV2HTTPRequest { return signed([]byte(s)) }
	huge := []byte(`{"events":[],"pad":"` + strings.Repeat("x", 256<<10) + `"}`)
	tests := []refused{
		// Signatures: 401.
		{name: "no signature", req: webhookRequest(valid, ""), status: 401},
		{name: "blank signature", req: webhookRequest(valid, " "), status: 401},
		{name: "garbage signature", req: webhookRequest(valid, "hello"), status: 401},
		{name: "signature hex", req: webhookRequest(valid, hex.EncodeToString(mac)), status: 401},
		{name: "signature url-safe", req: webhookRequest(valid, base64.URLEncoding.EncodeToString(mac)+"-_"), status: 401},
		{name: "signature truncated", req: webhookRequest(valid, base64.StdEncoding.EncodeToString(mac[:31])), status: 401},
		{name: "signature of zeros", req: webhookRequest(valid, base64.StdEncoding.EncodeToString(make([]byte, 32))), status: 401},
		{name: "signature with another secret", req: webhookRequest(valid, sign("not-the-channel-secret", valid)), status: 401},
		{name: "signature with the signing secret", req: webhookRequest(valid, sign(signingSecret, valid)), status: 401},
		{name: "signature of another body", req: webhookRequest(valid, sign(channelSecret, done)), status: 401},
		{name: "signature of an empty body", req: webhookRequest(valid, sign(channelSecret, nil)), status: 401},
		{name: "body changed after signing", req: webhookRequest([]byte(strings.Replace(string(valid), `"follow"`, `"unfollow"`, 1)), sign(channelSecret, valid)), status: 401},
		{name: "base64 flag lying", req: func() events.APIGatewayV2HTTPRequest { r := signed(valid); r.IsBase64Encoded = true; return r }(), status: 401},
		{name: "base64 body, signature of the encoded text", req: base64Request(base64.StdEncoding.EncodeToString(valid), sign(channelSecret, []byte(base64.StdEncoding.EncodeToString(valid)))), status: 401},

		// Size: 413.
		{name: "over 256 KiB signed", req: signed(huge), status: 413},
		{name: "over 256 KiB unsigned", req: webhookRequest(huge, ""), status: 413},
	}
	// Signed, but nothing tsunagu can use: acknowledged, no effect.
	event := func(key string, v any) events.APIGatewayV2HTTPRequest { return signed(bodyOf(t, follow.with(key, v))) }
	for _, b := range []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
	}{
		{"empty body", raw("")},
		{"not json", raw("events=follow")},
		{"truncated json", raw(string(valid[:len(valid)/2]))},
		{"json array", raw("[" + string(valid) + "]")},
		{"json null", raw("null")},
		{"events an object", raw(`{"events":{"0":{}}}`)},
		{"events a string", raw(`{"events":"follow"}`)},
		{"events of nulls and numbers", raw(`{"events":[null,1,"x",[]]}`)},
		{"nested 20000 deep", raw(`{"events":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)},
		{"not utf-8", raw("{\"events\":[{\"type\":\"\xff\xfe\"}]}")},
		{"a message event", event("type", "message")},
		{"an unknown event type", event("type", "<script>alert(1)</script>")},
		{"type in another case", event("type", "FOLLOW")},
		{"type a number", event("type", 1)},
		{"a group's event", event("source", map[string]any{"type": "group", "groupId": "C4af4980629", "userId": user})},
		{"a room's event", event("source", map[string]any{"type": "room", "roomId": "R4af4980629", "userId": user})},
		{"no source", event("source", nil)},
		{"source a string", event("source", user)},
		{"user id uppercase hex", event("source", map[string]any{"type": "user", "userId": strings.ToUpper(user)})},
		{"user id too short", event("source", map[string]any{"type": "user", "userId": user[:32]})},
		{"user id too long", event("source", map[string]any{"type": "user", "userId": user + "0"})},
		{"user id sql", event("source", map[string]any{"type": "user", "userId": "U' OR '1'='1"})},
		{"user id a customer id", event("source", map[string]any{"type": "user", "userId": "c-1"})},
		{"user id with a newline", event("source", map[string]any{"type": "user", "userId": user + "\n"})},
		{"user id a number", event("source", map[string]any{"type": "user", "userId": 1})},
		{"no webhook event id", event("webhookEventId", "")},
		{"webhook event id null", event("webhookEventId", nil)},
		{"webhook event id an object", event("webhookEventId", map[string]any{"S": "x"})},
		{"timestamp a string", event("timestamp", "yesterday")},
		{"timestamp fractional", event("timestamp", 1.5)},
		{"delivery context a string", event("deliveryContext", "redelivery")},
		{"link a string", signed(bodyOf(t, accountLink("01KAMVB2W3X4Y5Z6A7B8C9D0E1", "n", now, user).with("link", "ok")))},
		{"postback data a number", signed(bodyOf(t, userEvent("postback", "01KAS8N1P2Q3R4S5T6V7W8X9Y1", now, user).with("postback", map[string]any{"data": 1})))},
		{"no events", signed(bodyOf(t))},
		{"replay of a done request", signed(done)},
	} {
		tests = append(tests, refused{name: b.name, req: b.req, status: 200})
	}
	expectNoEffect(t, f, tests)
}

// TestLinkRefusesHostileInput sends GET /line/link malformed, forged and
// mismatched link tokens, signatures, orders and customers: 400, 403 or
// 404, and no nonce is issued.
func TestLinkRefusesHostileInput(t *testing.T) {
	f := setup(t)
	f.placeOrder(t, "1001", "c-1")
	const linkToken = "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"
	get := func(query string) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{RouteKey: linkRoute, RawPath: "/line/link", RawQueryString: query}
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	orderSig := signature.SignOrder(signingSecret, "1001")
	custSig := signature.SignLineLink(signingSecret, linkToken, "c-1")
	var tests []refused
	for _, tok := range []struct{ name, token string }{
		{"empty", ""},
		{"short", "abc"},
		{"129 characters", strings.Repeat("a", 129)},
		{"script", "<script>alert(1)</script>"},
		{"traversal", "../../../etc/passwd"},
		{"sql", "x' OR '1'='1'--xx"},
		{"slash", "NMZTNuVrPTqlr2IF/8Bnymkb7rXfYv5EY"},
		{"plus", "NMZTNuVrPTqlr2IF+8Bnymkb7rXfYv5EY"},
		{"nul", linkToken + "\x00"},
		{"newline", linkToken + "\n"},
		{"fullwidth", "ＮＭＺＴＮｕＶｒＰＴｑｌｒ２"},
		{"url", "https://evil.example/x"},
	} {
		tests = append(tests,
			refused{name: "link token " + tok.name + ", order", req: get(q("linkToken", tok.token, "order", "1001", "sig", orderSig)), status: 400},
			refused{name: "link token " + tok.name + ", customer", req: get(q("linkToken", tok.token, "customer", "c-1", "sig", signature.SignLineLink(signingSecret, tok.token, "c-1"))), status: 400},
		)
	}
	tests = append(tests, []refused{
		{name: "no query", req: get(""), status: 400},
		{name: "link token only", req: get(q("linkToken", linkToken)), status: 400},
		{name: "link token twice", req: get(q("linkToken", linkToken, "linkToken", linkToken, "order", "1001", "sig", orderSig)), status: 400},
		{name: "no signature", req: get(q("linkToken", linkToken, "order", "1001")), status: 400},
		{name: "signature twice", req: get(q("linkToken", linkToken, "order", "1001", "sig", orderSig, "sig", orderSig)), status: 400},
		{name: "order and customer", req: get(q("linkToken", linkToken, "order", "1001", "customer", "c-1", "sig", orderSig)), status: 400},
		{name: "order twice", req: get(q("linkToken", linkToken, "order", "1001", "order", "1002", "sig", orderSig)), status: 400},
		{name: "neither order nor customer", req: get(q("linkToken", linkToken, "sig", orderSig)), status: 400},
		{name: "malformed percent", req: get("linkToken=" + linkToken + "&order=1001&sig=%zz"), status: 400},
		{name: "semicolon", req: get("linkToken=" + linkToken + ";order=1001&sig=" + orderSig), status: 400},
		{name: "query over 2 KiB", req: get(q("linkToken", linkToken, "order", "1001", "sig", orderSig, "pad", strings.Repeat("x", 2048))), status: 400},
		{name: "order signature of another order", req: get(q("linkToken", linkToken, "order", "1001", "sig", signature.SignOrder(signingSecret, "1002"))), status: 403},
		{name: "order signature forged", req: get(q("linkToken", linkToken, "order", "1001", "sig", signature.SignOrder("guess", "1001"))), status: 403},
		{name: "order signature empty", req: get(q("linkToken", linkToken, "order", "1001", "sig", "")), status: 403},
		{name: "order signature as the customer's", req: get(q("linkToken", linkToken, "order", "1001", "sig", custSig)), status: 403},
		{name: "order id traversal", req: get(q("linkToken", linkToken, "order", "../1001", "sig", signature.SignOrder(signingSecret, "../1001"))), status: 403},
		{name: "order id script", req: get(q("linkToken", linkToken, "order", "<script>", "sig", signature.SignOrder(signingSecret, "<script>"))), status: 403},
		{name: "order id empty", req: get(q("linkToken", linkToken, "order", "", "sig", signature.SignOrder(signingSecret, ""))), status: 403},
		{name: "order id over 200 characters", req: get(q("linkToken", linkToken, "order", strings.Repeat("1", 201), "sig", signature.SignOrder(signingSecret, strings.Repeat("1", 201)))), status: 403},
		{name: "unknown order", req: get(q("linkToken", linkToken, "order", "9999", "sig", signature.SignOrder(signingSecret, "9999"))), status: 404},
		{name: "customer signature of another link token", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", signature.SignLineLink(signingSecret, "OtherLinkToken0123456789", "c-1"))), status: 403},
		{name: "customer signature of another customer", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", signature.SignLineLink(signingSecret, linkToken, "c-2"))), status: 403},
		{name: "customer signature as the order's", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", orderSig)), status: 403},
		{name: "customer signature not hex", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", "zz"+custSig[2:])), status: 403},
		{name: "customer signature truncated", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", custSig[:62])), status: 403},
		{name: "customer signature base64", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", base64.StdEncoding.EncodeToString(signature.Sum(signingSecret, []byte("tsunagu-line-link\n"+linkToken+"\nc-1"))))), status: 403},
		{name: "customer id empty", req: get(q("linkToken", linkToken, "customer", "", "sig", signature.SignLineLink(signingSecret, linkToken, ""))), status: 403},
		{name: "customer id with nul", req: get(q("linkToken", linkToken, "customer", "c-1\x00", "sig", signature.SignLineLink(signingSecret, linkToken, "c-1\x00"))), status: 403},
		{name: "customer id with a newline", req: get(q("linkToken", linkToken, "customer", "c-1\nc-2", "sig", signature.SignLineLink(signingSecret, linkToken, "c-1\nc-2"))), status: 403},
		{name: "customer id over 200 characters", req: get(q("linkToken", linkToken, "customer", strings.Repeat("c", 201), "sig", signature.SignLineLink(signingSecret, linkToken, strings.Repeat("c", 201)))), status: 403},
		{name: "customer id not utf-8", req: get(q("linkToken", linkToken, "customer", "c-\xff", "sig", signature.SignLineLink(signingSecret, linkToken, "c-\xff"))), status: 403},
		{name: "customer signed with the channel secret", req: get(q("linkToken", linkToken, "customer", "c-1", "sig", signature.SignLineLink(channelSecret, linkToken, "c-1"))), status: 403},
	}...)
	expectNoEffect(t, f, tests)
}
