package shopify

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// Shopify's mandatory compliance (privacy) webhook topics. Shopify lets an
// app give one address for all three (shopify.app.toml compliance_topics).
const (
	// DataRequestTopic asks for what the app holds about a customer.
	DataRequestTopic = "customers/data_request"
	// RedactTopic asks the app to erase a customer's personal data.
	RedactTopic = "customers/redact"
	// ShopRedactTopic asks the app, 48 hours after the shop uninstalled
	// it, to erase what it holds for the shop.
	ShopRedactTopic = "shop/redact"
)

// ComplianceTopics are the three compliance topics.
var ComplianceTopics = []string{DataRequestTopic, RedactTopic, ShopRedactTopic}

// ComplianceRequest is one compliance webhook as tsunagu acts on it.
type ComplianceRequest struct {
	Topic      string
	ShopID     string
	ShopDomain string
	// CustomerID is who a customers/* request is about: Shopify's customer
	// id or, for a guest known only by address, the keyed guest id the
	// order decoder gives them. Empty for shop/redact.
	CustomerID string
	// LegacyCustomerID is, for a guest, the unkeyed id versions before
	// keyed pseudonyms gave them (LegacyGuestCustomerID): their data may
	// still be kept under it.
	LegacyCustomerID string
	// Orders are the body's orders_to_redact or orders_requested.
	Orders []string
	// DataRequestID is a customers/data_request's data_request.id.
	DataRequestID string
}

// Compliance decodes Shopify's compliance webhooks for the shop a stack
// serves.
type Compliance struct {
	// Shop is the shop's myshopify.com domain: a delivery for another shop
	// (header or body) is refused. Empty, on the local stack only, accepts
	// any shop.
	Shop string
	// Guests keys a guest's address into the customer id the order decoder
	// keeps the guest under.
	Guests pseudonym.Keyer
	// Topics are the topics this address takes; empty means all three.
	Topics []string
}

// shopifyID is how Shopify writes an id in these bodies: a positive integer.
var shopifyID = regexp.MustCompile(`^[1-9][0-9]*$`)

// Decode validates one compliance delivery: its topic (X-Shopify-Topic),
// the shop it says it comes from (X-Shopify-Shop-Domain), and a body of
// the shape Shopify documents for that topic. A body of another topic, an
// order webhook's included, is refused, so a captured delivery cannot be
// replayed as a compliance request. Problems come back as one
// *order.InvalidError naming every bad header and field.
func (c Compliance) Decode(topic, shopHeader string, body []byte) (ComplianceRequest, error) {
	bad := &order.InvalidError{}
	topics := c.Topics
	if len(topics) == 0 {
		topics = ComplianceTopics
	}
	switch {
	case topic == "":
		bad.Add("X-Shopify-Topic", "header is required")
	case !slices.Contains(topics, topic):
		bad.Add("X-Shopify-Topic", "topic %q is not handled here; this address takes %s", topic, strings.Join(topics, ", "))
	}
	if err := CheckShopDomain(c.Shop, shopHeader); err != nil {
		bad.Add(ShopDomainHeader, "%v", err)
	}
	doc, err := order.ParseJSONObject(body)
	if err != nil {
		return ComplianceRequest{}, err
	}
	r := ComplianceRequest{Topic: topic}
	r.ShopID = idField(bad, doc, "shop_id")
	switch domain, ok := doc["shop_domain"].(string); {
	case !ok || strings.TrimSpace(domain) == "":
		bad.Add("shop_domain", "is required: every compliance body names its shop")
	case c.Shop != "" && !strings.EqualFold(strings.TrimSpace(domain), strings.TrimSpace(c.Shop)):
		bad.Add("shop_domain", "%q is not the shop this stack serves", domain)
	default:
		r.ShopDomain = strings.TrimSpace(domain)
	}
	switch topic {
	case RedactTopic:
		r.CustomerID, r.LegacyCustomerID = c.customer(bad, doc)
		r.Orders = idList(bad, doc, "orders_to_redact", "a customers/redact body carries it (a body without it, such as an order webhook's, is not a redact request)")
		refuseFields(bad, doc, topic, "orders_requested", "data_request")
	case DataRequestTopic:
		r.CustomerID, r.LegacyCustomerID = c.customer(bad, doc)
		r.Orders = idList(bad, doc, "orders_requested", "a customers/data_request body carries it")
		if req, ok := doc["data_request"].(map[string]any); ok {
			r.DataRequestID = idField(bad, req, "data_request.id")
		} else {
			bad.Add("data_request", "is required: a customers/data_request body carries {\"id\": ...}")
		}
		refuseFields(bad, doc, topic, "orders_to_redact")
	case ShopRedactTopic:
		refuseFields(bad, doc, topic, "customer", "orders_to_redact", "orders_requested", "data_request")
	}
	if err := bad.OrNil(); err != nil {
		return ComplianceRequest{}, err
	}
	return r, nil
}

// customer reads a customers/* body's customer: Shopify's id or, for a
// guest, only an address (which is keyed, never kept), with the unkeyed id
// earlier versions gave the guest.
func (c Compliance) customer(bad *order.InvalidError, doc map[string]any) (id, legacy string) {
	cust, ok := doc["customer"].(map[string]any)
	if !ok {
		bad.Add("customer", "is required: an object with the customer's id, or a guest's email")
		return "", ""
	}
	if cust["id"] != nil {
		return idField(bad, cust, "customer.id"), ""
	}
	switch email, ok := cust["email"].(string); {
	case cust["email"] != nil && !ok:
		bad.Add("customer.email", "must be a string")
	case strings.TrimSpace(email) == "":
		bad.Add("customer", "needs an id or, for a guest, an email")
	default:
		return c.Guests.GuestCustomerID(email), LegacyGuestCustomerID(email)
	}
	return "", ""
}

// idField reads a Shopify id from obj under the last part of field's
// name.
func idField(bad *order.InvalidError, obj map[string]any, field string) string {
	return idValue(bad, field, obj[field[strings.LastIndex(field, ".")+1:]])
}

// idValue reads a Shopify id: a positive integer of at most maxID digits.
func idValue(bad *order.InvalidError, field string, v any) string {
	n, ok := v.(json.Number)
	switch {
	case v == nil:
		bad.Add(field, "is required")
	case !ok || !shopifyID.MatchString(n.String()):
		bad.Add(field, "must be a positive integer id")
	case len(n.String()) > maxID:
		bad.Add(field, "must be at most %d digits", maxID)
	default:
		return n.String()
	}
	return ""
}

// idList reads a required list of Shopify ids.
func idList(bad *order.InvalidError, doc map[string]any, field, why string) []string {
	raw, ok := doc[field].([]any)
	if !ok {
		if doc[field] == nil {
			bad.Add(field, "is required: %s", why)
		} else {
			bad.Add(field, "must be a list of order ids")
		}
		return nil
	}
	ids := []string{}
	for i, v := range raw {
		if id := idValue(bad, field+"["+strconv.Itoa(i)+"]", v); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// refuseFields refuses fields that belong to another topic's body.
func refuseFields(bad *order.InvalidError, doc map[string]any, topic string, fields ...string) {
	for _, f := range fields {
		if _, ok := doc[f]; ok {
			bad.Add(f, "belongs to another topic's body, not to %s", topic)
		}
	}
}
