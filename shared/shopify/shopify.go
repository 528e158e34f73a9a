// Package shopify decodes Shopify's webhooks as Shopify sends them (orders,
// refunds, Shopify's mandatory compliance topics) into tsunagu's models.
package shopify

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// Source names deliveries to POST /webhooks/shopify/orders.
const Source = "shopify"

// Topics maps the X-Shopify-Topic values tsunagu takes onto order events.
// orders/updated and orders/paid carry the order as it now stands;
// refunds/create carries a refund.
var Topics = map[string]order.EventType{
	"orders/create":    order.Created,
	"orders/updated":   order.Updated,
	"orders/paid":      order.Updated,
	"orders/fulfilled": order.Fulfilled,
	"orders/cancelled": order.Cancelled,
	"refunds/create":   order.Refunded,
}

// RefundsTopic is the X-Shopify-Topic of a refund.
const RefundsTopic = "refunds/create"

// SampleOrderID is the order id of the sample body Shopify's admin sends
// with "Send test notification" (and its webhook reference shows).
const SampleOrderID = "820982911946154508"

// ClockSkew is how far past the receiving clock a time in a body may lie:
// later times are taken as now plus ClockSkew, so a body cannot move a
// profile's clock into the future.
const ClockSkew = 5 * time.Minute

// maxID bounds ids and SKUs (as the generic webhook's schema does), so
// every key fits in DynamoDB's.
const maxID = 200

// Delivery is what one Shopify webhook request carries besides its body.
// Shopify signs the body only: these headers say nothing the body has to
// agree with, so nothing but the topic (checked against the body) and the
// shop (checked against the configured one) is taken from them.
type Delivery struct {
	Topic      string // X-Shopify-Topic
	WebhookID  string // X-Shopify-Webhook-Id, unique per delivery
	ShopDomain string // X-Shopify-Shop-Domain
	// Test is X-Shopify-Test: "true" on a test notification.
	Test string
}

// Decoder decodes Shopify's order webhooks for the shop a stack serves.
type Decoder struct {
	// Shop is the shop's myshopify.com domain: a delivery whose
	// X-Shopify-Shop-Domain names another shop is refused. Empty, on the
	// local stack only, accepts any shop.
	Shop string
	// Guests keys a guest buyer's address into the customer id the guest
	// is kept under (the compliance webhooks find the guest the same way).
	Guests pseudonym.Keyer
}

type wireConsent struct {
	State            string `json:"state"`
	OptInLevel       string `json:"opt_in_level"`
	ConsentUpdatedAt string `json:"consent_updated_at"`
}

type wireTransaction struct {
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Test     bool   `json:"test"`
}

type wireRefund struct {
	ID              json.Number       `json:"id"`
	OrderID         json.Number       `json:"order_id"`
	CreatedAt       string            `json:"created_at"`
	ProcessedAt     string            `json:"processed_at"`
	Transactions    []wireTransaction `json:"transactions"`
	RefundLineItems []struct {
		SubtotalSet struct {
			ShopMoney struct {
				Amount       string `json:"amount"`
				CurrencyCode string `json:"currency_code"`
			} `json:"shop_money"`
		} `json:"subtotal_set"`
	} `json:"refund_line_items"`
}

type wireLine struct {
	SKU             string      `json:"sku"`
	Name            string      `json:"name"`
	Title           string      `json:"title"`
	Vendor          string      `json:"vendor"`
	Price           string      `json:"price"`
	Quantity        int         `json:"quantity"`
	CurrentQuantity *int        `json:"current_quantity"`
	ProductID       json.Number `json:"product_id"`
	VariantID       json.Number `json:"variant_id"`
	GiftCard        bool        `json:"gift_card"`
	TaxLines        []struct {
		Price string `json:"price"`
	} `json:"tax_lines"`
}

