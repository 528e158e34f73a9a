// Package order holds the normalised order model that every shop integration
// decodes into, and the decoder for tsunagu's generic order webhook.
package order

import (
	"time"
)

// EventType names what happened to an order.
type EventType string

// The order lifecycle events tsunagu understands, in lifecycle order.
const (
	Created   EventType = "order.created"
	Fulfilled EventType = "order.fulfilled"
	Delivered EventType = "order.delivered"
	Cancelled EventType = "order.cancelled"
)

// Rank orders the lifecycle: a status only ever moves to a higher rank, which
// is what lets out-of-order deliveries converge. Cancelled outranks everything.
func (t EventType) Rank() int {
	switch t {
	case Created:
		return 1
	case Fulfilled:
		return 2
	case Delivered:
		return 3
	case Cancelled:
		return 4
	}
	return 0
}

// Valid reports whether t is one of the four known event types.
func (t EventType) Valid() bool { return t.Rank() > 0 }

// Event is one delivery from a shop: something happened to an order.
type Event struct {
	// DeliveryID de-duplicates deliveries; it is unique per Source.
	DeliveryID string
	// Source names the integration that delivered the event ("generic", "shopify").
	Source     string
	Type       EventType
	OccurredAt time.Time
	Order      Order
}

// Order is the normalised order. Events after order.created may carry only
// the ID; HasDetails tells whether the rest was sent.
type Order struct {
	ID          string
	Currency    string
	Total       int64 // integer minor units of Currency
	PlacedAt    time.Time
	Customer    *Customer
	Items       []Item
	CouponCodes []string
}

// HasDetails reports whether the order carries its contents (customer and
// items), as order.created always does and later events may.
func (o Order) HasDetails() bool { return o.Customer != nil && len(o.Items) > 0 }

// Customer is the buyer as the shop knows them.
type Customer struct {
	ID         string
	Email      string
	Name       string
	LineUserID string
	// Birthday is "MM-DD", or "" when unknown.
	Birthday string
	Consent  Consent
}

// ConsentState is what a customer said about marketing messages.
type ConsentState string

// Consent states. Unknown means the delivery said nothing, which never
// overwrites a stored answer.
const (
	ConsentUnknown ConsentState = ""
	ConsentGranted ConsentState = "granted"
	ConsentDenied  ConsentState = "denied"
)

// Consent records a marketing consent answer with its evidence: where and
// when it was given.
type Consent struct {
	State  ConsentState
	Source string
	At     time.Time
	// Standing is true when the payload gives the shop's record as it
	// stands rather than a dated act of the customer (no consent time was
	// sent; At is then when the event occurred). A standing grant never
	// undoes an unsubscribe made through tsunagu: the shop's flag may
	// simply not know of it yet.
	Standing bool
}

// Item is one order line. Category and Brand may be empty; the catalog fills
// them by SKU when it knows the product.
type Item struct {
	SKU       string
	Name      string
	Category  string
	Brand     string
	UnitPrice int64 // integer minor units of the order currency
	Quantity  int
}

// Subtotal is the line amount in minor units.
func (i Item) Subtotal() int64 { return i.UnitPrice * int64(i.Quantity) }

// MaxLines is how many lines one order may carry. Shopify allows 500
// active lines on an order (order edits may leave removed lines beside
// them); twice that is beyond anything a shop's admin produces, and keeps
// one order well inside DynamoDB's item and request limits.
const MaxLines = 1000

// CheckLines refuses an order over MaxLines lines, naming field (the
// payload's name for the lines).
func (o Order) CheckLines(field string) error {
	if n := len(o.Items); n > MaxLines {
		bad := &InvalidError{}
		bad.Add(field, "an order may carry at most %d lines, this one has %d", MaxLines, n)
		return bad
	}
	return nil
}
