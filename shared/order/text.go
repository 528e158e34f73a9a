package order

import (
	"strings"
	"unicode"
)

// CleanText is free text from a shop (a buyer's name, an item's name, a
// vendor, a discount code) as tsunagu keeps it: control characters, line
// and paragraph breaks and bidirectional-text controls replaced by a space,
// runs of spaces collapsed and the ends trimmed (other spaces, such as the
// ideographic space between a Japanese family and given name, are kept). Such text ends up inside
// emails (a name carrying "\r\nBcc: ..." would start a line of its own in
// the text part) and in LINE messages; HTML escaping does not cover either.
func CleanText(s string) string {
	if !strings.ContainsFunc(s, unwanted) && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || unwanted(r) }), " ")
}

// unwanted reports whether r has no place in one line of text: a control
// character (C0, DEL, C1), a line or paragraph separator, or a
// bidirectional embedding, override or isolate, which can make text read
// differently from how it is stored.
func unwanted(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// AddressFields is a postal address as shops send it (Shopify's names;
// the generic webhook's shipping_address uses the same).
type AddressFields struct {
	Zip         *string `json:"zip"`
	CountryCode *string `json:"country_code"`
	Province    *string `json:"province"`
	City        *string `json:"city"`
	Address1    *string `json:"address1"`
	Address2    *string `json:"address2"`
	// Phone is the recipient's telephone number, not part of Line.
	Phone *string `json:"phone"`
}

// Line joins the address's parts, country first, with single spaces.
func (a AddressFields) Line() string {
	var parts []string
	for _, p := range []*string{a.CountryCode, a.Zip, a.Province, a.City, a.Address1, a.Address2} {
		if s := CleanText(deref(p)); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}
