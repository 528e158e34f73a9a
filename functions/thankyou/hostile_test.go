package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// hostileIDs are order ids a visitor may put in the path: traversal,
// encodings, injections and lookalikes. The handler must refuse them
// before any read, whatever the signature.
var hostileIDs = []struct{ name, id string }{
	{"empty", ""},
	{"traversal", "../etc/passwd"},
	{"traversal to another order", "1001/../1002"},
	{"encoded traversal", "1001%2F..%2F1002"},
	{"nul", "1001\x00"},
	{"trailing space", "1001 "},
	{"leading space", " 1001"},
	{"newline", "1001\n"},
	{"crlf", "1001\r\nX-Evil: 1"},
	{"fullwidth digits", "１００１"},
	{"right-to-left override", "\u202e1001"},
	{"zero width", "10\u200b01"},
	{"sql", "1001' OR '1'='1"},
	{"sql comment", "1001;--"},
	{"script", "<script>alert(1)</script>"},
	{"shell", "$(id)"},
	{"query in the id", "1001?sig=x"},
	{"json", `{"$ne":null}`},
	{"over 200 characters", strings.Repeat("1", 201)},
	{"non-utf-8", "1001\xff"},
	{"percent-encoded script", "%3Cscript%3E"},
	{"backslash traversal", `..\..\windows\win.ini`},
	{"division slash", "1001\u22151002"},
	{"tab", "1001\t"},
	{"emoji", "🍵1001"},
}

// refused is one request a thank-you route must refuse, or answer without
// storing anything.
type refused struct {
	name   string
	req    events.APIGatewayV2HTTPRequest
	status int
}

// Hostile names the row for testenv.ExpectNoEffect.
func (r refused) Hostile() (string, events.APIGatewayV2HTTPRequest, int) {
	return r.name, r.req, r.status
}

// expectNothingStored runs each request against one seeded table: each has
// its status, writes nothing and sends the buyer nothing.
func expectNothingStored(t *testing.T, e *env, tests []refused) {
	t.Helper()
	testenv.ExpectNoEffect(t, e.table, e.h.Handle, tests, nil, testenv.Effects{"emails": testenv.EmailsTo(e.email)})
}

// TestViewRefusesHostileInput sends GET /thankyou/{orderId} hostile ids,
// forged and malformed signatures and queries: 400, 401 or 404, and no
// view, coupon or campaign is recorded.
func TestViewRefusesHostileInput(t *testing.T) {
	e := newEnv(t, nil, order.ConsentUnknown)
	good := signature.SignOrder(secret, "1001")
	var tests []refused
	for _, id := range hostileIDs {
		tests = append(tests,
			refused{name: "id " + id.name + ", signed", req: viewRequest(id.id, signed(id.id)), status: 400},
			refused{name: "id " + id.name + ", the real order's signature", req: viewRequest(id.id, signed("1001")), status: 400},
		)
	}
	tests = append(tests, []refused{
		{name: "key prefix in the id", req: viewRequest("ORDER#1001", signed("ORDER#1001")), status: 404},
		{name: "dot dot, signed", req: viewRequest("..", signed("..")), status: 404},
		{name: "dot dot, the real order's signature", req: viewRequest("..", signed("1001")), status: 401},
		{name: "unknown order, signed", req: viewRequest("9999", signed("9999")), status: 404},
		{name: "no query", req: viewRequest("1001", ""), status: 401},
		{name: "empty sig", req: viewRequest("1001", "sig="), status: 401},
		{name: "sig twice", req: viewRequest("1001", "sig="+good+"&sig="+good), status: 401},
		{name: "sig of another order", req: viewRequest("1001", signed("1002")), status: 401},
		{name: "sig truncated", req: viewRequest("1001", "sig="+good[:63]), status: 401},
		{name: "sig one byte longer", req: viewRequest("1001", "sig="+good+"00"), status: 401},
		{name: "sig not hex", req: viewRequest("1001", "sig="+strings.Repeat("zz", 32)), status: 401},
		{name: "sig of zeros", req: viewRequest("1001", "sig="+strings.Repeat("0", 64)), status: 401},
		{name: "sig with an empty secret", req: viewRequest("1001", "sig="+signature.SignOrder("", "1001")), status: 401},
		{name: "sig with another secret", req: viewRequest("1001", "sig="+signature.SignOrder("other-secret", "1001")), status: 401},
		{name: "sig base64", req: viewRequest("1001", "sig="+url.QueryEscape(base64.StdEncoding.EncodeToString(signature.Sum(secret, []byte("1001"))))), status: 401},
		{name: "sig with nul", req: viewRequest("1001", "sig="+good+"%00"), status: 401},
		{name: "sig as an array", req: viewRequest("1001", "sig[]="+good), status: 401},
		{name: "sig uppercase name", req: viewRequest("1001", "SIG="+good), status: 401},
		{name: "sig sql", req: viewRequest("1001", "sig="+url.QueryEscape("' OR '1'='1")), status: 401},
		{name: "malformed percent", req: viewRequest("1001", "sig=%zz"), status: 400},
		{name: "semicolon separator", req: viewRequest("1001", "sig="+good+";x=1"), status: 400},
		{name: "query over 1 KiB", req: viewRequest("1001", "sig="+good+"&pad="+strings.Repeat("x", 1024)), status: 400},
		{name: "a thousand repeated parameters", req: viewRequest("1001", strings.Repeat("a=1&", 1000)+"sig="+good), status: 400},
	}...)
	expectNothingStored(t, e, tests)
}

