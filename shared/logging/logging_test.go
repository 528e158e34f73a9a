package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

func TestRedact(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Redact(slog.NewJSONHandler(&buf, nil))).With("to", "misaki@example.jp")
	log.Error("send to misaki@example.jp failed",
		"error", errors.New(`MessageRejected: Email address is not verified: "misaki@example.jp"`),
		"line", "U4af4980629f1b5d2b7f0b7b2e8b8c0d1",
		slog.Group("g", "addr", "a.b+c@shop.co.jp"),
		"count", 3)
	out := buf.String()
	for _, secret := range []string{"misaki@example.jp", "U4af4980629f1b5d2b7f0b7b2e8b8c0d1", "a.b+c@shop.co.jp"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line contains %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"count":3`) || !strings.Contains(out, "[email]") || !strings.Contains(out, "[line-user]") {
		t.Errorf("log line lost non-personal data: %s", out)
	}
}

// addressForms are the address forms that can reach tsunagu: what the
// generic order webhook's schema accepts (format "email": dot-atom or
// quoted local parts, host names, IPv4 and IPv6 literals; generic is set)
// and what Shopify sends unvalidated (besides those, Unicode local parts
// and IDN domains).
var addressForms = []struct {
	name    string
	address string
	generic bool // POST /webhooks/orders accepts it
}{
	{name: "plain", address: "misaki@example.jp", generic: true},
	{name: "dots, plus tag, subdomain", address: "a.b+c@shop.co.jp", generic: true},
	{name: "every atext character", address: "!#$%&'*+-/=?^_`{|}~@example.jp", generic: true},
	{name: "quoted local part", address: `"quoted local"@example.jp`, generic: true},
	{name: "quoted local part with an at sign", address: `"a@b"@example.jp`, generic: true},
	{name: "quoted local part, Japanese", address: `"美咲 高橋"@example.jp`, generic: true},
	{name: "unicode local part, IDN domain", address: "美咲@例え.jp"},
	{name: "unicode local part, ascii domain", address: "misaki.高橋@example.jp"},
	{name: "ascii local part, IDN domain", address: "misaki@例え.jp"},
	{name: "IDN domain in punycode", address: "misaki@xn--r8jz45g.jp", generic: true},
	{name: "IDN top-level domain", address: "misaki@例え.みんな"},
	{name: "IPv4 literal", address: "user@[192.0.2.1]", generic: true},
	{name: "IPv6 literal", address: "user@[IPv6:2001:db8::1]", generic: true},
	{name: "bare IPv4 domain", address: "user@192.0.2.1", generic: true},
	{name: "dotless domain", address: "user@localhost", generic: true},
	{name: "top-level domain with a digit", address: "user@example.com3", generic: true},
	{name: "upper case", address: "MISAKI@EXAMPLE.JP", generic: true},
}

// TestAddressFormsTheWebhookAccepts keeps addressForms true to the order
// webhook's schema: each form marked generic passes it, each other one is
// refused there and can only come from Shopify.
func TestAddressFormsTheWebhookAccepts(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "order", "testdata", "created.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range addressForms {
		t.Run(f.name, func(t *testing.T) {
			body := strings.Replace(string(sample), `"misaki@example.jp"`, mustJSON(f.address), 1)
			_, err := order.DecodeGeneric([]byte(body))
			if accepted := err == nil; accepted != f.generic {
				t.Errorf("the order webhook accepts it: %v (%v), want %v", accepted, err, f.generic)
			}
		})
	}
}

func TestMaskAddressForms(t *testing.T) {
	// Where an address can sit in a log line, as written by the handlers
	// (%s marks the address; JSON escapes it first).
	contexts := []struct {
		name   string
		format string
		json   bool // the address is JSON-escaped in place
		want   string
	}{
		{name: "alone", format: "%s", want: "[email]"},
		{name: "in a sentence", format: "send to %s failed", want: "send to [email] failed"},
		{name: "before a full stop", format: "wrote to %s.", want: "wrote to [email]."},
		{name: "between Japanese words", format: "宛先 %s に送信", want: "宛先 [email] に送信"},
		{name: "in angle brackets", format: "高橋 美咲 <%s>", want: "高橋 美咲 <[email]>"},
		{name: "inside a JSON string", format: `{"email":"%s","n":1}`, json: true, want: `{"email":"[email]","n":1}`},
		{name: "inside a JSON string inside an error", format: `decode body {"customer":{"email":"%s"}}: bad`, json: true, want: `decode body {"customer":{"email":"[email]"}}: bad`},
		{name: "as a key's quoted value", format: `to="%s"`, json: true, want: `to="[email]"`},
	}
	for _, f := range addressForms {
		for _, c := range contexts {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				addr := f.address
				if c.json {
					b, _ := json.Marshal(addr)
					addr = string(b[1 : len(b)-1])
				}
				in := strings.ReplaceAll(c.format, "%s", addr)
				if got := Mask(in); got != c.want {
					t.Errorf("Mask(%q) = %q, want %q", in, got, c.want)
				}
			})
		}
	}
}