type wireOrder struct {
	ID                    json.Number `json:"id"`
	Email                 string      `json:"email"`
	ContactEmail          string      `json:"contact_email"`
	CreatedAt             string      `json:"created_at"`
	UpdatedAt             string      `json:"updated_at"`
	CancelledAt           *string     `json:"cancelled_at"`
	FulfillmentStatus     *string     `json:"fulfillment_status"`
	Currency              string      `json:"currency"`
	TotalPrice            string      `json:"total_price"`
	CurrentTotalPrice     string      `json:"current_total_price"`
	SubtotalPrice         string      `json:"subtotal_price"`
	CurrentSubtotalPrice  string      `json:"current_subtotal_price"`
	TaxesIncluded         bool        `json:"taxes_included"`
	BuyerAcceptsMarketing bool        `json:"buyer_accepts_marketing"`
	Test                  bool        `json:"test"`
	// Phone, LandingSite and ShippingAddress serve the referral checks
	// and the referral code (?ref=), and are never stored.
	Phone           *string              `json:"phone"`
	LandingSite     *string              `json:"landing_site"`
	LandingSiteRef  *string              `json:"landing_site_ref"`
	ShippingAddress *order.AddressFields `json:"shipping_address"`
	Customer        *struct {
		ID                       json.Number  `json:"id"`
		Email                    string       `json:"email"`
		FirstName                string       `json:"first_name"`
		LastName                 string       `json:"last_name"`
		AcceptsMarketing         *bool        `json:"accepts_marketing"`
		AcceptsMarketingUpdateAt string       `json:"accepts_marketing_updated_at"`
		EmailMarketingConsent    *wireConsent `json:"email_marketing_consent"`
		Phone                    *string      `json:"phone"`
	} `json:"customer"`
	LineItems     []wireLine `json:"line_items"`
	DiscountCodes []struct {
		Code string `json:"code"`
	} `json:"discount_codes"`
	Refunds []wireRefund `json:"refunds"`
	// Fulfillments tell a delivery: Shopify has no order topic for it,
	// but the order's fulfillments carry their shipment status.
	Fulfillments []wireFulfillment `json:"fulfillments"`
}

// wireFulfillment is one fulfilment of an order body.
type wireFulfillment struct {
	Status         string  `json:"status"`
	ShipmentStatus *string `json:"shipment_status"`
	UpdatedAt      string  `json:"updated_at"`
}

// Decode validates a Shopify webhook (an order topic or refunds/create) and
// normalises it. Times come from the signed body only, never later than
// now plus ClockSkew. The body must be of its topic's kind: an order body
// with its lines, a cancellation with cancelled_at, a fulfilment with
// fulfillment_status fulfilled, a refund with its order_id; a body that
// says the order was cancelled is a cancellation, whatever the topic.
// Problems come back as one *order.InvalidError naming every bad header
// and field.
func (d Decoder) Decode(del Delivery, body []byte, now time.Time) (order.Event, error) {
	bad := &order.InvalidError{}
	typ, known := Topics[del.Topic]
	switch {
	case del.Topic == "":
		bad.Add("X-Shopify-Topic", "header is required")
	case !known:
		bad.Add("X-Shopify-Topic", "topic %q is not handled; subscribe orders/create, orders/updated, orders/paid, orders/fulfilled, orders/cancelled or refunds/create", del.Topic)
	}
	if strings.TrimSpace(del.WebhookID) == "" {
		bad.Add("X-Shopify-Webhook-Id", "header is required")
	}
	if len(del.WebhookID) > maxID {
		bad.Add("X-Shopify-Webhook-Id", "must be at most %d characters", maxID)
	}
	if err := CheckShopDomain(d.Shop, del.ShopDomain); err != nil {
		bad.Add(ShopDomainHeader, "%v", err)
	}
	doc, err := order.ParseJSONObject(body)
	if err != nil {
		return order.Event{}, err
	}
	ev := order.Event{DeliveryID: del.WebhookID, Source: Source, Type: typ}
	clock := clamp{now: now}
	if typ == order.Refunded {
		d.decodeRefund(bad, doc, body, &ev, clock)
	} else {
		d.decodeOrder(bad, doc, body, &ev, clock)
	}
	if err := bad.OrNil(); err != nil {
		return order.Event{}, err
	}
	if strings.EqualFold(strings.TrimSpace(del.Test), "true") || (ev.Test != order.NotTest && ev.Order.ID == SampleOrderID) {
		ev.Test = order.TestNotification
	}
	return ev, nil
}

