package httpapi

import "testing"

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://Shop.Example.jp:443/", "http://localhost:8080"}
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://shop.example.jp", true},
		{"HTTPS://SHOP.EXAMPLE.JP", true},
		{"http://localhost:8080", true},
		{"http://localhost:8081", false},
		{"https://shop.example.jp.evil.example", false},
		{"http://shop.example.jp", false},
		{"null", false},
		{"", false},
		{"https://user@shop.example.jp", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			if got := OriginAllowed(allowed, tt.origin); got != tt.want {
				t.Errorf("OriginAllowed(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}
