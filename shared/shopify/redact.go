package shopify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// RedactTopic is the X-Shopify-Topic of Shopify's mandatory privacy
// webhook asking an app to erase a customer's data.
const RedactTopic = "customers/redact"

// GuestCustomerID is the customer id tsunagu gives a guest checkout: the
// address is the only identity, hashed so the id carries no personal data.
func GuestCustomerID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "guest-" + hex.EncodeToString(sum[:12])
}

// DecodeRedact validates a customers/redact webhook and returns the id
// tsunagu knows the customer by: Shopify's customer id, or for a guest the
// id derived from the address. Problems come back as one
// *order.InvalidError naming every bad header and field.
func DecodeRedact(topic string, body []byte) (customerID string, err error) {
	bad := &order.InvalidError{}
	switch topic {
	case "":
		bad.Add("X-Shopify-Topic", "header is required")
	case RedactTopic:
	default:
		bad.Add("X-Shopify-Topic", "topic %q is not handled here; this address takes %s", topic, RedactTopic)
	}
	if _, err := order.ParseJSONObject(body); err != nil {
		return "", err
	}
	var w struct {
		ShopDomain string `json:"shop_domain"`
		Customer   *struct {
			ID    json.Number `json:"id"`
			Email string      `json:"email"`
		} `json:"customer"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		bad.Add("body", "does not match Shopify's customers/redact payload: %v", err)
		return "", bad
	}
	switch c := w.Customer; {
	case c == nil:
		bad.Add("customer", "is required")
	case c.ID.String() != "":
		customerID = c.ID.String()
	case strings.TrimSpace(c.Email) != "":
		customerID = GuestCustomerID(c.Email)
	default:
		bad.Add("customer", "needs an id or, for a guest, an email")
	}
	if len(customerID) > maxID {
		bad.Add("customer.id", "must be at most %d characters", maxID)
	}
	if err := bad.OrNil(); err != nil {
		return "", err
	}
	return customerID, nil
}