// deliveredAt reads whether an order body tells that the order was
// delivered: fully fulfilled, and every successful fulfilment's shipment
// status "delivered" (a carrier's or the shop's). The delivery is the
// latest of their updated_at (the body's own time, revised, for one
// without). Shopify sends such a body as orders/updated
// when a fulfilment's shipment status changes, and again with every later
// update of the order; each is the same delivery.
func deliveredAt(bad *order.InvalidError, w wireOrder, clock clamp, revised time.Time) (time.Time, bool) {
	if w.FulfillmentStatus == nil || *w.FulfillmentStatus != "fulfilled" {
		return time.Time{}, false
	}
	var at time.Time
	for i, f := range w.Fulfillments {
		if f.Status != "success" {
			continue // cancelled, failed or errored: shipped nothing
		}
		if f.ShipmentStatus == nil || *f.ShipmentStatus != "delivered" {
			return time.Time{}, false
		}
		t := revised
		if f.UpdatedAt != "" {
			t = clock.parse(bad, fmt.Sprintf("fulfillments[%d].updated_at", i), f.UpdatedAt)
		}
		if t.After(at) {
			at = t
		}
	}
	return at, !at.IsZero()
}

// decodeOrder reads an order body.
func (d Decoder) decodeOrder(bad *order.InvalidError, doc map[string]any, body []byte, ev *order.Event, clock clamp) {
	if _, ok := doc["line_items"].([]any); !ok {
		bad.Add("line_items", "is required: an order body carries its lines (a refund or another resource is not an order)")
	}
	var w wireOrder
	if err := json.Unmarshal(body, &w); err != nil {
		bad.Add("body", "does not match Shopify's order payload: %v", err)
		return
	}
	o := &ev.Order
	o.ID = idOf(bad, "id", w.ID)
	if c := w.Customer; c != nil && len(c.ID.String()) > maxID {
		bad.Add("customer.id", "must be at most %d characters", maxID)
	}
	scale, err := order.CurrencyScale(w.Currency)
	if err != nil {
		bad.Add("currency", "%v", err)
	}
	o.Currency = w.Currency
	o.PlacedAt = clock.parse(bad, "created_at", w.CreatedAt)
	if w.UpdatedAt != "" {
		o.RevisedAt = clock.parse(bad, "updated_at", w.UpdatedAt)
	}
	ev.OccurredAt = o.PlacedAt
	if ev.Type != order.Created && !o.RevisedAt.IsZero() {
		ev.OccurredAt = o.RevisedAt
	}
	switch {
	case w.CancelledAt != nil:
		// The signed body says the order was cancelled, whatever the topic.
		ev.Type = order.Cancelled
		ev.OccurredAt = clock.parse(bad, "cancelled_at", *w.CancelledAt)
	case ev.Type == order.Cancelled:
		bad.Add("cancelled_at", "is required: an orders/cancelled body carries the time of the cancellation (this body's order is not cancelled)")
	case ev.Type == order.Fulfilled && (w.FulfillmentStatus == nil || *w.FulfillmentStatus != "fulfilled"):
		bad.Add("fulfillment_status", "must be \"fulfilled\" in an orders/fulfilled body (this body's order is not fulfilled)")
	case ev.Type == order.Updated:
		if at, ok := deliveredAt(bad, w, clock, ev.OccurredAt); ok {
			ev.Type, ev.OccurredAt = order.Delivered, at
		}
	}
	if w.Test {
		ev.Test = order.TestOrder
	}

	email := firstNonEmpty(strings.TrimSpace(w.Email), strings.TrimSpace(w.ContactEmail))
	if c := w.Customer; c != nil && c.ID.String() != "" {
		o.Customer = &order.Customer{ID: c.ID.String(), Email: firstNonEmpty(strings.TrimSpace(c.Email), email), Name: order.CleanText(fullName(c.LastName, c.FirstName))}
		o.Customer.Consent = consent(c.EmailMarketingConsent, c.AcceptsMarketing, c.AcceptsMarketingUpdateAt, w.BuyerAcceptsMarketing, o.PlacedAt, clock)
	} else if email != "" {
		// Guest checkout: no customer record, so the address is the
		// identity, keyed so that the id does not confirm an address.
		o.Customer = &order.Customer{ID: d.Guests.GuestCustomerID(email), Email: email}
		o.Customer.Consent = consent(nil, nil, "", w.BuyerAcceptsMarketing, o.PlacedAt, clock)
	}
	for i, li := range w.LineItems {
		if it, ok := lineItem(bad, fmt.Sprintf("line_items[%d]", i), li, scale); ok {
			o.Items = append(o.Items, it)
		}
	}
	if ev.Type == order.Created && len(w.LineItems) == 0 {
		bad.Add("line_items", "must have at least 1 entry")
	}
	if o.Customer != nil {
		o.Customer.Phone = order.CleanText(firstNonEmpty(deref(w.Phone), customerPhone(w), shippingPhone(w)))
	}
	if a := w.ShippingAddress; a != nil {
		o.ShippingAddress = a.Line()
	}
	o.ReferralCode = firstNonEmpty(refParameter(deref(w.LandingSite)), order.CleanText(deref(w.LandingSiteRef)))
	for _, dc := range w.DiscountCodes {
		if code := order.CleanText(dc.Code); code != "" {
			o.CouponCodes = append(o.CouponCodes, code)
		}
	}
	// The refunds the body lists: current_total_price has them taken out
	// already, and the order's total is kept before refunds (each refund is
	// taken out once, by its id, however it is heard of).
	total, field := w.CurrentTotalPrice, "current_total_price"
	if total == "" {
		total, field = w.TotalPrice, "total_price"
	}
	if o.Total, err = MinorUnits(total, scale); err != nil {
		bad.Add(field, "%v", err)
	}
	subtotal, subField := w.CurrentSubtotalPrice, "current_subtotal_price"
	if subtotal == "" {
		subtotal, subField = w.SubtotalPrice, "subtotal_price"
	}
	for i, r := range w.Refunds {
		rf := refund(bad, fmt.Sprintf("refunds[%d]", i), r, clock)
		if rf.Amount == 0 {
			continue
		}
		ev.Refunds = append(ev.Refunds, rf)
		if field == "current_total_price" && rf.Currency == o.Currency {
			o.Total += rf.Amount
		}
		if subField == "current_subtotal_price" && rf.Currency == o.Currency {
			o.Merchandise += rf.Merchandise
		}
	}
	o.Merchandise += merchandise(bad, subField, subtotal, w, scale, o)
}

