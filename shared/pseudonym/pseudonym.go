// Package pseudonym derives the stable, keyed identifiers tsunagu keeps in
// place of personal data (a guest buyer's customer id, a suppressed
// address), so that the table alone cannot confirm an address: without the
// secret key, hashing a candidate address gives nothing to compare with.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Keyer computes pseudonyms under one secret key (PSEUDONYM_SECRET). The key
// must never change once data is stored under it: a new key gives every
// address a new pseudonym, so old suppressions and guest profiles would no
// longer be found.
type Keyer struct {
	key []byte
}

// New returns a Keyer for the secret.
func New(secret string) Keyer { return Keyer{key: []byte(secret)} }

// NormalizeAddress is the form of an email address that pseudonyms are
// computed from: surrounding space trimmed, lower case.
func NormalizeAddress(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// sum is the keyed hash of a purpose and a value; the purpose keeps the
// pseudonyms of one use from matching those of another.
func (k Keyer) sum(purpose, value string) []byte {
	mac := hmac.New(sha256.New, k.key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return mac.Sum(nil)
}

// GuestCustomerID is the customer id a guest checkout (no customer record,
// only an address) is kept under.
func (k Keyer) GuestCustomerID(email string) string {
	return "guest-" + hex.EncodeToString(k.sum("guest customer", NormalizeAddress(email))[:12])
}

// AddressHash is what a suppressed address is kept under.
func (k Keyer) AddressHash(email string) string {
	return hex.EncodeToString(k.sum("suppressed address", NormalizeAddress(email)))
}
