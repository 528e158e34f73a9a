package order

import (
	"slices"
	"testing"
)

func TestItemOtherKeys(t *testing.T) {
	tests := []struct {
		name string
		item Item
		want []string
	}{
		{"a SKU and a product id", Item{SKU: "TEA-MATCHA", ProductID: "632910392"}, []string{"product-632910392"}},
		{"named by its product id alone", Item{SKU: "product-632910392", ProductID: "632910392"}, nil},
		{"no product id (the generic webhook)", Item{SKU: "TEA-MATCHA"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.item.OtherKeys(); !slices.Equal(got, tt.want) {
				t.Errorf("OtherKeys = %v, want %v", got, tt.want)
			}
		})
	}
}
