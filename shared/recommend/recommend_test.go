package recommend

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func shippedRules(t *testing.T) *rules.Set {
	t.Helper()
	set, err := rules.Load(filepath.Join("..", "..", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func yokanOrder() order.Order {
	return order.Order{ID: "1", Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", Quantity: 2}}}
}

func TestCandidates(t *testing.T) {
	set := shippedRules(t)
	cat := store.Catalog{
		Categories: map[string][]string{"tea": {"TEA-SENCHA", "TEA-GYOKURO"}, "teaware": {"TEAWARE-KYUSU", "TEAWARE-YUNOMI"}},
		Affinity:   map[string]map[string]int{"SWEET-YOKAN": {"SWEET-MONAKA": 5, "TEA-HOJICHA": 9, "SWEET-YOKAN": 3}},
	}
	got := Candidates(set, yokanOrder(), cat)
	// Marketer's product targets, then their category targets' products,
	// then affinity by count; never the yokan itself.
	want := "[TEA-SENCHA TEAWARE-KYUSU TEA-GYOKURO TEAWARE-YUNOMI TEA-HOJICHA SWEET-MONAKA]"
	if fmt.Sprint(got) != want {
		t.Errorf("Candidates = %v, want %s", got, want)
	}
	products := map[string]store.Product{
		"TEA-SENCHA": {SKU: "TEA-SENCHA", InStock: false}, "TEAWARE-KYUSU": {SKU: "TEAWARE-KYUSU", InStock: true},
		"TEA-GYOKURO": {SKU: "TEA-GYOKURO", InStock: true}, "TEA-HOJICHA": {SKU: "TEA-HOJICHA", InStock: true},
	}
	var picked []string
	for _, p := range Pick(got, products, 2) {
		picked = append(picked, p.SKU)
	}
	if fmt.Sprint(picked) != "[TEAWARE-KYUSU TEA-GYOKURO]" {
		t.Errorf("Pick = %v, want in-stock, in candidate order", picked)
	}
}

func TestPairs(t *testing.T) {
	o := order.Order{Items: []order.Item{{SKU: "A"}, {SKU: "B"}}}
	got := Pairs(o, []string{"X", "A"})
	for k := range got {
		sort.Strings(got[k])
	}
	want := map[string][]string{"A": {"B"}, "B": {"A"}, "X": {"A", "B"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Pairs = %v, want %v (together both ways; earlier X to each)", got, want)
	}
}

func TestTargetsAndFill(t *testing.T) {
	set := shippedRules(t)
	o := order.Order{Items: []order.Item{{SKU: "SWEET-YOKAN", Category: "sweets"}, {SKU: "MYSTERY"}}}
	q := Targets(set, o)
	if fmt.Sprint(q.Products) != "[SWEET-YOKAN MYSTERY]" || fmt.Sprint(q.Categories) != "[tea teaware]" {
		t.Errorf("Targets = %+v", q)
	}
	FillFromCatalog(&o, map[string]store.Product{"MYSTERY": {Category: "tea", Brand: "椿茶園"}})
	if o.Items[1].Category != "tea" || o.Items[1].Brand != "椿茶園" || o.Items[0].Category != "sweets" {
		t.Errorf("filled = %+v", o.Items)
	}
}
