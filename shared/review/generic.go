package review

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// fields reads a parsed JSON object field by field, noting every bad one.
type fields struct {
	doc    map[string]any
	prefix string
	bad    *order.InvalidError
}

func (f fields) name(k string) string { return f.prefix + k }

// str reads a string field; required fields must be present and not blank.
// A JSON null is absent.
func (f fields) str(k string, required bool, maxLen int) string {
	v, ok := f.doc[k]
	if !ok || v == nil {
		if required {
			f.bad.Add(f.name(k), "is required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.bad.Add(f.name(k), "must be a string, got %s", jsonType(v))
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		f.bad.Add(f.name(k), "must not be empty")
	}
	if maxLen > 0 && len([]rune(s)) > maxLen {
		f.bad.Add(f.name(k), "must be at most %d characters, got %d", maxLen, len([]rune(s)))
	}
	return s
}

// ident reads an id field: a string as str does, without control
// characters, trimmed.
func (f fields) ident(k string, required bool) string {
	s := strings.TrimSpace(f.str(k, required, MaxID))
	if strings.ContainsFunc(s, unicode.IsControl) {
		f.bad.Add(f.name(k), "must not contain control characters")
		return ""
	}
	return s
}

// boolean reads a required true/false field.
func (f fields) boolean(k string) bool {
	v, ok := f.doc[k]
	if !ok {
		f.bad.Add(f.name(k), "is required")
		return false
	}
	b, ok := v.(bool)
	if !ok {
		f.bad.Add(f.name(k), "must be true or false, got %s", jsonType(v))
	}
	return b
}

// rating reads a required whole number from 1 to 5.
func (f fields) rating(k string) int {
	v, ok := f.doc[k]
	if !ok {
		f.bad.Add(f.name(k), "is required")
		return 0
	}
	n, ok := v.(json.Number)
	if !ok {
		f.bad.Add(f.name(k), "must be a whole number from 1 to 5, got %s", jsonType(v))
		return 0
	}
	i, err := n.Int64()
	if err != nil || i < 1 || i > 5 {
		f.bad.Add(f.name(k), "must be a whole number from 1 to 5, got %s", n)
		return 0
	}
	return int(i)
}

// jsonType names the JSON type of a parsed value, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// DecodeGeneric parses and checks a body of tsunagu's review webhook
// (POST /webhooks/reviews):
//
//	{"id": "r-1", "order_id": "1001", "customer_id": "c-1", "sku": "SWEET-YOKAN",
//	 "rating": 5, "title": "...", "text": "...", "author": "美咲",
//	 "verified": true, "published": true, "created_at": "2026-11-28T10:00:00+09:00"}
//
// id is the review's id at the shop (a delivery of the same id again is a
// duplicate); customer_id, title, text, author and created_at are
// optional (without created_at the review dates from receivedAt). Unknown
// fields are ignored. A bad body returns an *order.InvalidError naming
// every bad field; text over its limit is refused, never cut.
func DecodeGeneric(body []byte, receivedAt time.Time) (Review, error) {
	doc, err := order.ParseJSONObject(body)
	if err != nil {
		return Review{}, err
	}
	bad := &order.InvalidError{}
	f := fields{doc: doc, bad: bad}
	r := Review{Source: SourceGeneric}
	r.ID = f.ident("id", true)
	r.OrderID = f.ident("order_id", true)
	r.CustomerID = f.ident("customer_id", false)
	r.SKU = f.ident("sku", true)
	r.Rating = f.rating("rating")
	r.Title = order.CleanText(f.str("title", false, 0))
	r.Text = cleanText(f.str("text", false, 0))
	r.Author = order.CleanText(f.str("author", false, 0))
	r.Verified = f.boolean("verified")
	r.Published = f.boolean("published")
	r.CreatedAt = receivedAt.UTC()
	if s := f.str("created_at", false, 0); s != "" {
		r.CreatedAt = order.ParseTime(bad, "created_at", s)
	}
	checkLengths(bad, r, "title", "text", "author")
	if err := bad.OrNil(); err != nil {
		return Review{}, err
	}
	return r, nil
}
