package logging

import (
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The address forms masked are those that can reach tsunagu: what the
// generic order webhook's schema accepts (JSON Schema format "email": a
// dot-atom or quoted local part, a host name, an IPv4 or IPv6 literal) and
// what Shopify sends without validation (internationalised addresses: a
// Unicode local part, an IDN domain). A domain must be an IPv4 address or
// have a label that is a name (two or more letters of any script, or xn--
// punycode); that keeps module versions (yaml/v3@v3.0.4) and npm packages
// (dynalite@4.0.0) readable. The schema's host name rule also accepts
// digit-only domains (user@1.2.3), which no mail system delivers to and
// which look exactly like those versions: they are not masked.

// maxQuotedLocal bounds the search for a quoted local part's opening quote
// (SMTP allows 64 octets in a local part).
const maxQuotedLocal = 64

// maxLiteral bounds an address literal's length ("[IPv6:...]").
const maxLiteral = 50

// maxDomain bounds a domain's length (DNS allows 253 characters).
const maxDomain = 253

// unit is one character of a log line as a reader of it sees it: a JSON
// or Go escape (\" \\ \uXXXX) counts as the character it stands for, so
// addresses are found inside JSON strings and quoted values as well.
type unit struct {
	start, end int // byte span in the line
	r          rune
	escaped    bool
}

func units(s string) []unit {
	out := make([]unit, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '"', '\\':
				out = append(out, unit{start: i, end: i + 2, r: rune(s[i+1]), escaped: true})
				i += 2
				continue
			case 'u':
				if i+6 <= len(s) {
					if v, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
						out = append(out, unit{start: i, end: i + 6, r: rune(v), escaped: true})
						i += 6
						continue
					}
				}
			}
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		out = append(out, unit{start: i, end: i + n, r: r})
		i += n
	}
	return out
}

// maskAddresses replaces every email address in s with "[email]".
func maskAddresses(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	u := units(s)
	var b strings.Builder
	written, free := 0, 0 // bytes of s copied or masked; first unit not masked
	for at := 0; at < len(u); at++ {
		if u[at].r != '@' || u[at].escaped {
			continue
		}
		first, ok := localStart(u, at, free)
		if !ok {
			continue
		}
		end, ok := domainEnd(u, at+1)
		if !ok {
			continue
		}
		b.WriteString(s[written:u[first].start])
		b.WriteString("[email]")
		written, free, at = u[end-1].end, end, end-1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

// localStart finds the first unit of the local part that ends before the
// @ at index at, looking no further back than lo.
func localStart(u []unit, at, lo int) (int, bool) {
	last := at - 1
	if last < lo {
		return 0, false
	}
	if u[last].r == '"' {
		// A quoted local part: back to the opening quote, written as the
		// closing one is (both escaped inside a JSON string, or neither).
		for i := last - 1; i >= lo && last-i <= maxQuotedLocal+1; i-- {
			if u[i].r == '"' && u[i].escaped == u[last].escaped {
				return i, true
			}
		}
		// No opening quote near: mask from the closing quote, so that at
		// least the domain goes.
		return last, true
	}
	first := at
	for first > lo && isAtext(u[first-1].r) {
		first--
	}
	for first < at && u[first].r == '.' {
		first++
	}
	return first, first < at
}

// domainEnd returns the index one past the domain that starts at from.
func domainEnd(u []unit, from int) (int, bool) {
	if from >= len(u) {
		return 0, false
	}
	if u[from].r == '[' {
		var lit strings.Builder
		for i := from + 1; i < len(u) && i-from <= maxLiteral; i++ {
			if u[i].r == ']' {
				return i + 1, isAddressLiteral(lit.String())
			}
			lit.WriteRune(u[i].r)
		}
		return 0, false
	}
	// The longest run of labels that makes a domain: up to the first
	// empty label, and no longer than a domain can be.
	var labels []string
	var label strings.Builder
	end, named := 0, false
	for i := from; i <= len(u) && i-from <= maxDomain; i++ {
		if i < len(u) && isLabelRune(u[i].r) {
			label.WriteRune(u[i].r)
			continue
		}
		if label.Len() == 0 {
			break
		}
		labels = append(labels, label.String())
		label.Reset()
		named = named || isName(labels[len(labels)-1])
		if named || len(labels) == 4 && isIPv4(strings.Join(labels, ".")) {
			end = i
		}
		if i == len(u) || u[i].r != '.' {
			break
		}
	}
	return end, end > 0
}

func isIPv4(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() != nil && !strings.Contains(s, ":")
}

// isName reports a label that is a name: two or more letters (of any
// script), or an IDN in punycode.
func isName(l string) bool {
	if p, ok := strings.CutPrefix(strings.ToLower(l), "xn--"); ok {
		return p != "" && !strings.ContainsFunc(p, func(r rune) bool { return !isASCIIAlnum(r) && r != '-' })
	}
	return utf8.RuneCountInString(l) >= 2 && !strings.ContainsFunc(l, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) })
}

// isAddressLiteral reports the inside of "[...]": an IPv4 address or
// "IPv6:" and an IPv6 address.
func isAddressLiteral(s string) bool {
	if len(s) > 5 && strings.EqualFold(s[:5], "IPv6:") {
		ip := net.ParseIP(s[5:])
		return ip != nil && strings.Contains(s[5:], ":")
	}
	return isIPv4(s)
}

// isAtext reports a character of an unquoted local part: RFC 5322's atext
// and the dot, and (RFC 6531) letters, marks and digits of any script.
func isAtext(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

// isLabelRune reports a character of a domain label, IDN included.
func isLabelRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || r == '-'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