// merchandise reads what an order's products came to after discounts
// (Shopify's subtotal: without shipping and duties, with tax when the
// shop's prices include it), less the tax of its lines when they include
// it and less its gift cards (money to spend later). A body without a
// subtotal counts its lines, at most its total.
func merchandise(bad *order.InvalidError, field, subtotal string, w wireOrder, scale int, o *order.Order) int64 {
	if subtotal == "" {
		return order.ItemsMerchandise(o.Items, o.Total)
	}
	m, err := MinorUnits(subtotal, scale)
	if err != nil {
		bad.Add(field, "%v", err)
		return 0
	}
	for i, li := range w.LineItems {
		qty := li.Quantity
		if li.CurrentQuantity != nil {
			qty = *li.CurrentQuantity
		}
		if qty < 1 {
			continue // no longer on the order
		}
		if li.GiftCard {
			if price, err := MinorUnits(li.Price, scale); err == nil { // a bad price is reported with its line
				m -= price * int64(qty)
			}
		}
		for j, tl := range li.TaxLines {
			if !w.TaxesIncluded {
				break
			}
			tax, err := MinorUnits(tl.Price, scale)
			if err != nil {
				bad.Add(fmt.Sprintf("line_items[%d].tax_lines[%d].price", i, j), "%v", err)
				continue
			}
			m -= tax
		}
	}
	return max(m, 0)
}

