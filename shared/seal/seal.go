// Package seal makes tsunagu's sealed tokens: short strings that carry a
// small plaintext encrypted and authenticated (AES-256-GCM), so they can
// neither be read nor forged, and that name the key which sealed them, so
// a secret can rotate: the current key seals, and the earlier ones still
// open the tokens already handed out. Unsubscribe links and click
// redirects are made of them, each with keys derived for its own purpose,
// so that a token of one purpose never opens as another's.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid means a token was not made with one of the keys, or was
// altered.
var ErrInvalid = errors.New("token invalid")

// Keys seal with the current key and open with any of them.
type Keys struct {
	keys []key // the current key first
}

// key is one secret's key for one purpose.
type key struct {
	id       string // base64url, 8 characters: what a token names its key by
	aead     cipher.AEAD
	nonceKey []byte
}

// keyIDSeparator ends a token's key id. It is not in the base64url
// alphabet, so a token without it is one sealed before tokens carried key
// ids; those are tried with every key.
const keyIDSeparator = "."

// New derives the keys of one purpose from a secret's keys: the first
// seals, every one opens.
func New(purpose string, secrets ...string) (Keys, error) {
	if len(secrets) == 0 {
		return Keys{}, fmt.Errorf("new %s keys: no secret", purpose)
	}
	var ks Keys
	for _, secret := range secrets {
		if secret == "" {
			return Keys{}, fmt.Errorf("new %s keys: empty secret", purpose)
		}
		k, err := derive(purpose, secret)
		if err != nil {
			return Keys{}, fmt.Errorf("new %s keys: %w", purpose, err)
		}
		ks.keys = append(ks.keys, k)
	}
	return ks, nil
}

// derive derives a purpose's encryption key, nonce key and key id from a
// secret.
func derive(purpose, secret string) (key, error) {
	encKey := sha256.Sum256([]byte("tsunagu " + purpose + " encryption\x00" + secret))
	nonceKey := sha256.Sum256([]byte("tsunagu " + purpose + " nonce\x00" + secret))
	id := sha256.Sum256([]byte("tsunagu " + purpose + " key id\x00" + secret))
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	return key{id: base64.RawURLEncoding.EncodeToString(id[:6]), aead: aead, nonceKey: nonceKey[:]}, nil
}

// Seal encrypts plain with the current key into a URL-safe token. The
// nonce is derived from the content (a synthetic IV), so the same content
// always gives the same token.
func (ks Keys) Seal(plain []byte) string {
	k := ks.keys[0]
	m := hmac.New(sha256.New, k.nonceKey)
	m.Write(plain)
	nonce := m.Sum(nil)[:k.aead.NonceSize()]
	return k.id + keyIDSeparator + base64.RawURLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, plain, nil))
}

// Open decrypts a token sealed with one of the keys: the one it names, or,
// for a token from before key ids, whichever opens it. Anything else is
// ErrInvalid.
func (ks Keys) Open(token string) ([]byte, error) {
	id, sealed, named := strings.Cut(token, keyIDSeparator)
	if !named {
		sealed = token
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	// The decoder skips line breaks; a token is only ever the exact string
	// Seal made, so one that re-encodes differently is not a token.
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != sealed {
		return nil, ErrInvalid
	}
	for _, k := range ks.keys {
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
