package signature

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifyTsunagu(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	body := []byte(`{"id":"evt-1"}`)
	good := SignTsunagu("dev-secret", now, body)
	_, oldV1, _ := strings.Cut(SignTsunagu("old-secret", now, body), ",")
	rotating := good + "," + oldV1 // t=...,v1=<new>,v1=<old>
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{name: "valid", secret: "dev-secret", header: good, body: body, now: now},
		{name: "valid within tolerance", secret: "dev-secret", header: good, body: body, now: now.Add(4 * time.Minute)},
		{name: "rotation: new secret matches", secret: "dev-secret", header: rotating, body: body, now: now},
		{name: "rotation: old secret matches", secret: "old-secret", header: rotating, body: body, now: now},
		{name: "missing", secret: "dev-secret", header: "", body: body, now: now, want: ErrMissing},
		{name: "no v1", secret: "dev-secret", header: "t=1763685000", body: body, now: now, want: ErrMalformed},
		{name: "garbage", secret: "dev-secret", header: "hello", body: body, now: now, want: ErrMalformed},
		{name: "non-hex v1", secret: "dev-secret", header: "t=1763685000,v1=zz", body: body, now: now, want: ErrMalformed},
		{name: "stale", secret: "dev-secret", header: good, body: body, now: now.Add(6 * time.Minute), want: ErrStale},
		{name: "from the future", secret: "dev-secret", header: good, body: body, now: now.Add(-6 * time.Minute), want: ErrStale},
		{name: "wrong secret", secret: "other", header: good, body: body, now: now, want: ErrMismatch},
		{name: "tampered body", secret: "dev-secret", header: good, body: []byte(`{"id":"evt-2"}`), now: now, want: ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyTsunagu(tt.secret, tt.header, tt.body, tt.now)
			if !errors.Is(err, tt.want) {
				t.Errorf("VerifyTsunagu = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyShopify(t *testing.T) {
	body := []byte(`{"id":820982911946154508}`)
	good := SignShopify("shpss_secret", body)
	tests := []struct {
		name   string
		header string
		body   []byte
		want   error
	}{
		{name: "valid", header: good, body: body},
		{name: "missing", header: "", body: body, want: ErrMissing},
		{name: "not base64", header: "%%%", body: body, want: ErrMalformed},
		{name: "short", header: "AAAA", body: body, want: ErrMalformed},
		{name: "tampered", header: good, body: []byte(`{"id":1}`), want: ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyShopify("shpss_secret", tt.header, tt.body); !errors.Is(err, tt.want) {
				t.Errorf("VerifyShopify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOrderSignatures(t *testing.T) {
	sig := SignOrder("dev-secret", "1001")
	tests := []struct {
		name    string
		orderID string
		sig     string
		want    error
	}{
		{name: "valid", orderID: "1001", sig: sig},
		{name: "another order", orderID: "1002", sig: sig, want: ErrMismatch},
		{name: "missing", orderID: "1001", sig: "", want: ErrMissing},
		{name: "not hex", orderID: "1001", sig: "zz", want: ErrMalformed},
		{name: "truncated", orderID: "1001", sig: sig[:32], want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyOrder("dev-secret", tt.orderID, tt.sig); !errors.Is(err, tt.want) {
				t.Errorf("VerifyOrder = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKeys: while a secret rotates (its keys "new old"), what was signed
// with either key verifies; a key no longer listed verifies nothing.
func TestKeys(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	body := []byte(`{"id":"evt-1"}`)
	rotating, after, none := Keys{"new-secret", "old-secret"}, Keys{"new-secret"}, Keys{}
	tests := []struct {
		name   string
		verify func(Keys) error
		// byOld is signed with the old key.
		byOld bool
	}{
		{name: "tsunagu, new key", verify: func(k Keys) error { return k.VerifyTsunagu(SignTsunagu("new-secret", now, body), body, now) }},
		{name: "tsunagu, old key", byOld: true, verify: func(k Keys) error { return k.VerifyTsunagu(SignTsunagu("old-secret", now, body), body, now) }},
		{name: "shopify, old key", byOld: true, verify: func(k Keys) error { return k.VerifyShopify(SignShopify("old-secret", body), body) }},
		{name: "order, old key", byOld: true, verify: func(k Keys) error { return k.VerifyOrder("1001", SignOrder("old-secret", "1001")) }},
		{name: "line link, old key", byOld: true, verify: func(k Keys) error { return k.VerifyLineLink("tok", "c-1", SignLineLink("old-secret", "tok", "c-1")) }},
		{name: "vendor check, old key", byOld: true, verify: func(k Keys) error {
			if k.Valid(func(s string) bool { return s == "old-secret" }) {
				return nil
			}
			return ErrMismatch
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.verify(rotating); err != nil {
				t.Errorf("during the rotation: %v", err)
			}
			if err := tt.verify(after); (err == nil) == tt.byOld {
				t.Errorf("after the rotation: %v (signed with the old key: %v)", err, tt.byOld)
			}
			if err := tt.verify(none); !errors.Is(err, ErrMismatch) {
				t.Errorf("no keys: %v, want a mismatch", err)
			}
		})
	}
	if got := rotating.Current(); got != "new-secret" {
		t.Errorf("Current = %q", got)
	}
	if err := rotating.VerifyTsunagu(SignTsunagu("old-secret", now.Add(-time.Hour), body), body, now); !errors.Is(err, ErrStale) {
		t.Errorf("a stale signature: %v, want ErrStale", err)
	}
}

// TestLineLinkSignatures: the LINE link's customer signature and the
// thank-you order signature share THANKYOU_SIGNING_SECRET and never
// verify each other's messages, for any order id the routes accept (no
// line break).
func TestLineLinkSignatures(t *testing.T) {
	const secret, token = "dev-secret", "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"
	sig := SignLineLink(secret, token, "c-1")
	tests := []struct {
		name string
		got  error
		want error
	}{
		{name: "valid", got: VerifyLineLink(secret, token, "c-1", sig)},
		{name: "another link token", got: VerifyLineLink(secret, "OtherLinkToken0123456789", "c-1", sig), want: ErrMismatch},
		{name: "another customer", got: VerifyLineLink(secret, token, "c-2", sig), want: ErrMismatch},
		{name: "the thank-you signature of an order spelling the link", got: VerifyLineLink(secret, token, "c-1", SignOrder(secret, "line-link:"+token+":c-1")), want: ErrMismatch},
		{name: "the customer signature as an order's", got: VerifyOrder(secret, "line-link:"+token+":c-1", sig), want: ErrMismatch},
		{name: "not hex", got: VerifyLineLink(secret, token, "c-1", "zz"), want: ErrMalformed},
		{name: "missing", got: VerifyLineLink(secret, token, "c-1", ""), want: ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.got, tt.want) || tt.want == nil && tt.got != nil {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestVerifyJudgeme(t *testing.T) {
	body := []byte(`{"event":"review/created","review":{"id":465077653}}`)
	good := SignJudgeme("judgeme-app-secret", body)
	tests := []struct {
		name, header string
		want         error
	}{
		{"as Judge.me signs", good, nil},
		{"upper-case hex", strings.ToUpper(good), nil},
		{"with spaces", " " + good + "\n", nil},
		{"missing", "", ErrMissing},
		{"base64, as Shopify signs", SignShopify("judgeme-app-secret", body), ErrMalformed},
		{"short", good[:62], ErrMalformed},
		{"another secret", SignJudgeme("another-secret", body), ErrMismatch},
		{"another body", SignJudgeme("judgeme-app-secret", []byte(`{}`)), ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyJudgeme("judgeme-app-secret", tt.header, body); !errors.Is(err, tt.want) {
				t.Errorf("VerifyJudgeme = %v, want %v", err, tt.want)
			}
		})
	}
	if err := (Keys{"new-secret", "judgeme-app-secret"}).VerifyJudgeme(good, body); err != nil {
		t.Errorf("with the earlier key still listed: %v", err)
	}
	if err := (Keys{}).VerifyJudgeme(good, body); !errors.Is(err, ErrMismatch) {
		t.Errorf("without keys: %v", err)
	}
}
