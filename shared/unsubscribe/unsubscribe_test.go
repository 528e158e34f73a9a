package unsubscribe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
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
	if r, err := s.Open(tok); err != nil || r != (Recipient{CustomerID: "c-1", Channel: "email"}) {
		t.Errorf("Open = %+v %v", r, err)
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
			if _, err := s.Open(tt.token); !errors.Is(err, ErrInvalid) {
				t.Errorf("Open = %v, want ErrInvalid", err)
			}
		})
	}
	if u := s.URL("https://hooks.example.jp/", "c-1", "email"); u != "https://hooks.example.jp/unsubscribe?token="+tok {
		t.Errorf("URL = %s", u)
	}
}

// legacyToken seals as tokens were sealed before they carried a key id
// (the links in emails sent by earlier versions).
func legacyToken(t *testing.T, secret, customerID, channel string) string {
	t.Helper()
	encKey := sha256.Sum256([]byte("tsunagu unsubscribe encryption\x00" + secret))
	nonceKey := sha256.Sum256([]byte("tsunagu unsubscribe nonce\x00" + secret))
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(channel + "\x00" + customerID)
	m := hmac.New(sha256.New, nonceKey[:])
	m.Write(plain)
	nonce := m.Sum(nil)[:aead.NonceSize()]
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, nil))
}

// TestRotation: tokens carry the id of the key that sealed them; after a
// rotation (UNSUBSCRIBE_SECRET="new old") new tokens use the new key and
// every link already sent still opens, those from before key ids too;
// once the old key is dropped, its tokens no longer open.
func TestRotation(t *testing.T) {
	old, _ := NewSealer("old-secret")
	rotating, _ := NewSealer("new-secret", "old-secret")
	after, _ := NewSealer("new-secret")
	sent := old.Token("c-1", "email")
	fresh := rotating.Token("c-1", "email")
	kidOld, _, _ := strings.Cut(sent, ".")
	kidNew, _, _ := strings.Cut(fresh, ".")
	if kidOld == kidNew || len(kidOld) != 8 || fresh != after.Token("c-1", "email") {
		t.Fatalf("key ids %q and %q; a rotating sealer must seal with the new key", kidOld, kidNew)
	}
	tests := []struct {
		name   string
		sealer *Sealer
		token  string
		opens  bool
	}{
		{"sent before the rotation, opened during it", rotating, sent, true},
		{"sealed during the rotation", rotating, fresh, true},
		{"sealed during the rotation, opened after it", after, fresh, true},
		{"sent before the rotation, opened after the old key is dropped", after, sent, false},
		{"sent before key ids, opened with that key", old, legacyToken(t, "old-secret", "c-1", "email"), true},
		{"sent before key ids, opened during a rotation", rotating, legacyToken(t, "old-secret", "c-1", "email"), true},
		{"sent before key ids, opened after the old key is dropped", after, legacyToken(t, "old-secret", "c-1", "email"), false},
		{"naming the new key, sealed with the old", rotating, kidNew + strings.TrimPrefix(sent, kidOld), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.sealer.Open(tt.token)
			if opened := err == nil; opened != tt.opens || opened && r != (Recipient{CustomerID: "c-1", Channel: "email"}) {
				t.Errorf("Open = %+v, %v; want opened %v", r, err, tt.opens)
			}
		})
	}
}

func TestConfirmationTokens(t *testing.T) {
	s, _ := NewSealer("new-secret", "old-secret")
	old, _ := NewSealer("old-secret")
	c := Confirmation{CustomerID: "c-1", OrderID: "1001", At: time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)}
	tok := s.ConfirmationToken(c)
	if strings.Contains(tok, "c-1") || strings.Contains(tok, "1001") {
		t.Errorf("token %q reveals its content", tok)
	}
	tests := []struct {
		name  string
		token string
		want  Confirmation
		err   error
	}{
		{name: "sealed now", token: tok, want: c},
		{name: "sealed with the previous key", token: old.ConfirmationToken(c), want: c},
		{name: "an unsubscribe token", token: s.Token("c-1", "email"), err: ErrInvalid},
		{name: "garbage", token: "x.%%%", err: ErrInvalid},
		{name: "empty", token: "", err: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.OpenConfirmation(tt.token)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("OpenConfirmation = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
	if _, err := s.Open(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("a confirmation token opened as an unsubscribe token: %v", err)
	}
	if u := s.ConfirmationURL("https://hooks.example.jp/", c); u != "https://hooks.example.jp/optin/confirm?token="+tok {
		t.Errorf("ConfirmationURL = %s", u)
	}
}
