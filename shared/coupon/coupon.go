// Package coupon makes coupon codes: unguessable without the shop's secret,
// unique per (campaign, trigger, customer), and the same every time for the
// same three, so issuing is idempotent without a lookup.
package coupon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
)

// alphabet is Crockford's base32: no I, L, O or U to misread or misspell.
var alphabet = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// Coder derives codes with one secret.
type Coder struct{ key []byte }

// NewCoder returns a Coder keyed by secret.
func NewCoder(secret string) (*Coder, error) {
	if secret == "" {
		return nil, errors.New("new coupon coder: empty secret")
	}
	return &Coder{key: []byte("tsunagu coupon\x00" + secret)}, nil
}

// Code returns the code for a campaign's coupon for one trigger occurrence
// and customer: "TSN-" and 12 characters (60 bits) in groups of four.
func (c *Coder) Code(campaignID, triggerKey, customerID string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(campaignID + "\x00" + triggerKey + "\x00" + customerID))
	s := alphabet.EncodeToString(m.Sum(nil))[:12]
	return "TSN-" + s[:4] + "-" + s[4:8] + "-" + s[8:12]
}

// Normalize turns what a customer typed into the stored form: upper case,
// without spaces, with the hyphens where they belong.
func Normalize(code string) string {
	s := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(s) != 15 || !strings.HasPrefix(s, "TSN") {
		return strings.ToUpper(strings.TrimSpace(code))
	}
	return "TSN-" + s[3:7] + "-" + s[7:11] + "-" + s[11:15]
}
