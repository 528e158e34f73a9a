// Package unsubscribe seals one-click unsubscribe tokens (RFC 8058). A token
// names a customer and a channel, is authenticated so it cannot be forged,
// and is encrypted so it reveals nothing, not even the customer id.
package unsubscribe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// ErrInvalid means a token was not made with this key, or was altered.
var ErrInvalid = errors.New("unsubscribe token invalid")

// Sealer makes and opens tokens with one secret.
type Sealer struct {
	aead     cipher.AEAD
	nonceKey []byte
}

// NewSealer derives the token keys from a secret.
func NewSealer(secret string) (*Sealer, error) {
	if secret == "" {
		return nil, errors.New("new unsubscribe sealer: empty secret")
	}
	encKey := sha256.Sum256([]byte("tsunagu unsubscribe encryption\x00" + secret))
	nonceKey := sha256.Sum256([]byte("tsunagu unsubscribe nonce\x00" + secret))
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, nonceKey: nonceKey[:]}, nil
}

// Token seals customerID and channel. The nonce is derived from the content
// (a synthetic IV), so the same customer and channel always give the same
// token: links stay stable across emails, and golden files stay golden.
func (s *Sealer) Token(customerID, channel string) string {
	plain := []byte(channel + "\x00" + customerID)
	m := hmac.New(sha256.New, s.nonceKey)
	m.Write(plain)
	nonce := m.Sum(nil)[:s.aead.NonceSize()]
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil))
}

// Open returns the customer and channel a token was sealed for.
func (s *Sealer) Open(token string) (customerID, channel string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	// The decoder skips line breaks; a token is only ever the exact string
	// Token made, so one that re-encodes differently is not a token.
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != token || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return "", "", ErrInvalid
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", "", ErrInvalid
	}
	channel, customerID, ok := strings.Cut(string(plain), "\x00")
	if !ok {
		return "", "", ErrInvalid
	}
	return customerID, channel, nil
}

// URL is the unsubscribe link for a customer and channel under baseURL
// (the public base URL of the HTTP API).
func (s *Sealer) URL(baseURL, customerID, channel string) string {
	return strings.TrimRight(baseURL, "/") + "/unsubscribe?token=" + url.QueryEscape(s.Token(customerID, channel))
}
