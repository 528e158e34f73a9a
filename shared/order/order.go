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

// Events that change an order without moving it along its lifecycle.
// Neither triggers campaigns; the rules cannot name them.
const (
	// Updated carries the order as it now stands (Shopify's orders/updated
	// and orders/paid): an edit's new lines and total.
	Updated EventType = "order.updated"
	// Refunded carries a refund of the order (Shopify's refunds/create).
	Refunded EventType = "order.refunded"
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

// Valid reports whether t is one of the four lifecycle event types.
func (t EventType) Valid() bool { return t.Rank() > 0 }

// Status is the lifecycle status an event of type t gives an order the
// store has not seen yet: an update tells that the order exists (created);
// a refund alone tells nothing of its status ("").
func (t EventType) Status() EventType {
	switch t {
	case Updated:
		return Created
	case Refunded:
		return ""
	}
	return t
}

// TestKind tells a delivery about a test from one about a real order.
type TestKind string

// Test kinds. A test notification is a sample body a shop's admin sends to
// check the endpoint (Shopify's "Send test notification"): nothing in it
// is real. A test order is a real order placed through a test payment
// gateway (Shopify's test: true, as a development store makes).
const (
	NotTest          TestKind = ""
	TestOrder        TestKind = "test_order"
	TestNotification TestKind = "test_notification"
)

// Event is one delivery from a shop: something happened to an order.
type Event struct {
	// DeliveryID de-duplicates deliveries; it is unique per Source.
	DeliveryID string
	// Source names the integration that delivered the event ("generic", "shopify").
	Source     string
	Type       EventType
	OccurredAt time.Time
	Order      Order
	// Refunds are the refunds the delivery tells of: the one of a
	// refunds/create, or those an order body lists.
	Refunds []Refund
	// Test says whether the delivery is a test notification or a test
	// order rather than a real order.
	Test TestKind
}

// Refund is money given back on an order. Each refund has its own ID, so
// one heard of twice (its own delivery and an order body listing it) is
// taken out once.
type Refund struct {
	ID       string
	Amount   int64 // integer minor units of Currency
	Currency string
	// Merchandise is the part of Amount that gave back merchandise (its
	// price after discounts, without shipping, tax and fees): what takes
	// points back.
	Merchandise int64
	At          time.Time
}

// Order is the normalised order. Events after order.created may carry only
// the ID; HasDetails tells whether the rest was sent. Customer is nil for an
// order without a buyer (a draft or point-of-sale order with neither a
// customer nor an address).
type Order struct {
	ID       string
	Currency string
	// Total is what the order came to, in integer minor units of
	// Currency, after edits and before refunds (Refunded).
	Total int64
	// Merchandise is what the order's products came to after discounts,
	// without shipping, tax, fees and gift cards, in minor units of
	// Currency, after edits and before refunds: what earns points.
	Merchandise int64
	PlacedAt    time.Time
	Customer    *Customer
	Items       []Item
	CouponCodes []string
	// ReferralCode is the referral code the order carries besides its
	// discount codes (the generic webhook's referral_code, Shopify's
	// landing-site ?ref= parameter or landing_site_ref), as sent; "" for
	// none.
	ReferralCode string
	// ShippingAddress is where the order goes, as one line (the shop's
	// parts joined by spaces); "" when not sent. It is used for the
	// referral checks only and never stored.
	ShippingAddress string
	// RevisedAt is when the shop last changed the order as this delivery
	// tells it (Shopify's updated_at); zero when the delivery does not say.
	// A later revision's total and lines replace an earlier one's.
	RevisedAt time.Time
	// Refunded is the money given back, in minor units of Currency, and
	// Revision counts the changes to the order's amounts (edits, refunds)
	// the store has applied since it was placed; both are the store's.
	Refunded int64
	Revision int
}

// HasDetails reports whether the order carries its contents (its lines),
// as order.created always does and later events may.
func (o Order) HasDetails() bool { return len(o.Items) > 0 }

// Spent is what the order counts for in a customer's spend: its total less
// what was refunded.
func (o Order) Spent() int64 { return max(o.Total-o.Refunded, 0) }

// Products returns the order's product lines: the lines that are not
// custom lines, gift cards or tips. Only they count in category and brand
// statistics, co-purchase learning and recommendations.
func (o Order) Products() []Item {
	out := make([]Item, 0, len(o.Items))
	for _, it := range o.Items {
		if it.Kind == ProductLine {
			out = append(out, it)
		}
	}
	return out
}

// Customer is the buyer as the shop knows them.
type Customer struct {
	ID         string
	Email      string
	Name       string
	LineUserID string
	// Phone is the buyer's telephone number as sent; used for the
	// referral checks only and never stored.
	Phone string
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
// them by SKU when it knows the product. A line that is not a product
// (Kind) has no SKU.
type Item struct {
	SKU       string
	Name      string
	Category  string
	Brand     string
	UnitPrice int64 // integer minor units of the order currency
	Quantity  int
	Kind      ItemKind
	// ProductID is the shop platform's id of the line's product
	// (Shopify's product_id), when the body names one: review apps name
	// products by it (see ProductKey).
	ProductID string
}

// ProductKey is the key tsunagu gives a product known only by its
// platform id (Shopify's product_id): the SKU of a Shopify line without
// SKU or variant, and the product of a Judge.me review.
func ProductKey(productID string) string { return "product-" + productID }

// OtherKeys are the other keys the line's product may be known by: its
// ProductKey, when the line names a product id and has another SKU. A
// review stored under one of them is a review of this product.
func (it Item) OtherKeys() []string {
	if it.ProductID == "" || it.SKU == ProductKey(it.ProductID) {
		return nil
	}
	return []string{ProductKey(it.ProductID)}
}

// ItemKind tells product lines from the other lines a shop's admin can put
// on an order. Every line counts in the order's total.
type ItemKind string

// Line kinds.
const (
	// ProductLine is a product of the shop's catalogue.
	ProductLine ItemKind = ""
	// CustomLine is a line typed into a draft order or an order edit, with
	// no product behind it (a tip is one too).
	CustomLine ItemKind = "custom"
	// GiftCardLine sells a gift card: money to spend later, not a taste.
	GiftCardLine ItemKind = "gift_card"
)

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

// ItemsMerchandise is the merchandise of an order whose payload tells no
// subtotal after discounts: its product lines' amounts, at most total
// (which a discount brought under them; shipping and fees can only raise
// it).
func ItemsMerchandise(items []Item, total int64) int64 {
	var sum int64
	for _, it := range items {
		if it.Kind == ProductLine {
			sum += it.Subtotal()
		}
	}
	return max(min(sum, total), 0)
}