// lineItem reads one order line; false for a line no longer on the order
// (an order edit or a refund took its current quantity to 0).
func lineItem(bad *order.InvalidError, field string, li wireLine, scale int) (order.Item, bool) {
	qty := li.Quantity
	if li.CurrentQuantity != nil {
		qty = *li.CurrentQuantity
		if qty == 0 {
			return order.Item{}, false
		}
	}
	if qty < 1 {
		bad.Add(field+".quantity", "must be at least 1, got %d", qty)
	}
	it := order.Item{Name: order.CleanText(firstNonEmpty(li.Name, li.Title)), Quantity: qty}
	product, variant, sku := li.ProductID.String(), li.VariantID.String(), strings.TrimSpace(li.SKU)
	switch {
	case li.GiftCard:
		it.Kind = order.GiftCardLine
	case product == "" && variant == "" && sku == "":
		// Typed into a draft order or an order edit (a tip is one too).
		it.Kind = order.CustomLine
	case sku != "":
		it.SKU = sku
	case variant != "":
		it.SKU = "variant-" + variant
	default:
		it.SKU = order.ProductKey(product)
	}
	if it.Kind == order.ProductLine {
		it.Brand = order.CleanText(li.Vendor)
		it.ProductID = product
	}
	if len(it.SKU) > maxID {
		bad.Add(field+".sku", "must be at most %d characters", maxID)
	}
	var err error
	if it.UnitPrice, err = MinorUnits(li.Price, scale); err != nil {
		bad.Add(field+".price", "%v", err)
	}
	return it, true
}

// decodeRefund reads a refunds/create body.
func (d Decoder) decodeRefund(bad *order.InvalidError, doc map[string]any, body []byte, ev *order.Event, clock clamp) {
	if _, ok := doc["line_items"]; ok {
		bad.Add("line_items", "is not in a refund: this is an order body, not a refunds/create one")
	}
	var w wireRefund
	if err := json.Unmarshal(body, &w); err != nil {
		bad.Add("body", "does not match Shopify's refund payload: %v", err)
		return
	}
	ev.Order.ID = idOf(bad, "order_id", w.OrderID)
	r := refund(bad, "", w, clock)
	ev.OccurredAt = r.At
	ev.Refunds = []order.Refund{r}
	test := len(w.Transactions) > 0
	for _, tx := range w.Transactions {
		test = test && tx.Test
	}
	if test {
		ev.Test = order.TestOrder
	}
}

// refund reads a refund (a refunds/create body, or one an order body
// lists, under field): its id, its time and the money given back, the sum
// of its successful refund transactions.
func refund(bad *order.InvalidError, field string, w wireRefund, clock clamp) order.Refund {
	at := func(name string) string {
		if field == "" {
			return name
		}
		return field + "." + name
	}
	r := order.Refund{ID: idOf(bad, at("id"), w.ID)}
	when, name := w.ProcessedAt, "processed_at"
	if when == "" {
		when, name = w.CreatedAt, "created_at"
	}
	r.At = clock.parse(bad, at(name), when)
	for i, tx := range w.Transactions {
		if tx.Kind != "refund" || tx.Status != "success" {
			continue
		}
		txField := at(fmt.Sprintf("transactions[%d]", i))
		if r.Currency != "" && tx.Currency != r.Currency {
			bad.Add(txField+".currency", "refund transactions in %s and %s", r.Currency, tx.Currency)
			continue
		}
		scale, err := order.CurrencyScale(tx.Currency)
		if err != nil {
			bad.Add(txField+".currency", "%v", err)
			continue
		}
		amount, err := MinorUnits(tx.Amount, scale)
		if err != nil {
			bad.Add(txField+".amount", "%v", err)
			continue
		}
		r.Currency = tx.Currency
		r.Amount += amount
	}
	for i, li := range w.RefundLineItems {
		money := li.SubtotalSet.ShopMoney
		if money.Amount == "" {
			continue
		}
		scale, err := order.CurrencyScale(money.CurrencyCode)
		if err != nil {
			bad.Add(at(fmt.Sprintf("refund_line_items[%d].subtotal_set.shop_money.currency_code", i)), "%v", err)
			continue
		}
		amount, err := MinorUnits(money.Amount, scale)
		if err != nil {
			bad.Add(at(fmt.Sprintf("refund_line_items[%d].subtotal_set.shop_money.amount", i)), "%v", err)
			continue
		}
		r.Merchandise += amount
	}
	return r
}

