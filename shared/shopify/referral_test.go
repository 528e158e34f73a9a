package shopify

import "testing"

func TestRefParameter(t *testing.T) {
	tests := []struct{ name, landing, want string }{
		{"a path with the link's parameter", "/?ref=REF-A4WCE-0P8G4", "REF-A4WCE-0P8G4"},
		{"among others", "/products/sencha?utm_source=line&ref=REF-A4WCE-0P8G4&fbclid=x", "REF-A4WCE-0P8G4"},
		{"a full URL", "https://tsubaki-chaen.example.jp/pages/welcome?ref=REF-A4WCE-0P8G4", "REF-A4WCE-0P8G4"},
		{"escaped", "/?ref=REF%2DA4WCE%2D0P8G4", "REF-A4WCE-0P8G4"},
		{"none (a real body's landing site)", "/products/hajj-signature-prayer-robe-forest-blue?variant=32806537658431&utm_source=IGShopping&utm_medium=Social", ""},
		{"not a URL", "%zz", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refParameter(tt.landing); got != tt.want {
				t.Errorf("refParameter(%q) = %q, want %q", tt.landing, got, tt.want)
			}
		})
	}
}
