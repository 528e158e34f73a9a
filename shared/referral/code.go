// Package referral runs the referral programme (紹介, the referral:
// section of rules/loyalty.yaml): every customer who has ordered has a
// code derived from their id, a friend's order carrying an advocate's
// code is recorded with the outcome of the fraud checks and its reason,
// and a referral that passes is rewarded once its order passes the
// return window (Approve), never twice.
package referral

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// alphabet is Crockford's base32, as coupon codes use: no I, L, O or U to
// misread.
var alphabet = base32.NewEncoding(crockford).WithPadding(base32.NoPadding)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeChars is how many characters of the keyed hash a code carries: 50
// bits, so two customers of a shop with a million customers share a code
// with a chance of about 1 in 2,000 (and such a code then refers no one).
const codeChars = 10

// codePrefix starts every referral code, telling it from coupon codes
// (TSN-) and the shop's own discount codes.
const codePrefix = "REF"

// Coder derives referral codes and the marks a friend is compared by,
// with one secret (the coupon secret: it keys every code the shop hands
// out). Marks keep an email address, phone number, address or LINE user
// only as a keyed hash.
type Coder struct{ codeKey, markKey []byte }

// NewCoder returns a Coder keyed by secret.
func NewCoder(secret string) (*Coder, error) {
	if secret == "" {
		return nil, errors.New("new referral coder: empty secret")
	}
	return &Coder{codeKey: []byte("tsunagu referral code\x00" + secret), markKey: []byte("tsunagu referral mark\x00" + secret)}, nil
}

// Code returns a customer's referral code: "REF-" and 10 characters in
// two groups of five, the same every time for the same customer.
func (c *Coder) Code(customerID string) string {
	m := hmac.New(sha256.New, c.codeKey)
	m.Write([]byte(customerID))
	s := alphabet.EncodeToString(m.Sum(nil))[:codeChars]
	return codePrefix + "-" + s[:5] + "-" + s[5:]
}

// Normalize turns what a customer typed or a link carried into the
// stored form of a referral code ("REF-XXXXX-XXXXX"): upper case, spaces
// and hyphens dropped and put back where they belong, O read as 0 and I
// or L as 1. It returns "" for anything that is not a referral code.
func Normalize(s string) string {
	s = strings.ToUpper(norm.NFKC.String(strings.TrimSpace(s)))
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(s) != len(codePrefix)+codeChars || !strings.HasPrefix(s, codePrefix) {
		return ""
	}
	body := strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s[len(codePrefix):])
	if strings.IndexFunc(body, func(r rune) bool { return !strings.ContainsRune(crockford, r) }) >= 0 {
		return ""
	}
	return codePrefix + "-" + body[:5] + "-" + body[5:]
}

// CodeIn returns the referral code an order carries: its referral_code
// (or landing-site ?ref=), else the first of its discount codes shaped
// like one; "" for none.
func CodeIn(o order.Order) string {
	for _, raw := range append([]string{o.ReferralCode}, o.CouponCodes...) {
		if c := Normalize(raw); c != "" {
			return c
		}
	}
	return ""
}

// Mark kinds: what a mark was made from. A friend sharing a mark of one
// of these kinds with the advocate is refused with the matching reason.
const (
	MarkEmail    = "email"
	MarkPhone    = "phone"
	MarkAddress  = "address"
	MarkLineUser = "line"
)

// Mark returns the keyed hash a value of a kind is compared by, after
// normalisation ("kind:hex"), or "" for an empty value.
func (c *Coder) Mark(kind, value string) string {
	switch kind {
	case MarkEmail:
		value = NormalizeEmail(value)
	case MarkPhone:
		value = NormalizePhone(value)
	case MarkAddress:
		value = NormalizeAddress(value)
	}
	if value == "" {
		return ""
	}
	m := hmac.New(sha256.New, c.markKey)
	m.Write([]byte(kind + "\x00" + value))
	return kind + ":" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Contact is what a customer is recognised by: the addresses and numbers
// an order or a profile names.
type Contact struct {
	Email, Phone, Address, LineUserID string
}

// Marks returns the marks of a contact, without empty ones.
func (c *Coder) Marks(ct Contact) []string {
	var out []string
	for _, kv := range [][2]string{{MarkEmail, ct.Email}, {MarkPhone, ct.Phone}, {MarkAddress, ct.Address}, {MarkLineUser, ct.LineUserID}} {
		if m := c.Mark(kv[0], kv[1]); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// NormalizeEmail lower-cases and trims an address and drops what does not
// make it another mailbox: a +tag of the local part, and the dots of a
// Gmail local part.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return s
	}
	local, _, _ = strings.Cut(local, "+")
	if domain == "gmail.com" || domain == "googlemail.com" {
		local, domain = strings.ReplaceAll(local, ".", ""), "gmail.com"
	}
	return local + "@" + domain
}

// NormalizePhone keeps a number's digits (full-width ones too) and writes
// a Japanese number the domestic way: +81 or 0081 becomes the leading 0.
func NormalizePhone(s string) string {
	s = norm.NFKC.String(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(s, "+81") && len(d) > 2:
		d = "0" + strings.TrimPrefix(d[2:], "0")
	case strings.HasPrefix(d, "0081"):
		d = "0" + strings.TrimPrefix(d[4:], "0")
	}
	return d
}

// NormalizeAddress folds an address to compare it: NFKC (full-width
// letters, digits and spaces become ASCII), lower case, every dash-like
// character a hyphen, and no whitespace at all.
func NormalizeAddress(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = strings.Map(func(r rune) rune {
		switch r {
		case 'ー', '‐', '‑', '‒', '–', '—', '―', '−', '－':
			return '-'
		case ' ', '\t', '\n', '\r', '\u3000':
			return -1
		}
		return r
	}, s)
	return s
}
