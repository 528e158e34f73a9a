package shopify

import "testing"

func TestCheckShopDomain(t *testing.T) {
	tests := []struct {
		name, configured, header string
		ok                       bool
	}{
		{"not configured accepts any", "", "other.myshopify.com", true},
		{"same shop", "tsubaki-chaen.myshopify.com", "tsubaki-chaen.myshopify.com", true},
		{"case and space", "tsubaki-chaen.myshopify.com", " Tsubaki-Chaen.myshopify.com ", true},
		{"missing header", "tsubaki-chaen.myshopify.com", "", false},
		{"other shop", "tsubaki-chaen.myshopify.com", "evil.myshopify.com", false},
		{"suffix trick", "tsubaki-chaen.myshopify.com", "tsubaki-chaen.myshopify.com.evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckShopDomain(tt.configured, tt.header); (err == nil) != tt.ok {
				t.Errorf("CheckShopDomain(%q, %q) = %v, want ok %v", tt.configured, tt.header, err, tt.ok)
			}
		})
	}
}
