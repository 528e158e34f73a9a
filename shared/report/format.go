package report

import (
	"math"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/width"
)

// ja prints numbers the Japanese way: 1,234,567.
var ja = message.NewPrinter(language.Japanese)

// yen formats an amount of yen (JPY has no minor unit): ¥1,234.
func yen(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v < 0 {
		return "-" + ja.Sprintf("¥%d", int64(math.Round(-v)))
	}
	return ja.Sprintf("¥%d", int64(math.Round(v)))
}

// count formats a count with its counter word: 1,234件, 56人.
func count(n int64, unit string) string { return ja.Sprintf("%d", n) + unit }

// percent formats a rate (0.123) as 12.3%, or 0.12% below 1%.
func percent(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	if math.Abs(r) < 0.01 && r != 0 {
		return ja.Sprintf("%.2f%%", r*100)
	}
	return ja.Sprintf("%.1f%%", r*100)
}

// signed formats a relative change (0.05) as +5.0%.
func signed(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	if r >= 0 {
		return "+" + percent(r)
	}
	return "-" + percent(-r)
}

// points formats a change of rates (0.012) in percentage points: +1.2pt.
func points(d float64) string {
	s := ja.Sprintf("%.1fpt", math.Abs(d)*100)
	if d < 0 {
		return "-" + s
	}
	return "+" + s
}

// about rounds a count to two significant figures, for sentences that
// say "about": 14,651 -> 15,000.
func about(n int64) int64 {
	if n < 100 {
		return n
	}
	scale := int64(math.Pow(10, math.Floor(math.Log10(float64(n)))-1))
	return (n + scale/2) / scale * scale
}

// displayWidth is how many terminal columns s takes: East Asian wide
// and full-width characters take two.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	return w
}

// pad fills s with spaces to n columns (left-aligned, or right-aligned
// with right).
func pad(s string, n int, right bool) string {
	fill := strings.Repeat(" ", max(n-displayWidth(s), 0))
	if right {
		return fill + s
	}
	return s + fill
}
