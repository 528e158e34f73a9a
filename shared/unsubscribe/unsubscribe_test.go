package unsubscribe

import (
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	s, err := NewSealer("dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Token("c-1", "email")
	if strings.Contains(tok, "c-1") || strings.Contains(tok, "email") {
		t.Errorf("token %q reveals its content", tok)
	}
	if again := s.Token("c-1", "email"); again != tok {
		t.Error("tokens for the same customer and channel must be stable")
	}
	if s.Token("c-1", "line") == tok || s.Token("c-2", "email") == tok {
		t.Error("tokens must differ per customer and channel")
	}
	id, ch, err := s.Open(tok)
	if err != nil || id != "c-1" || ch != "email" {
		t.Errorf("Open = %q %q %v", id, ch, err)
	}
	other, _ := NewSealer("other-secret")
	tampered := []byte(tok)
	tampered[len(tampered)/2] ^= 1
	tests := []struct {
		name  string
		token string
	}{
		{name: "other key", token: other.Token("c-1", "email")},
		{name: "tampered", token: string(tampered)},
		{name: "garbage", token: "%%%"},
		{name: "short", token: "abc"},
		{name: "empty", token: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Open(tt.token); !errors.Is(err, ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
		})
	}
	if u := s.URL("https://hooks.example.jp/", "c-1", "email"); u != "https://hooks.example.jp/unsubscribe?token="+tok {
		t.Errorf("URL = %s", u)
	}
}
