// Package signature signs and verifies the HMAC signatures that protect
// tsunagu's inbound webhooks and signed links.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a signed timestamp may be from now, either way.
const Tolerance = 5 * time.Minute

// Errors a verification can return. All of them mean 401 to the caller.
var (
	ErrMissing   = errors.New("signature missing")
	ErrMalformed = errors.New("signature malformed")
	ErrStale     = errors.New("signature timestamp outside tolerance")
	ErrMismatch  = errors.New("signature mismatch")
)

// SignTsunagu returns the X-Tsunagu-Signature header value for body signed at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func SignTsunagu(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(tsunaguMAC(secret, ts, body))
}

// VerifyTsunagu checks an X-Tsunagu-Signature header against body and now.
// Several v1 entries are allowed, so a shop can sign with an old and a new
// secret while rotating.
func VerifyTsunagu(secret, header string, body []byte, now time.Time) error {
	if strings.TrimSpace(header) == "" {
		return ErrMissing
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return ErrMalformed
			}
			sigs = append(sigs, sig)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: signed %s ago", ErrStale, d.Round(time.Second))
	}
	want := tsunaguMAC(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrMismatch
}

func tsunaguMAC(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignShopify returns the X-Shopify-Hmac-Sha256 header value for body: the
// base64 HMAC-SHA256 of the raw body with the app's client secret.
func SignShopify(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(Sum(secret, body))
}

// VerifyShopify checks an X-Shopify-Hmac-Sha256 header against the raw body.
func VerifyShopify(secret, header string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return ErrMissing
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil || len(sig) != sha256.Size {
		return ErrMalformed
	}
	if !hmac.Equal(sig, Sum(secret, body)) {
		return ErrMismatch
	}
	return nil
}

// SignJudgeme returns the JUDGEME-HMAC-SHA256 header value Judge.me sends
// with a webhook: the hex HMAC-SHA256 of the raw body, keyed with the
// secret of the OAuth app that created the webhook (or the shop's private
// API token, for a webhook created with it).
func SignJudgeme(secret string, body []byte) string {
	return hex.EncodeToString(Sum(secret, body))
}

// VerifyJudgeme checks a JUDGEME-HMAC-SHA256 header against the raw body
// (hex digits in either case; surrounding spaces ignored).
func VerifyJudgeme(secret, header string, body []byte) error {
	h := strings.TrimSpace(header)
	if h == "" {
		return ErrMissing
	}
	sig, err := hex.DecodeString(h)
	if err != nil || len(sig) != sha256.Size {
		return ErrMalformed
	}
	if !hmac.Equal(sig, Sum(secret, body)) {
		return ErrMismatch
	}
	return nil
}

// Sum returns HMAC-SHA256(secret, data).
func Sum(secret string, data []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(data)
	return m.Sum(nil)
}

// SignOrder returns the thank-you page signature of an order id: hex
// HMAC-SHA256(secret, orderID). The shop's page computes the same.
func SignOrder(secret, orderID string) string {
	return hex.EncodeToString(Sum(secret, []byte(orderID)))
}

// VerifyOrder checks a thank-you page signature.
func VerifyOrder(secret, orderID, sig string) error {
	if sig == "" {
		return ErrMissing
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return ErrMalformed
	}
	if !hmac.Equal(got, Sum(secret, []byte(orderID))) {
		return ErrMismatch
	}
	return nil
}

// Keys are one secret's keys: the current one first, then the earlier ones
// still accepted while the secret rotates. Signing uses the current key;
// a signature made with any of them verifies, so what was signed before a
// rotation keeps working through it. No keys verify nothing.
type Keys []string

// Current is the key that signs ("" when there is none).
func (k Keys) Current() string {
	if len(k) == 0 {
		return ""
	}
	return k[0]
}

// verify returns nil when check passes with one of the keys; otherwise
// the current key's error (the errors other than ErrMismatch depend on
// the request alone), or ErrMismatch when there are no keys.
func (k Keys) verify(check func(secret string) error) error {
	err := ErrMismatch
	for i, secret := range k {
		e := check(secret)
		if e == nil {
			return nil
		}
		if i == 0 {
			err = e
		}
	}
	return err
}

// VerifyTsunagu is VerifyTsunagu with any of the keys.
func (k Keys) VerifyTsunagu(header string, body []byte, now time.Time) error {
	return k.verify(func(secret string) error { return VerifyTsunagu(secret, header, body, now) })
}

// VerifyShopify is VerifyShopify with any of the keys.
func (k Keys) VerifyShopify(header string, body []byte) error {
	return k.verify(func(secret string) error { return VerifyShopify(secret, header, body) })
}

// VerifyJudgeme is VerifyJudgeme with any of the keys.
func (k Keys) VerifyJudgeme(header string, body []byte) error {
	return k.verify(func(secret string) error { return VerifyJudgeme(secret, header, body) })
}

// VerifyOrder is VerifyOrder with any of the keys.
func (k Keys) VerifyOrder(orderID, sig string) error {
	return k.verify(func(secret string) error { return VerifyOrder(secret, orderID, sig) })
}

// VerifyLineLink is VerifyLineLink with any of the keys.
func (k Keys) VerifyLineLink(linkToken, customerID, sig string) error {
	return k.verify(func(secret string) error { return VerifyLineLink(secret, linkToken, customerID, sig) })
}

// Valid reports whether valid holds for one of the keys: for checks made
// by a vendor's library, such as LINE's X-Line-Signature.
func (k Keys) Valid(valid func(secret string) bool) bool {
	return k.verify(func(secret string) error {
		if valid(secret) {
			return nil
		}
		return ErrMismatch
	}) == nil
}

// lineLinkPurpose starts the message of a LINE account-link signature. The
// line breaks keep it apart from every order id a thank-you signature is
// checked for (no order id the routes accept holds one), so one secret
// signs both without either verifying the other's messages.
const lineLinkPurpose = "tsunagu-line-link\n"

// SignLineLink returns the shop's signed word that the customer with this
// id asked to link LINE with this link token (GET /line/link): hex
// HMAC-SHA256(secret, "tsunagu-line-link\n<linkToken>\n<customerID>").
// Bound to the link token, it cannot be reused for another LINE user.
func SignLineLink(secret, linkToken, customerID string) string {
	return hex.EncodeToString(Sum(secret, []byte(lineLinkPurpose+linkToken+"\n"+customerID)))
}

// VerifyLineLink checks a LINE account-link signature.
func VerifyLineLink(secret, linkToken, customerID, sig string) error {
	if sig == "" {
		return ErrMissing
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return ErrMalformed
	}
	if !hmac.Equal(got, Sum(secret, []byte(lineLinkPurpose+linkToken+"\n"+customerID))) {
		return ErrMismatch
	}
	return nil
}
