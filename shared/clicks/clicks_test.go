package clicks

import (
	"strings"
	"testing"
	"time"
)

var sent = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

func message() Message {
	return Message{Key: "0123456789abcdef0123456789abcdef", CampaignID: "second-purchase-nudge", Variant: "b", CustomerID: "c-1", SentAt: sent}
}

// token is the token of a tracked link: what follows the route prefix.
func token(t *testing.T, link string) string {
	t.Helper()
	_, tok, ok := strings.Cut(link, RoutePrefix)
	if !ok {
		t.Fatalf("%s is not a tracked link", link)
	}
	return tok
}

// TestLinkRoundTrip: a link opens to what was sealed and reveals none of
// it (package seal checks that no bit can change); a tampered or cut link
// and another key's are refused; during a rotation ("NEW OLD") links sealed with
// the old key still open.
func TestLinkRoundTrip(t *testing.T) {
	s, err := NewSealer("https://hooks.example.jp/", "dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	l := Link{Message: message(), Index: 3, URL: "https://tsubaki-chaen.example.jp/collections/tea?utm_source=tsunagu&x=%E8%8C%B6"}
	u := s.URL(l)
	if !strings.HasPrefix(u, "https://hooks.example.jp/r/") {
		t.Fatalf("URL = %s", u)
	}
	tok := token(t, u)
	for _, secret := range []string{"c-1", "second-purchase-nudge", "tsubaki", "collections"} {
		if strings.Contains(tok, secret) {
			t.Errorf("the token reveals %q", secret)
		}
	}
	if got, err := s.Open(tok); err != nil || got != l {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, l)
	}
	kid, sealed, _ := strings.Cut(tok, ".")
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	other, _ := NewSealer("https://hooks.example.jp", "another-secret")
	rotating, _ := NewSealer("https://hooks.example.jp", "new-secret", "dev-secret")
	tests := []struct {
		name  string
		s     *Sealer
		token string
		opens bool
	}{
		{"another key", other, tok, false},
		{"sealed with the old key, opened during a rotation", rotating, tok, true},
		{"cut short", s, tok[:len(tok)-4], false},
		{"tampered", s, kid + "." + string(tampered), false},
		{"without its key id", s, sealed, false},
		{"empty", s, "", false},
		{"not base64", s, kid + ".%%%", false},
		{"an unsubscribe-like token with the right key id", s, kid + "." + sealed[:20], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Open(tt.token)
			if opened := err == nil; opened != tt.opens || opened && got != l {
				t.Errorf("Open = %+v, %v; want opened %v", got, err, tt.opens)
			}
		})
	}
}

// TestTracker: the http(s) links of a message become tracked links,
// numbered by distinct target in the order first met; mailto:, tel:,
// relative links and the API's own links (unsubscribe) stay direct.
func TestTracker(t *testing.T) {
	s, _ := NewSealer("https://hooks.example.jp", "dev-secret")
	track := s.Tracker(message())
	tests := []struct {
		raw   string
		index int // -1: stays as it is
	}{
		{"https://tsubaki-chaen.example.jp", 0},
		{"https://tsubaki-chaen.example.jp/collections/tea", 1},
		{"https://tsubaki-chaen.example.jp", 0},
		{"HTTP://tsubaki-chaen.example.jp/products/SWEET-YOKAN", 2},
		{"mailto:info@tsubaki-chaen.example.jp", -1},
		{"tel:075-000-0000", -1},
		{"/collections/tea", -1},
		{"javascript:alert(1)", -1},
		{"https://hooks.example.jp/unsubscribe?token=abc", -1},
		{"https://hooks.example.jp", -1},
		{"https://hooks.example.jp.evil.example/x", 3},
	}
	for _, tt := range tests {
		got := track(tt.raw)
		if tt.index < 0 {
			if got != tt.raw {
				t.Errorf("%s became %s, want it direct", tt.raw, got)
			}
			continue
		}
		l, err := s.Open(token(t, got))
		if err != nil || l.URL != tt.raw || l.Index != tt.index || l.Message != message() {
			t.Errorf("%s: link %+v, %v; want index %d", tt.raw, l, err, tt.index)
		}
	}
}

func TestCounted(t *testing.T) {
	const browser = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	tests := []struct {
		name    string
		method  string
		agent   string
		after   time.Duration
		counted bool
		reason  string
	}{
		{name: "a person", method: "GET", agent: browser, after: 5 * time.Second, counted: true},
		{name: "HEAD", method: "HEAD", agent: browser, after: time.Hour, reason: "head"},
		{name: "Office link check on delivery", method: "GET", agent: "Microsoft Office Existence Discovery", after: 3 * time.Second, reason: "scanner"},
		{name: "Barracuda on delivery", method: "GET", agent: "Mozilla/5.0 Barracuda Link Protection", after: 40 * time.Second, reason: "scanner"},
		{name: "Proofpoint on delivery", method: "GET", agent: "Proofpoint URL Defense", after: time.Second, reason: "scanner"},
		{name: "Gmail's image proxy", method: "GET", agent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", after: 10 * time.Second, reason: "scanner"},
		{name: "no user agent", method: "GET", agent: "", after: time.Second, reason: "scanner"},
		{name: "a robot", method: "GET", agent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", after: time.Second, reason: "scanner"},
		{name: "a scanner's check when a person clicks, hours later", method: "GET", agent: "Proofpoint URL Defense", after: 3 * time.Hour, counted: true},
		{name: "a CUBOT phone", method: "GET", agent: "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", after: time.Second, counted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counted, reason := Counted(tt.method, tt.agent, sent, sent.Add(tt.after))
			if counted != tt.counted || reason != tt.reason {
				t.Errorf("Counted = %v %q, want %v %q", counted, reason, tt.counted, tt.reason)
			}
		})
	}
}
