// Package shopify decodes Shopify's order webhooks, as Shopify sends them,
// into tsunagu's normalised order model.
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
)

// Source names deliveries to POST /webhooks/shopify/orders.
const Source = "shopify"

// Topics maps the X-Shopify-Topic values tsunagu subscribes to onto order events.
var Topics = map[string]order.EventType{
	"orders/create":    order.Created,
	"orders/fulfilled": order.Fulfilled,
	"orders/cancelled": order.Cancelled,
}

// maxID bounds ids and SKUs (as the generic webhook's schema does), so
// every key fits in DynamoDB's.
const maxID = 200

// Delivery is what one Shopify webhook request carries besides its body.
type Delivery struct {
	Topic       string // X-Shopify-Topic
	WebhookID   string // X-Shopify-Webhook-Id, unique per delivery
	TriggeredAt string // X-Shopify-Triggered-At, optional
}

type wireConsent struct {
	State            string `json:"state"`
	OptInLevel       string `json:"opt_in_level"`
	ConsentUpdatedAt string `json:"consent_updated_at"`
}

type wireOrder struct {
	ID                    json.Number `json:"id"`
	Email                 string      `json:"email"`
	ContactEmail          string      `json:"contact_email"`
	CreatedAt             string      `json:"created_at"`
	UpdatedAt             string      `json:"updated_at"`
	CancelledAt           *string     `json:"cancelled_at"`
	Currency              string      `json:"currency"`
	TotalPrice            string      `json:"total_price"`
	CurrentTotalPrice     string      `json:"current_total_price"`
	BuyerAcceptsMarketing bool        `json:"buyer_accepts_marketing"`
	Customer              *struct {
		ID                       json.Number  `json:"id"`
		Email                    string       `json:"email"`
		FirstName                string       `json:"first_name"`
		LastName                 string       `json:"last_name"`
		AcceptsMarketing         *bool        `json:"accepts_marketing"`
		AcceptsMarketingUpdateAt string       `json:"accepts_marketing_updated_at"`
		EmailMarketingConsent    *wireConsent `json:"email_marketing_consent"`
	} `json:"customer"`
	LineItems []struct {
		SKU       string      `json:"sku"`
		Name      string      `json:"name"`
		Title     string      `json:"title"`
		Vendor    string      `json:"vendor"`
		Price     string      `json:"price"`
		Quantity  int         `json:"quantity"`
		ProductID json.Number `json:"product_id"`
		VariantID json.Number `json:"variant_id"`
	} `json:"line_items"`
	DiscountCodes []struct {
		Code string `json:"code"`
	} `json:"discount_codes"`
}

