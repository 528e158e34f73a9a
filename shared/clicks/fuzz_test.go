package clicks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzOpen checks click tokens. An arbitrary token never panics and is
// refused with ErrInvalid unless it is a link the sealer made; a link made
// from arbitrary fields opens to exactly those fields, and not with
// another key.
func FuzzOpen(f *testing.F) {
	s, err := NewSealer("https://hooks.example.jp", "dev-secret")
	if err != nil {
		f.Fatal(err)
	}
	other, err := NewSealer("https://hooks.example.jp", "other-secret")
	if err != nil {
		f.Fatal(err)
	}
	good := strings.TrimPrefix(s.URL(Link{Message: message(), Index: 2, URL: "https://tsubaki-chaen.example.jp/"}), "https://hooks.example.jp"+RoutePrefix)
	for _, tok := range []string{good, "", "%%%", "E5DeiZbI.", good + "A", good[:len(good)/2]} {
		f.Add(tok, "c-1", "https://tsubaki-chaen.example.jp/?q=\x00", uint16(3), int64(1796288877))
	}
	f.Fuzz(func(t *testing.T, token, customerID, target string, index uint16, sent int64) {
		if l, err := s.Open(token); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open(%q) = %v, want ErrInvalid", token, err)
			}
		} else if _, sealed, _ := strings.Cut(token, "."); !strings.HasSuffix(s.URL(l), "."+sealed) {
			t.Fatalf("Open(%q) accepted a token URL(%+v) did not make", token, l)
		}
		l := Link{Message: Message{Key: "k", CampaignID: "nudge", Variant: "b", CustomerID: customerID, SentAt: time.Unix(sent, 0).UTC()}, Index: int(index), URL: target}
		tok := strings.TrimPrefix(s.URL(l), "https://hooks.example.jp"+RoutePrefix)
		if got, err := s.Open(tok); err != nil || got != l {
			t.Fatalf("Open(URL(%+v)) = %+v, %v", l, got, err)
		}
		if _, err := other.Open(tok); !errors.Is(err, ErrInvalid) {
			t.Fatalf("another key opened the link: %v", err)
		}
	})
}
