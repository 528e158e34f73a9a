package order

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/tsunagu-dev/tsunagu/shared/validation"
)

// WebhookSchema is the JSON Schema of the generic order webhook body, served
// to shops as documentation and used to validate every delivery.
//
//go:embed webhook.schema.json
var WebhookSchema []byte

// SourceGeneric names deliveries to POST /webhooks/orders.
const SourceGeneric = "generic"

var genericSchema = mustCompileSchema(WebhookSchema)

func mustCompileSchema(doc []byte) *jsonschema.Schema {
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		panic(fmt.Sprintf("parse embedded webhook schema: %v", err))
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.RegisterFormat(currencyFormat)
	const url = "mem://order-webhook.json"
	if err := c.AddResource(url, parsed); err != nil {
		panic(fmt.Sprintf("add embedded webhook schema: %v", err))
	}
	return c.MustCompile(url)
}

// currencyFormat is the schema format "iso4217": a currency code the currency
// tables know, so an unknown currency is reported with every other mistake.
var currencyFormat = &jsonschema.Format{
	Name: "iso4217",
	Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := CurrencyScale(s)
		return err
	},
}

// genericWire mirrors the JSON body; the schema has already checked types.
type genericWire struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	OccurredAt string `json:"occurred_at"`
	Order      struct {
		ID       string `json:"id"`
		Currency string `json:"currency"`
		Total    *int64 `json:"total"`
		PlacedAt string `json:"placed_at"`
		Customer *struct {
			ID               string  `json:"id"`
			Email            *string `json:"email"`
			Name             *string `json:"name"`
			AcceptsMarketing *bool   `json:"accepts_marketing"`
			ConsentSource    *string `json:"consent_source"`
			ConsentAt        *string `json:"consent_at"`
			LineUserID       *string `json:"line_user_id"`
			Birthday         *string `json:"birthday"`
			Phone            *string `json:"phone"`
		} `json:"customer"`
		Items []struct {
			SKU      string  `json:"sku"`
			Name     string  `json:"name"`
			Category *string `json:"category"`
			Brand    *string `json:"brand"`
			Price    int64   `json:"price"`
			Quantity int     `json:"quantity"`
		} `json:"items"`
		CouponCodes     []string       `json:"coupon_codes"`
		ReferralCode    *string        `json:"referral_code"`
		ShippingAddress *AddressFields `json:"shipping_address"`
	} `json:"order"`
}

// DecodeGeneric parses and validates a generic order webhook body. A bad body
// returns an *InvalidError naming every bad field.
func DecodeGeneric(body []byte) (Event, error) {
	doc, err := ParseJSONObject(body)
	if err != nil {
		return Event{}, err
	}
	if err := genericSchema.Validate(doc); err != nil {
		return Event{}, schemaFieldErrors(err)
	}
	// encoding/json also takes keys that differ only in case ("Type",
	// "QUANTITY"), which the schema ignores as unknown: refuse them.
	if bad := foldedKeys(doc, ""); len(bad.Fields) > 0 {
		return Event{}, bad
	}
	var w genericWire
	if err := json.Unmarshal(body, &w); err != nil {
		return Event{}, &InvalidError{Fields: []FieldError{{Field: "body", Message: err.Error()}}}
	}

	bad := &InvalidError{}
	ev := Event{DeliveryID: w.ID, Source: SourceGeneric, Type: EventType(w.Type)}
	ev.OccurredAt = ParseTime(bad, "occurred_at", w.OccurredAt)
	o := &ev.Order
	o.ID = w.Order.ID
	o.Currency = w.Order.Currency
	if w.Order.Total != nil {
		o.Total = *w.Order.Total
	}
	o.PlacedAt = ev.OccurredAt
	if w.Order.PlacedAt != "" {
		o.PlacedAt = ParseTime(bad, "order.placed_at", w.Order.PlacedAt)
	}
	if c := w.Order.Customer; c != nil {
		o.Customer = &Customer{ID: c.ID, Email: deref(c.Email), Name: CleanText(deref(c.Name)), LineUserID: deref(c.LineUserID), Birthday: birthday(deref(c.Birthday)), Phone: CleanText(deref(c.Phone))}
		if c.AcceptsMarketing != nil {
			consent := Consent{State: ConsentDenied, Source: "webhook:generic", At: ev.OccurredAt, Standing: c.ConsentAt == nil}
			if *c.AcceptsMarketing {
				consent.State = ConsentGranted
			}
			if s := deref(c.ConsentSource); s != "" {
				consent.Source = s
			}
			if c.ConsentAt != nil {
				consent.At = ParseTime(bad, "order.customer.consent_at", *c.ConsentAt)
			}
			o.Customer.Consent = consent
		}
	}
	for _, it := range w.Order.Items {
		o.Items = append(o.Items, Item{SKU: it.SKU, Name: CleanText(it.Name), Category: CleanText(deref(it.Category)), Brand: CleanText(deref(it.Brand)), UnitPrice: it.Price, Quantity: it.Quantity})
	}
	o.Merchandise = ItemsMerchandise(o.Items, o.Total)
	if w.Order.CouponCodes != nil {
		o.CouponCodes = make([]string, len(w.Order.CouponCodes))
		for i, c := range w.Order.CouponCodes {
			o.CouponCodes[i] = CleanText(c)
		}
	}
	o.ReferralCode = CleanText(deref(w.Order.ReferralCode))
	if a := w.Order.ShippingAddress; a != nil {
		o.ShippingAddress = a.Line()
	}
	if err := bad.OrNil(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// ParseJSONObject parses a request body that must be one JSON object in
// UTF-8. Anything else is an *InvalidError naming "body". Numbers come back
// as json.Number, so no integer is silently rounded.
func ParseJSONObject(body []byte) (map[string]any, error) {
	bodyError := func(msg string) error {
		return &InvalidError{Fields: []FieldError{{Field: "body", Message: msg}}}
	}
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return nil, bodyError("is empty; send a JSON object")
	case !utf8.Valid(body):
		return nil, bodyError("is not valid UTF-8")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, bodyError("is not valid JSON: " + err.Error())
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, bodyError("must be a JSON object")
	}
	return obj, nil
}

// wireNames are the JSON names of genericWire's fields, at every level.
var wireNames = jsonNames(reflect.TypeFor[genericWire](), map[string]bool{})

func jsonNames(t reflect.Type, names map[string]bool) map[string]bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return jsonNames(t.Elem(), names)
	case reflect.Struct:
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names[name] = true
			jsonNames(f.Type, names)
		}
	}
	return names
}

