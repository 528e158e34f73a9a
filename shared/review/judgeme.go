package review

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// JudgemeSignatureHeader carries Judge.me's signature of a webhook: the
// hex HMAC-SHA256 of the raw body, keyed with the secret of the OAuth app
// that created the webhook (or the shop's private API token when the
// webhook was created with it).
const JudgemeSignatureHeader = "JUDGEME-HMAC-SHA256"

// ErrNotProductReview is what DecodeJudgeme returns for a review of the
// shop rather than of a product (no product_external_id, or 0): tsunagu
// keeps product reviews only, so such a delivery is accepted and ignored.
var ErrNotProductReview = errors.New("a review of the shop, not of a product")

// DecodeJudgeme parses and checks a Judge.me review webhook body as
// Judge.me sends it (events review/created and review/updated):
//
//	{"event": "review/created", "shop_domain": "...", "platform": "shopify",
//	 "review": {"id": 465077653, "title": "...", "body": "...", "rating": 5,
//	   "product_external_id": 8302173290794, "reviewer": {"external_id": 5083214609, "name": "..."},
//	   "published": true, "hidden": false, "curated": "ok", "verified": "buyer",
//	   "created_at": "2023-10-05T13:35:01+00:00", ...}}
//
// The product is product-<product_external_id> (order.ProductKey); the
// customer is the reviewer's external_id (Shopify's customer id; absent
// for a reviewer who is not a customer); verified means "verified":
// "buyer"; published means "published" (or, when Judge.me leaves it out,
// "curated": "ok") and not "hidden". Judge.me sends no order id. A review
// without a product returns ErrNotProductReview; a bad body an
// *order.InvalidError naming every bad field (as review.title, ...).
func DecodeJudgeme(body []byte) (Review, error) {
	doc, err := order.ParseJSONObject(body)
	if err != nil {
		return Review{}, err
	}
	bad := &order.InvalidError{}
	top := fields{doc: doc, bad: bad}
	if ev := top.str("event", true, MaxID); ev != "" && !strings.HasPrefix(ev, "review/") {
		bad.Add("event", "must be a review event such as review/created, got %q", ev)
	}
	raw, ok := doc["review"].(map[string]any)
	if !ok {
		bad.Add("review", "is required, as an object")
		return Review{}, bad
	}
	f := fields{doc: raw, prefix: "review.", bad: bad}
	r := Review{Source: SourceJudgeme}
	r.ID = f.id("id", true)
	product := f.id("product_external_id", false)
	r.Rating = f.rating("rating")
	r.Title = order.CleanText(f.str("title", false, 0))
	r.Text = cleanText(f.str("body", false, 0))
	r.Verified = f.str("verified", false, MaxID) == "buyer"
	hidden, _ := raw["hidden"].(bool)
	published, stated := raw["published"].(bool)
	if !stated {
		published = f.str("curated", false, MaxID) == "ok"
	}
	r.Published = published && !hidden
	if s := f.str("created_at", true, 0); s != "" {
		r.CreatedAt = order.ParseTime(bad, "review.created_at", s)
	}
	if reviewer, ok := raw["reviewer"].(map[string]any); ok {
		rf := fields{doc: reviewer, prefix: "review.reviewer.", bad: bad}
		r.CustomerID = rf.id("external_id", false)
		r.Author = order.CleanText(rf.str("name", false, 0))
	}
	checkLengths(bad, r, "review.title", "review.body", "review.reviewer.name")
	if err := bad.OrNil(); err != nil {
		return Review{}, err
	}
	if product == "" || product == "0" {
		return Review{}, ErrNotProductReview
	}
	r.SKU = order.ProductKey(product)
	return r, nil
}

// id reads an id Judge.me sends as a JSON number (or a string): its
// decimal digits as written. Absent, null or "" is "".
func (f fields) id(k string, required bool) string {
	switch v := f.doc[k].(type) {
	case json.Number:
		s := v.String()
		if strings.ContainsAny(s, ".eE-+") {
			f.bad.Add(f.name(k), "must be a whole number, got %s", s)
			return ""
		}
		if len(s) > MaxID {
			f.bad.Add(f.name(k), "must be at most %d characters", MaxID)
			return ""
		}
		return s
	case string:
		return f.ident(k, required)
	case nil:
		if required {
			f.bad.Add(f.name(k), "is required")
		}
		return ""
	default:
		f.bad.Add(f.name(k), "must be a number or a string, got %s", jsonType(v))
		return ""
	}
}
