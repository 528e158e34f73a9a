package order

import (
	"strconv"
	"testing"
)

// TestCurrencyScaleFollowsISO4217 checks every code of ISO 4217 list one
// against the minor units the list gives it (CLDR, used before, said 0 for
// COP and IDR, whose shops write two decimals).
func TestCurrencyScaleFollowsISO4217(t *testing.T) {
	entries := ISO4217Entries()
	if len(entries) < 250 {
		t.Fatalf("list one has %d entries, want the whole table", len(entries))
	}
	for _, e := range entries {
		t.Run(e.Code, func(t *testing.T) {
			got, err := CurrencyScale(e.Code)
			want, numeric := strconv.Atoi(e.MinorUnits)
			switch {
			case numeric != nil && err == nil:
				t.Errorf("CurrencyScale(%s) = %d; ISO 4217 gives it no minor unit (%s), so no price is written in it", e.Code, got, e.MinorUnits)
			case numeric == nil && (err != nil || got != want):
				t.Errorf("CurrencyScale(%s) = %d, %v; ISO 4217 says %d", e.Code, got, err, want)
			}
		})
	}
}

func TestCurrencyScale(t *testing.T) {
	tests := []struct {
		name  string
		code  string
		scale int
		ok    bool
	}{
		{name: "yen has no minor unit", code: "JPY", scale: 0, ok: true},
		{name: "Colombian peso has two", code: "COP", scale: 2, ok: true},
		{name: "rupiah has two", code: "IDR", scale: 2, ok: true},
		{name: "dong has none", code: "VND", scale: 0, ok: true},
		{name: "Bahraini dinar has three", code: "BHD", scale: 3, ok: true},
		{name: "unidad de fomento has four", code: "CLF", scale: 4, ok: true},
		{name: "lower case is not a code", code: "usd"},
		{name: "unknown code", code: "XYZ"},
		{name: "gold has no minor unit to price in", code: "XAU"},
		{name: "empty", code: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CurrencyScale(tt.code)
			if (err == nil) != tt.ok || got != tt.scale {
				t.Errorf("CurrencyScale(%q) = %d, %v; want %d ok=%v", tt.code, got, err, tt.scale, tt.ok)
			}
		})
	}
}
