package httpapi

import "testing"

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://Shop.Example.jp:443/", "http://localhost:8080"}
	tests := []struct {
		name, origin string
		want         bool
	}{
		{"as a browser sends it", "https://shop.example.jp", true},
		{"in capitals", "HTTPS://SHOP.EXAMPLE.JP", true},
		{"with its port", "http://localhost:8080", true},
		{"another port", "http://localhost:8081", false},
		{"a longer host", "https://shop.example.jp.evil.example", false},
		{"another scheme", "http://shop.example.jp", false},
		{"null", "null", false},
		{"none", "", false},
		{"with a user", "https://user@shop.example.jp", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OriginAllowed(allowed, tt.origin); got != tt.want {
				t.Errorf("OriginAllowed(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}
