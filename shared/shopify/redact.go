package shopify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// GuestCustomerID is the customer id tsunagu gives a guest checkout: the
// address is the only identity, hashed so the id carries no personal data.
func GuestCustomerID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "guest-" + hex.EncodeToString(sum[:12])
}
