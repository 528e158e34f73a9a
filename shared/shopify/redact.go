package shopify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// LegacyGuestCustomerID is the customer id versions before keyed
// pseudonyms (PSEUDONYM_SECRET) gave a guest checkout: an unkeyed hash of
// the address. New guests get pseudonym.Keyer.GuestCustomerID; a guest's
// compliance request also reaches what is still kept under this one.
func LegacyGuestCustomerID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "guest-" + hex.EncodeToString(sum[:12])
}
