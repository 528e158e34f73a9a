// Package unsubscribe seals the tokens of tsunagu's subscription links:
// one-click unsubscribe tokens (RFC 8058), which name a customer and a
// channel, and opt-in confirmation tokens (double opt-in). Tokens are
// authenticated, so they cannot be forged, and encrypted, so they reveal
// nothing, not even the customer id. Each carries the id of the key that
// sealed it, so a secret can rotate: the current key seals, and the earlier
// ones still open the links already sent.
package unsubscribe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid means a token was not made with one of the keys, or was
// altered.
var ErrInvalid = errors.New("unsubscribe token invalid")

// Sealer makes tokens with the current key and opens them with any key.
type Sealer struct {
	unsubscribe []sealKey // the current key first
	confirm     []sealKey
}

// sealKey is one key for one purpose.
type sealKey struct {
	id       string // base64url, 8 characters: what a token names its key by
	aead     cipher.AEAD
	nonceKey []byte
}

// keyIDSeparator ends a token's key id. It is not in the base64url
// alphabet, so a token without it is one sealed before tokens carried key
// ids; those are tried with every key.
const keyIDSeparator = "."

// NewSealer derives the token keys from a secret's keys (UNSUBSCRIBE_SECRET):
// the first seals, every one opens.
func NewSealer(secrets ...string) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("new unsubscribe sealer: no secret")
	}
	s := &Sealer{}
	for _, secret := range secrets {
		if secret == "" {
			return nil, errors.New("new unsubscribe sealer: empty secret")
		}
		u, err := deriveKey("unsubscribe", secret)
		if err != nil {
			return nil, err
		}
		c, err := deriveKey("opt-in confirmation", secret)
		if err != nil {
			return nil, err
		}
		s.unsubscribe, s.confirm = append(s.unsubscribe, u), append(s.confirm, c)
	}
	return s, nil
}

// deriveKey derives a purpose's encryption key, nonce key and key id from
// a secret, so that a token of one purpose never opens as another's.
func deriveKey(purpose, secret string) (sealKey, error) {
	encKey := sha256.Sum256([]byte("tsunagu " + purpose + " encryption\x00" + secret))
	nonceKey := sha256.Sum256([]byte("tsunagu " + purpose + " nonce\x00" + secret))
	id := sha256.Sum256([]byte("tsunagu " + purpose + " key id\x00" + secret))
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		return sealKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, err
	}
	return sealKey{id: base64.RawURLEncoding.EncodeToString(id[:6]), aead: aead, nonceKey: nonceKey[:]}, nil
}

// seal encrypts plain with the key. The nonce is derived from the content
// (a synthetic IV), so the same content always gives the same token.
func (k sealKey) seal(plain []byte) string {
	m := hmac.New(sha256.New, k.nonceKey)
	m.Write(plain)
	nonce := m.Sum(nil)[:k.aead.NonceSize()]
	return k.id + keyIDSeparator + base64.RawURLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, plain, nil))
}

// open decrypts a token sealed with one of keys: the one it names, or,
// for a token from before key ids, whichever opens it.
func open(keys []sealKey, token string) ([]byte, error) {
	id, sealed, named := strings.Cut(token, keyIDSeparator)
	if !named {
		sealed = token
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	// The decoder skips line breaks; a token is only ever the exact string
	// seal made, so one that re-encodes differently is not a token.
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != sealed {
		return nil, ErrInvalid
	}
	for _, k := range keys {
		if named && k.id != id {
			continue
		}
		n := k.aead.NonceSize()
		if len(raw) < n+k.aead.Overhead() {
			return nil, ErrInvalid
		}
		if plain, err := k.aead.Open(nil, raw[:n], raw[n:], nil); err == nil {
			return plain, nil
		}
	}
	return nil, ErrInvalid
}

// Token seals customerID and channel with the current key. The same
// customer and channel always give the same token while the key stays:
// links stay stable across emails, and golden files stay golden.
func (s *Sealer) Token(customerID, channel string) string {
	return s.unsubscribe[0].seal([]byte(channel + "\x00" + customerID))
}

// Open returns the customer and channel a token was sealed for, by any
// of the keys.
func (s *Sealer) Open(token string) (customerID, channel string, err error) {
	plain, err := open(s.unsubscribe, token)
	if err != nil {
		return "", "", err
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

// ConfirmationValidFor is how long an opt-in confirmation link works
// after the opt-in it confirms.
const ConfirmationValidFor = 7 * 24 * time.Hour

// Confirmation is an opt-in waiting for the customer to confirm it from
// the link emailed to them (double opt-in): who asked for marketing email,
// on which order's thank-you page, and when.
type Confirmation struct {
	CustomerID string
	OrderID    string
	At         time.Time
}

// ConfirmationToken seals a confirmation with the current key.
func (s *Sealer) ConfirmationToken(c Confirmation) string {
	return s.confirm[0].seal([]byte(strconv.FormatInt(c.At.Unix(), 10) + "\x00" + c.OrderID + "\x00" + c.CustomerID))
}

// OpenConfirmation returns the confirmation a token was sealed for, by
// any of the keys; whether it is still valid (ConfirmationValidFor) is the
// caller's to check.
func (s *Sealer) OpenConfirmation(token string) (Confirmation, error) {
	plain, err := open(s.confirm, token)
	if err != nil {
		return Confirmation{}, err
	}
	parts := strings.SplitN(string(plain), "\x00", 3)
	if len(parts) != 3 {
		return Confirmation{}, ErrInvalid
	}
	at, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return Confirmation{}, ErrInvalid
	}
	return Confirmation{At: time.Unix(at, 0).UTC(), OrderID: parts[1], CustomerID: parts[2]}, nil
}

// ConfirmationURL is the link of an opt-in confirmation email under
// baseURL (the public base URL of the HTTP API).
func (s *Sealer) ConfirmationURL(baseURL string, c Confirmation) string {
	return strings.TrimRight(baseURL, "/") + "/optin/confirm?token=" + url.QueryEscape(s.ConfirmationToken(c))
}
