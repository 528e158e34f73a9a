// Package review is a customer's review of a product as tsunagu keeps it:
// the value, its limits, and the decoders of the bodies reviews arrive in
// (tsunagu's own review webhook, and Judge.me's review webhooks).
package review

import (
	"strings"
	"time"
	"unicode"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// Limits on a review's free text, in characters (Unicode code points). A
// longer field is refused with a message naming it, never cut short.
const (
	MaxTitle  = 200
	MaxText   = 5000
	MaxAuthor = 100
	// MaxID bounds ids (review, order, customer, sku), as order webhooks do.
	MaxID = 200
)

// Sources of reviews: tsunagu's own webhook, and Judge.me's.
const (
	SourceGeneric = "generic"
	SourceJudgeme = "judgeme"
)

// Review is one customer's review of one product.
type Review struct {
	// Source is where the review came from (SourceGeneric, SourceJudgeme)
	// and ID its id there; together they are the review's Key.
	Source string
	ID     string
	// OrderID is the order the review is about, when the source says so.
	OrderID string
	// CustomerID is the shop's customer id of the author, when known: the
	// body's, or the order's customer.
	CustomerID string
	// SKU is the product reviewed, as order lines name it.
	SKU    string
	Rating int // 1 to 5
	// Title, Text and Author are the review as written: Title and Author
	// on one line, Text with its line breaks (other control characters
	// removed). Stored as text; escaped wherever they are shown.
	Title, Text, Author string
	// Verified: the author bought the product (as the source vouches).
	Verified bool
	// Published: the review may be shown; only published reviews count in
	// a product's rating.
	Published bool
	// CreatedAt is when the review was written (UTC).
	CreatedAt time.Time
}

// Key identifies the review across deliveries: source and id.
func (r Review) Key() string { return r.Source + "#" + r.ID }

// cleanText keeps a review's text as written, paragraphs included: line
// breaks become "\n", other control characters and bidirectional-text
// controls are dropped, and the ends are trimmed.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r', r == '\u2028', r == '\u2029':
			return '\n'
		case r == '\t':
			return ' '
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// checkLengths adds to bad every free-text field of r over its limit.
// prefix names the fields as the body does.
func checkLengths(bad *order.InvalidError, r Review, title, text, author string) {
	for _, f := range []struct {
		field, value string
		max          int
	}{{title, r.Title, MaxTitle}, {text, r.Text, MaxText}, {author, r.Author, MaxAuthor}} {
		if n := len([]rune(f.value)); n > f.max {
			bad.Add(f.field, "is %d characters; at most %d are accepted (send it whole and shorter, it is never cut)", n, f.max)
		}
	}
}
