package seal

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestSealOpen: a token opens to what was sealed, always the same for the
// same content, and with no bit of it changed; keys of another purpose or
// secret do not open it; during a rotation ("NEW OLD") tokens of the old
// key still open, and a token from before key ids opens with the key that
// sealed it.
func TestSealOpen(t *testing.T) {
	keys, err := New("test", "dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("email\x00c-1")
	tok := keys.Seal(plain)
	if tok != keys.Seal(plain) || strings.Contains(tok, "c-1") {
		t.Fatalf("token %q: not stable, or reveals its content", tok)
	}
	if got, err := keys.Open(tok); err != nil || string(got) != string(plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	kid, sealed, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(raw) * 8 {
		changed := append([]byte(nil), raw...)
		changed[i/8] ^= 1 << (i % 8)
		if _, err := keys.Open(kid + "." + base64.RawURLEncoding.EncodeToString(changed)); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bit %d changed: %v, want ErrInvalid", i, err)
		}
	}
	otherPurpose, _ := New("another purpose", "dev-secret")
	otherSecret, _ := New("test", "other-secret")
	rotating, _ := New("test", "new-secret", "dev-secret")
	tests := []struct {
		name  string
		keys  Keys
		token string
		opens bool
	}{
		{"another purpose", otherPurpose, tok, false},
		{"another secret", otherSecret, tok, false},
		{"the old key during a rotation", rotating, tok, true},
		{"from before key ids", rotating, sealed, true},
		{"naming the new key, sealed with the old", rotating, strings.SplitN(rotating.Seal(plain), ".", 2)[0] + "." + sealed, false},
		{"with a line break", keys, tok[:10] + "\n" + tok[10:], false},
		{"empty", keys, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.keys.Open(tt.token)
			if opened := err == nil; opened != tt.opens || opened && string(got) != string(plain) || !opened && !errors.Is(err, ErrInvalid) {
				t.Errorf("Open = %q, %v; want opened %v", got, err, tt.opens)
			}
		})
	}
	if _, err := New("test"); err == nil {
		t.Error("New without a secret: no error")
	}
	if _, err := New("test", "dev-secret", ""); err == nil {
		t.Error("New with an empty secret: no error")
	}
}