func TestMaskEscapedForms(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "unicode escapes (json.Marshal of ASCII-only writers, %+q)", in: `{"email":"\u7f8e\u54b2@\u4f8b\u3048.jp"}`, want: `{"email":"[email]"}`},
		{name: "go-quoted quoted local part", in: `error="MessageRejected: \"quoted local\"@example.jp"`, want: `error="MessageRejected: [email]"`},
		{name: "key=value of a text handler (= is a local-part character: the key goes too)", in: `msg=sent to=misaki@example.jp n=1`, want: `msg=sent [email] n=1`},
		{name: "two addresses", in: "a@example.jp, b@example.jp", want: "[email], [email]"},
		{name: "two addresses back to back", in: "a@example.jp@b.example.jp", want: "[email]@b.example.jp"},
		{name: "an unbalanced opening quote (the schema library accepts it)", in: `"abc@example.jp`, want: `"[email]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestMaskLeavesNonAddresses keeps what only looks like an address: the
// redactor must not hide the module versions and npm packages test runs
// print (make logcheck would fail on them).
func TestMaskLeavesNonAddresses(t *testing.T) {
	for _, s := range []string{
		"/root/go/pkg/mod/go.yaml.in/yaml/v3@v3.0.4/scannerc.go:558",
		"golang.org/x/exp@v0.0.0-20240506185415-9bf2ced13842/slices.go:12",
		// Also what the schema accepts as a domain but no mail system
		// delivers to: digits only, not an IPv4 address (user@1.2.3).
		"dynalite@4.0.0 aws-ses-v2-local@2.10.2",
		"playwright-core@1.48.0-beta.1 golang.org/toolchain@v0.0.1-go1.23.4.linux-amd64",
		"npm install @types/node",
		"retry @ 5s",
		"@ alone",
		"trailing@",
		"a@@example.jp",
		"user@[not an address]",
		`{"version":"0","id":"e-1"}`,
	} {
		if got := Mask(s); got != s {
			t.Errorf("Mask(%q) = %q, want it unchanged", s, got)
		}
	}
}

// TestRedactAddressForms logs every address form as an attribute value, an
// error, a group member and the message, through a JSON handler.
func TestRedactAddressForms(t *testing.T) {
	for _, f := range addressForms {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(Redact(slog.NewJSONHandler(&buf, nil))).With("to", f.address)
			log.Error("send to "+f.address+" failed",
				"error", fmt.Errorf("decode body %s: bad", mustJSON(map[string]any{"email": f.address})),
				"recipients", []string{f.address},
				"raw", json.RawMessage(mustJSON(map[string]string{"email": f.address})),
				slog.Group("g", "addr", f.address))
			out := buf.String()
			var decoded map[string]any
			if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
				t.Fatalf("not one JSON line: %v: %s", err, out)
			}
			if strings.Contains(out, "@") || strings.Count(out, "[email]") != 6 {
				t.Errorf("log line = %s, want every address masked", out)
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestMaskLongLines keeps Mask linear: a log line can quote a whole
// request body. (A domain search that started over at each dot took 13 s
// on the 40 KB line below.)
func TestMaskLongLines(t *testing.T) {
	tests := []struct {
		name string
		line string
	}{
		{name: "one long dotted run", line: "x@" + strings.Repeat("1.", 20000)},
		{name: "a long local part", line: strings.Repeat("a.", 20000) + "@" + strings.Repeat("1.", 20000)},
		{name: "many at signs", line: strings.Repeat("a@b.", 10000)},
		{name: "many quotes", line: strings.Repeat(`"@`, 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			Mask(tt.line)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Mask of a %d-byte line took %v", len(tt.line), d)
			}
		})
	}
}
