package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// TestRedirectRefusesHostileInput sends /r/{token} forged, altered, cut,
// drowned and injected tokens, tokens of other purposes, and links sealed
// with our key whose target is not a web address: each answers 400 naming
// the token, with no Location; the right link asked with HEAD, or by a
// scanner on delivery, is redirected. None writes anything.
func TestRedirectRefusesHostileInput(t *testing.T) {
	s := newStack(t)
	links, _ := clicks.NewSealer(s.srv, secret)
	sent := time.Now().UTC().Truncate(time.Second)
	s.now = sent.Add(3 * time.Second)
	msg := clicks.Message{Key: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", CampaignID: "post-purchase-thanks", CustomerID: "c-1", SentAt: sent}
	token := func(l clicks.Link) string { return strings.TrimPrefix(links.URL(l), s.srv+clicks.RoutePrefix) }
	good := token(clicks.Link{Message: msg, URL: "https://tsubaki-chaen.example.jp/collections/sencha"})
	kid, sealed, _ := strings.Cut(good, ".")
	other, _ := clicks.NewSealer(s.srv, "another-secret")
	otherGood := strings.TrimPrefix(other.URL(clicks.Link{Message: msg, URL: "https://evil.example/"}), s.srv+clicks.RoutePrefix)
	unsub, _ := unsubscribe.NewSealer(secret)
	req := func(method, token, agent string) events.APIGatewayV2HTTPRequest {
		r := events.APIGatewayV2HTTPRequest{RouteKey: method + " /r/{token}", RawPath: "/r/" + token, PathParameters: map[string]string{"token": token},
			Headers: map[string]string{"user-agent": agent}}
		r.RequestContext.HTTP.Method = method
		return r
	}
	var rows []testenv.Refused
	bad := func(name, token string) {
		rows = append(rows, testenv.Refused{Name: name, Req: req("GET", token, browser), Status: 400}, testenv.Refused{Name: name + ", HEAD", Req: req("HEAD", token, browser), Status: 400})
	}
	for _, i := range []int{0, 1, 7, 8, 9, 20, len(sealed) / 2, len(sealed) - 2, len(sealed) - 1} {
		b := []byte(sealed)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		bad(fmt.Sprintf("character %d changed", i), kid+"."+string(b))
	}
	for _, n := range []int{0, 4, 8, 9, 30, len(good) - 1} {
		bad(fmt.Sprintf("cut to %d", n), good[:n])
	}
	for name, tok := range map[string]string{
		"another key's link":                     otherGood,
		"our key id on another key's link":       kid + "." + strings.SplitN(otherGood, ".", 2)[1],
		"without its key id":                     sealed,
		"two key ids":                            kid + "." + good,
		"an unsubscribe token":                   unsub.Token("c-1", "email"),
		"an opt-in confirmation token":           unsub.ConfirmationToken(unsubscribe.Confirmation{CustomerID: "c-1", OrderID: "1001", At: sent}),
		"standard base64":                        kid + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sealed),
		"padded":                                 good + "==",
		"a line break inside":                    good[:20] + "\n" + good[20:],
		"a space inside":                         good[:20] + " " + good[20:],
		"percent-encoded":                        strings.ReplaceAll(good, ".", "%2E"),
		"drowned (64 KiB)":                       strings.Repeat(good, 64<<10/len(good)+1),
		"path traversal":                         "../../unsubscribe",
		"a URL":                                  "https://evil.example/",
		"a scheme-relative URL":                  "//evil.example",
		"javascript":                             "javascript:alert(1)",
		"HTML":                                   `"><script>alert(1)</script>`,
		"SQL":                                    "' OR '1'='1",
		"a template":                             "{{.Shop.URL}}",
		"CRLF header injection":                  "x\r\nLocation: https://evil.example/",
		"not UTF-8":                              "\xff\xfe\xfd",
		"NUL":                                    "\x00",
		"fullwidth":                              "ｅｖｉｌ",
		"right-to-left override":                 "\u202egnp.exe",
		"the referral route's word":              "ref",
		"a sealed javascript: target":            token(clicks.Link{Message: msg, URL: "javascript:alert(1)"}),
		"a sealed data: target":                  token(clicks.Link{Message: msg, URL: "data:text/html,<script>alert(1)</script>"}),
		"a sealed scheme-relative target":        token(clicks.Link{Message: msg, URL: "//evil.example/"}),
		"a sealed relative target":               token(clicks.Link{Message: msg, URL: "/collections/sencha"}),
		"a sealed mailto: target":                token(clicks.Link{Message: msg, URL: "mailto:someone@example.jp"}),
		"a sealed empty target":                  token(clicks.Link{Message: msg}),
		"a sealed target with a CRLF":            token(clicks.Link{Message: msg, URL: "https://\r\nLocation: evil.example/"}),
		"a sealed target without a host":         token(clicks.Link{Message: msg, URL: "https:///x"}),
		"a sealed ftp: target":                   token(clicks.Link{Message: msg, URL: "ftp://evil.example/"}),
		"a sealed file: target":                  token(clicks.Link{Message: msg, URL: "file:///etc/passwd"}),
		"a sealed target with a space in scheme": token(clicks.Link{Message: msg, URL: " https://evil.example/"}),
	} {
		rows = append(rows, testenv.Refused{Name: name, Req: req("GET", tok, browser), Status: 400})
	}
	rows = append(rows,
		testenv.Refused{Name: "no path parameter", Req: events.APIGatewayV2HTTPRequest{RouteKey: "GET /r/{token}"}, Status: 400},
		// The right link, not counted: redirected, nothing written.
		testenv.Refused{Name: "the right link, HEAD", Req: req("HEAD", good, browser), Status: 302},
		testenv.Refused{Name: "the right link, a scanner on delivery", Req: req("GET", good, scanner), Status: 302},
		testenv.Refused{Name: "the right link, no user agent on delivery", Req: req("GET", good, ""), Status: 302},
	)
	check := func(resp events.APIGatewayV2HTTPResponse) error {
		loc := resp.Headers["Location"]
		switch {
		case resp.StatusCode == 302 && loc != "https://tsubaki-chaen.example.jp/collections/sencha":
			return fmt.Errorf("redirected to %q", loc)
		case resp.StatusCode == 400 && loc != "":
			return fmt.Errorf("a refused link redirects to %q", loc)
		case resp.StatusCode == 400 && !strings.Contains(resp.Body, `"field":"token"`):
			return errors.New("the answer does not name the token")
		case resp.StatusCode == 400:
			return testenv.JSONAnswer(resp)
		}
		return nil
	}
	testenv.ExpectNoEffect(t, s.store.Table(), s.h.Handle, rows, check, nil)
}
