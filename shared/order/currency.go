package order

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// iso4217ListOne is ISO 4217's own table of current currencies and funds
// ("list one", as SIX, the maintenance agency, publishes it), vendored with
// its provenance in iso4217/PROVENANCE. It is the authority on minor units:
// CLDR's rounding data (golang.org/x/text/currency), used before, gives 0
// digits for COP, IDR and other currencies whose prices shops write with
// two, and refused "1234.50" in them.
//
//go:embed iso4217/list-one.xml
var iso4217ListOne []byte

// minorUnits maps each ISO 4217 code with a minor unit to its number of
// decimal digits (JPY 0, USD 2, BHD 3, CLF 4). Codes listed with "N.A."
// (gold, SDR, the test and "no currency" codes) are not there: no price
// is written in them.
var minorUnits = minorUnitsByCode(ISO4217Entries())

// ISO4217 is one entry of ISO 4217 list one.
type ISO4217 struct {
	Code string `xml:"Ccy"`
	// MinorUnits is the number of decimal digits, or "N.A.".
	MinorUnits string `xml:"CcyMnrUnts"`
}

// ISO4217Entries returns every entry of the vendored ISO 4217 list one
// that names a currency code, in the list's order (a code appears once per
// country that uses it).
func ISO4217Entries() []ISO4217 {
	var doc struct {
		Entries []ISO4217 `xml:"CcyTbl>CcyNtry"`
	}
	if err := xml.Unmarshal(iso4217ListOne, &doc); err != nil {
		panic(fmt.Sprintf("parse embedded ISO 4217 list one: %v", err))
	}
	out := doc.Entries[:0]
	for _, e := range doc.Entries {
		if e.Code != "" {
			out = append(out, e)
		}
	}
	return out
}

func minorUnitsByCode(entries []ISO4217) map[string]int {
	m := map[string]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.MinorUnits)
		if err != nil {
			continue // N.A.
		}
		if prev, ok := m[e.Code]; ok && prev != n {
			panic(fmt.Sprintf("ISO 4217 list one gives %s both %d and %d minor units", e.Code, prev, n))
		}
		m[e.Code] = n
	}
	return m
}

// CurrencyScale returns the number of minor-unit digits ISO 4217 gives a
// currency code (JPY 0, USD 2, COP 2, BHD 3), or an error naming the code
// when it is not a current currency with a minor unit.
func CurrencyScale(code string) (int, error) {
	n, ok := minorUnits[code]
	if !ok {
		if _, lower := minorUnits[strings.ToUpper(code)]; lower {
			return 0, fmt.Errorf("%q is not an ISO 4217 currency code (write it in capitals: %s)", code, strings.ToUpper(code))
		}
		return 0, fmt.Errorf("%q is not an ISO 4217 currency code", code)
	}
	return n, nil
}
