package unsubscribe

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzOpen checks unsubscribe tokens. An arbitrary token never panics and
// is refused with ErrInvalid unless it carries the key's seal; a token made
// with Token opens to its customer and channel, and not with any one bit
// of its sealed bytes changed, nor with another key, nor as an opt-in
// confirmation.
func FuzzOpen(f *testing.F) {
	s, err := NewSealer("dev-secret")
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewSealer("other-secret")
	if err != nil {
		f.Fatal(err)
	}
	for _, tok := range []string{s.Token("c-1", "email"), s.Token("c-1", "line"), "", "%%%", "abc", s.Token("c-1", "email") + "A", s.Token("", "email")} {
		f.Add(tok, "c-1", false)
	}
	f.Add("", "guest-9e5ec5b3b7d5c1ee8e2bd5a4\x00email", true)
	f.Fuzz(func(t *testing.T, token, customerID string, line bool) {
		if r, err := s.Open(token); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(%q) = %v, want ErrInvalid", token, err)
			}
		} else if _, sealed, _ := strings.Cut(token, "."); !strings.HasSuffix(s.RecipientToken(r), "."+sealed) {
			t.Fatalf("Open(%q) accepted a token RecipientToken(%+v) did not make", token, r)
		}

		channel := "email"
		if line {
			channel = "line"
		}
		tok := s.Token(customerID, channel)
		r, err := s.Open(tok)
		if err != nil || r != (Recipient{CustomerID: customerID, Channel: channel}) {
			t.Fatalf("Open(Token(%q, %q)) = %+v, %v", customerID, channel, r, err)
		}
		msg := Recipient{CustomerID: customerID, Channel: channel, MessageKey: "k-1", CampaignID: "nudge", Variant: "b"}
		if r, err := s.Open(s.RecipientToken(msg)); err != nil || r != msg {
			t.Fatalf("Open(RecipientToken(%+v)) = %+v, %v", msg, r, err)
		}
		if _, err := other.Open(tok); !errors.Is(err, ErrInvalid) {
			t.Fatalf("another key opened the token: %v", err)
		}
		if _, err := s.OpenConfirmation(tok); !errors.Is(err, ErrInvalid) {
			t.Fatalf("an unsubscribe token opened as a confirmation: %v", err)
		}
		kid, sealed, _ := strings.Cut(tok, ".")
		raw, err := base64.RawURLEncoding.DecodeString(sealed)
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(raw) * 8 {
			changed := append([]byte(nil), raw...)
			changed[i/8] ^= 1 << (i % 8)
			if _, err := s.Open(kid + "." + base64.RawURLEncoding.EncodeToString(changed)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("token with bit %d changed: %v, want ErrInvalid", i, err)
			}
		}
	})
}