// foldedKeys names every key of v, at any depth, that encoding/json would
// take for a field whose name it matches only when case is ignored.
func foldedKeys(v any, path string) *InvalidError {
	bad := &InvalidError{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				at := k
				if path != "" {
					at = path + "." + k
				}
				if name := foldedName(k); !wireNames[k] && name != "" {
					bad.Add(at, "unknown key; the field is %q, in lower case", name)
				}
				walk(child, at)
			}
		case []any:
			for i, child := range v {
				walk(child, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(v, path)
	sort.Slice(bad.Fields, func(i, j int) bool { return bad.Fields[i].Field < bad.Fields[j].Field })
	return bad
}

// foldedName is the field name k matches ignoring case, or "".
func foldedName(k string) string {
	for name := range wireNames {
		if strings.EqualFold(k, name) {
			return name
		}
	}
	return ""
}

// ParseTime reads a webhook's RFC 3339 time as UTC, or adds to bad why
// field's value s is not one: a time that does not parse, or one outside
// the years 0001 to 9999 in UTC, which could be written but not read back.
func ParseTime(bad *InvalidError, field, s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		bad.Add(field, "must be an RFC 3339 time such as 2026-11-21T09:30:00+09:00, got %q", s)
		return time.Time{}
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		bad.Add(field, "must be in the years 0001 to 9999 in UTC, got %q", s)
		return time.Time{}
	}
	return t.UTC()
}

// birthday keeps the month and day of MM-DD or YYYY-MM-DD: that is all a
// birthday campaign needs, and less personal data to hold.
func birthday(s string) string {
	if len(s) == 10 {
		return s[5:]
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// schemaFieldErrors flattens a schema validation error into one FieldError per
// failing leaf, with the JSON path written the way a developer would
// (order.items[0].quantity).
func schemaFieldErrors(err error) error {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return &InvalidError{Fields: []FieldError{{Field: "body", Message: err.Error()}}}
	}
	bad := &InvalidError{}
	seen := map[FieldError]bool{}
	for _, e := range validation.Leaves(verr) {
		var fe []FieldError
		if req, ok := e.ErrorKind.(*kind.Required); ok {
			for _, m := range req.Missing {
				fe = append(fe, FieldError{Field: validation.Field(append(append([]string{}, e.InstanceLocation...), m)), Message: "is required"})
			}
		} else {
			fe = append(fe, FieldError{Field: validation.Field(e.InstanceLocation), Message: validation.Message(e.ErrorKind)})
		}
		for _, f := range fe {
			if !seen[f] {
				seen[f] = true
				bad.Fields = append(bad.Fields, f)
			}
		}
	}
	sort.SliceStable(bad.Fields, func(i, j int) bool { return bad.Fields[i].Field < bad.Fields[j].Field })
	return bad
}