// TestOptinRefusesHostileInput sends POST /thankyou/{orderId}/optin bodies
// and signatures that must not record consent: 400, 401 or 404, and the
// profile is untouched.
func TestOptinRefusesHostileInput(t *testing.T) {
	e := newEnv(t, nil, order.ConsentUnknown)
	post := func(orderID, query, body string) events.APIGatewayV2HTTPRequest {
		req := viewRequest(orderID, query)
		req.RouteKey, req.Body = optinRoute, body
		req.Headers["content-type"] = "application/json"
		return req
	}
	ok := signed("1001")
	var tests []refused
	for _, id := range hostileIDs {
		tests = append(tests, refused{name: "id " + id.name, req: post(id.id, signed(id.id), `{"consent": true}`), status: 400})
	}
	for _, b := range []struct{ name, body string }{
		{"empty", ``},
		{"whitespace", " \n"},
		{"empty object", `{}`},
		{"consent false", `{"consent": false}`},
		{"consent a string", `{"consent": "true"}`},
		{"consent a number", `{"consent": 1}`},
		{"consent null", `{"consent": null}`},
		{"consent a list", `{"consent": [true]}`},
		{"consent an object", `{"consent": {"value": true}}`},
		{"a list of consents", `[{"consent": true}]`},
		{"bare true", `true`},
		{"form encoded", `consent=true`},
		{"an unknown field", `{"consent": true, "email": "x"}`},
		{"a second consent, false", `{"consent": true, "consent": false}`},
		{"over 1 KiB", `{"consent": true}` + strings.Repeat(" ", 1024)},
		{"not utf-8", "{\"consent\": true, \"x\": \"\xff\"}"},
		{"trailing garbage", `{"consent":true}garbage`},
		{"a second object", `{"consent":true}{"consent":true}`},
		{"nested", strings.Repeat(`{"consent":`, 1000) + "true" + strings.Repeat("}", 1000)},
		{"truncated", `{"consent": tr`},
		{"script", `<script>{"consent": true}</script>`},
	} {
		tests = append(tests, refused{name: "body " + b.name, req: post("1001", ok, b.body), status: 400})
	}
	tests = append(tests, []refused{
		{name: "base64 flag lying", req: func() events.APIGatewayV2HTTPRequest {
			r := post("1001", ok, `{"consent": true}`)
			r.IsBase64Encoded = true
			return r
		}(), status: 400},
		{name: "no signature", req: post("1001", "", `{"consent": true}`), status: 401},
		{name: "signature of another order", req: post("1001", signed("1002"), `{"consent": true}`), status: 401},
		{name: "signature in the body", req: post("1001", "", `{"consent": true, "sig": "`+signature.SignOrder(secret, "1001")+`"}`), status: 401},
		{name: "signature twice", req: post("1001", ok+"&"+ok, `{"consent": true}`), status: 401},
		{name: "forged signature", req: post("1001", "sig="+strings.Repeat("f", 64), `{"consent": true}`), status: 401},
		{name: "unknown order", req: post("9999", signed("9999"), `{"consent": true}`), status: 404},
		{name: "malformed query", req: post("1001", ok+"&%", `{"consent": true}`), status: 400},
		{name: "query over 1 KiB", req: post("1001", ok+"&pad="+strings.Repeat("y", 1100), `{"consent": true}`), status: 400},
	}...)
	expectNothingStored(t, e, tests)
	if p, err := e.store.GetProfile(context.Background(), "c-1"); err != nil || p.Consent.State == order.ConsentGranted {
		t.Errorf("consent after the hostile opt-ins = %+v, %v", p.Consent, err)
	}
}

// TestWidgetScriptIgnoresHostileInput sends GET /thankyou/widget.js with
// hostile queries, paths and headers: always the same script, nothing
// stored, no CORS beyond the public script's.
func TestWidgetScriptIgnoresHostileInput(t *testing.T) {
	e := newEnv(t, nil, order.ConsentUnknown)
	var tests []refused
	for i, id := range hostileIDs {
		req := events.APIGatewayV2HTTPRequest{RouteKey: widgetRoute, RawPath: "/thankyou/widget.js",
			RawQueryString: "order=" + url.QueryEscape(id.id) + "&sig=" + signature.SignOrder(secret, "1001") + "&v=" + fmt.Sprint(i),
			Headers:        map[string]string{"origin": "https://evil.example", "referer": id.id}}
		tests = append(tests, refused{name: "query " + id.name, req: req, status: 200})
		raw := req
		raw.RawQueryString = id.id
		tests = append(tests, refused{name: "raw query " + id.name, req: raw, status: 200})
	}
	for _, q := range []struct{ name, query string }{
		{"malformed percent", "%zz"},
		{"semicolons", "a=1;b=2"},
		{"a thousand repeated parameters", strings.Repeat("v=1&", 1000)},
		{"8 KiB query", "x=" + strings.Repeat("x", 8<<10)},
		{"callback injection", "callback=alert(1)//"},
		{"script in the query", "<script>alert(1)</script>"},
		{"order signed", signed("1001")},
	} {
		tests = append(tests, refused{name: "query " + q.name, req: events.APIGatewayV2HTTPRequest{RouteKey: widgetRoute, RawPath: "/thankyou/widget.js", RawQueryString: q.query}, status: 200})
	}
	expectNothingStored(t, e, tests)
	for _, tt := range tests {
		resp, err := e.h.Handle(context.Background(), tt.req)
		if err != nil || resp.Body != string(e.h.Widget) || resp.Headers["Access-Control-Allow-Origin"] != "*" {
			t.Errorf("%s: widget answer %d %q %v, %v", tt.name, resp.StatusCode, resp.Body, resp.Headers, err)
		}
	}
}