// Decode validates a Shopify order webhook and normalises it. Problems come
// back as one *order.InvalidError naming every bad header and field.
func Decode(d Delivery, body []byte) (order.Event, error) {
	bad := &order.InvalidError{}
	typ, known := Topics[d.Topic]
	switch {
	case d.Topic == "":
		bad.Add("X-Shopify-Topic", "header is required")
	case !known:
		bad.Add("X-Shopify-Topic", "topic %q is not handled; subscribe orders/create, orders/fulfilled and orders/cancelled", d.Topic)
	}
	if strings.TrimSpace(d.WebhookID) == "" {
		bad.Add("X-Shopify-Webhook-Id", "header is required")
	}
	if len(d.WebhookID) > maxID {
		bad.Add("X-Shopify-Webhook-Id", "must be at most %d characters", maxID)
	}
	if _, err := order.ParseJSONObject(body); err != nil {
		return order.Event{}, err
	}
	var w wireOrder
	if err := json.Unmarshal(body, &w); err != nil {
		bad.Add("body", "does not match Shopify's order payload: %v", err)
		return order.Event{}, bad
	}

	ev := order.Event{DeliveryID: d.WebhookID, Source: Source, Type: typ}
	o := &ev.Order
	o.ID = w.ID.String()
	if o.ID == "" {
		bad.Add("id", "is required")
	}
	if len(o.ID) > maxID {
		bad.Add("id", "must be at most %d characters", maxID)
	}
	if c := w.Customer; c != nil && len(c.ID.String()) > maxID {
		bad.Add("customer.id", "must be at most %d characters", maxID)
	}
	scale, err := order.CurrencyScale(w.Currency)
	if err != nil {
		bad.Add("currency", "%v", err)
	}
	o.Currency = w.Currency
	o.PlacedAt = order.ParseTime(bad, "created_at", w.CreatedAt)
	total := w.CurrentTotalPrice
	if total == "" {
		total = w.TotalPrice
	}
	if o.Total, err = MinorUnits(total, scale); err != nil {
		bad.Add("total_price", "%v", err)
	}
	ev.OccurredAt = occurredAt(bad, d, w, typ, o.PlacedAt)

	email := firstNonEmpty(w.Email, w.ContactEmail)
	if c := w.Customer; c != nil && c.ID.String() != "" {
		o.Customer = &order.Customer{ID: c.ID.String(), Email: firstNonEmpty(c.Email, email), Name: fullName(c.LastName, c.FirstName)}
		o.Customer.Consent = consent(c.EmailMarketingConsent, c.AcceptsMarketing, c.AcceptsMarketingUpdateAt, w.BuyerAcceptsMarketing, o.PlacedAt)
	} else if email != "" {
		// Guest checkout: no customer record, so the address is the identity.
		o.Customer = &order.Customer{ID: GuestCustomerID(email), Email: email}
		o.Customer.Consent = consent(nil, nil, "", w.BuyerAcceptsMarketing, o.PlacedAt)
	}
	for i, li := range w.LineItems {
		field := fmt.Sprintf("line_items[%d]", i)
		it := order.Item{SKU: li.SKU, Name: firstNonEmpty(li.Name, li.Title), Brand: li.Vendor, Quantity: li.Quantity}
		if it.SKU == "" && li.VariantID.String() != "" {
			it.SKU = "variant-" + li.VariantID.String()
		}
		if it.SKU == "" {
			bad.Add(field+".sku", "is required (or a variant_id)")
		}
		if len(it.SKU) > maxID {
			bad.Add(field+".sku", "must be at most %d characters", maxID)
		}
		if li.Quantity < 1 {
			bad.Add(field+".quantity", "must be at least 1, got %d", li.Quantity)
		}
		if it.UnitPrice, err = MinorUnits(li.Price, scale); err != nil {
			bad.Add(field+".price", "%v", err)
		}
		o.Items = append(o.Items, it)
	}
	if typ == order.Created && len(o.Items) == 0 {
		bad.Add("line_items", "must have at least 1 entry")
	}
	for _, dc := range w.DiscountCodes {
		if dc.Code != "" {
			o.CouponCodes = append(o.CouponCodes, dc.Code)
		}
	}
	if err := bad.OrNil(); err != nil {
		return order.Event{}, err
	}
	return ev, nil
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

func occurredAt(bad *order.InvalidError, d Delivery, w wireOrder, typ order.EventType, placed time.Time) time.Time {
	if d.TriggeredAt != "" {
		if t := order.ParseTime(bad, "X-Shopify-Triggered-At", d.TriggeredAt); !t.IsZero() {
			return t
		}
	}
	switch {
	case typ == order.Cancelled && w.CancelledAt != nil:
		return order.ParseTime(bad, "cancelled_at", *w.CancelledAt)
	case typ != order.Created && w.UpdatedAt != "":
		return order.ParseTime(bad, "updated_at", w.UpdatedAt)
	}
	return placed
}

// consent reads the strongest statement the payload makes: the customer's
// email_marketing_consent (API versions before 2025-01), the older
// accepts_marketing flag, or the checkout box. An unticked checkout box says
// nothing about consent given elsewhere, so it leaves the state unknown.
func consent(emc *wireConsent, accepts *bool, acceptsAt string, buyerAccepts bool, placed time.Time) order.Consent {
	at := func(s string) time.Time {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC()
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