// idOf reads a required Shopify id (shopifyID: a positive integer).
func idOf(bad *order.InvalidError, field string, n json.Number) string {
	id := n.String()
	switch {
	case id == "":
		bad.Add(field, "is required")
	case len(id) > maxID:
		bad.Add(field, "must be at most %d characters", maxID)
	case !shopifyID.MatchString(id):
		bad.Add(field, "must be a positive integer id, got %q", id)
	}
	return id
}

// clamp reads a body's times: RFC 3339, and never later than the receiving
// clock allows.
type clamp struct{ now time.Time }

func (c clamp) parse(bad *order.InvalidError, field, s string) time.Time {
	if s == "" {
		bad.Add(field, "is required")
		return time.Time{}
	}
	return c.bound(order.ParseTime(bad, field, s))
}

// bound returns t, or now plus ClockSkew when t is later.
func (c clamp) bound(t time.Time) time.Time {
	if latest := c.now.Add(ClockSkew).UTC(); t.After(latest) {
		return latest
	}
	return t
}

// decimalAmount is how Shopify writes amounts: digits, then optionally a
// point and more digits (big.Rat alone would also take 0x10, 1e3 or 1/2).
var decimalAmount = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// MinorUnits converts a decimal amount string ("4300", "59.99") into integer
// minor units of a currency with the given scale, refusing anything that is
// negative or has more decimals than the currency allows.
func MinorUnits(amount string, scale int) (int64, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(amount))
	if !ok || !decimalAmount.MatchString(strings.TrimSpace(amount)) {
		return 0, fmt.Errorf("must be a decimal amount such as \"4300\" or \"59.99\", got %q", amount)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("must not be negative, got %q", amount)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q has more decimals than the currency allows (%d)", amount, scale)
	}
	return r.Num().Int64(), nil
}

// consent reads the strongest statement the payload makes: the customer's
// email_marketing_consent (API versions before 2025-01), the older
// accepts_marketing flag, or the checkout box. An unticked checkout box says
// nothing about consent given elsewhere, so it leaves the state unknown.
// Consent times, like every time in the body, are bounded by the clock.
func consent(emc *wireConsent, accepts *bool, acceptsAt string, buyerAccepts bool, placed time.Time, clock clamp) order.Consent {
	at := func(s string) time.Time {
		if t, err := time.Parse(time.RFC3339, s); err == nil && t.UTC().Year() <= 9999 {
			return clock.bound(t.UTC())
		}
		return placed
	}
	// Without its own time a statement is the record as it stands.
	undated := func(s string) bool {
		_, err := time.Parse(time.RFC3339, s)
		return err != nil
	}
	if emc != nil {
		switch emc.State {
		case "subscribed":
			return order.Consent{State: order.ConsentGranted, Source: "shopify:" + firstNonEmpty(emc.OptInLevel, "email_marketing_consent"), At: at(emc.ConsentUpdatedAt), Standing: undated(emc.ConsentUpdatedAt)}
		case "unsubscribed", "not_subscribed", "redacted":
			return order.Consent{State: order.ConsentDenied, Source: "shopify:" + emc.State, At: at(emc.ConsentUpdatedAt), Standing: undated(emc.ConsentUpdatedAt)}
		}
	}
	if accepts != nil {
		c := order.Consent{State: order.ConsentDenied, Source: "shopify:accepts_marketing", At: at(acceptsAt), Standing: undated(acceptsAt)}
		if *accepts {
			c.State = order.ConsentGranted
		}
		return c
	}
	if buyerAccepts {
		return order.Consent{State: order.ConsentGranted, Source: "shopify:checkout", At: placed}
	}
	return order.Consent{}
}

// fullName writes a Japanese name family-name first (高橋 美咲) and a Latin
// one given-name first (John Doe).
func fullName(last, first string) string {
	last, first = strings.TrimSpace(last), strings.TrimSpace(first)
	if last == "" || first == "" {
		return last + first
	}
	for _, r := range last + first {
		if r > unicode.MaxASCII {
			return last + " " + first
		}
	}
	return first + " " + last
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
