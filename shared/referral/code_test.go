package referral

import (
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

func TestCode(t *testing.T) {
	c, _ := NewCoder("dev-secret")
	code := c.Code("c-1")
	if len(code) != len("REF-XXXXX-XXXXX") || code != c.Code("c-1") || code == c.Code("c-2") {
		t.Fatalf("Code(c-1) = %q; want REF-XXXXX-XXXXX, stable, unlike c-2's %q", code, c.Code("c-2"))
	}
	other, _ := NewCoder("another-secret")
	if other.Code("c-1") == code {
		t.Error("the code does not depend on the secret")
	}
	if _, err := NewCoder(""); err == nil {
		t.Error("NewCoder accepted an empty secret")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"as printed", "REF-A4WCE-0P8G4", "REF-A4WCE-0P8G4"},
		{"typed in lower case without hyphens", " ref a4wce 0p8g4 ", "REF-A4WCE-0P8G4"},
		{"full-width, as a Japanese keyboard types it", "ＲＥＦ－Ａ４ＷＣＥ－０Ｐ８Ｇ４", "REF-A4WCE-0P8G4"},
		{"O for 0, I and L for 1", "REF-A4WCE-OP8G4", "REF-A4WCE-0P8G4"},
		{"a letter Crockford leaves out", "REF-A4WCE-UP8G4", ""},
		{"too short", "REF-A4WCE-0P8G", ""},
		{"a coupon code", "TSN-ABCD-EFGH-JKMN", ""},
		{"the shop's own code", "WELCOME10", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCodeIn(t *testing.T) {
	tests := []struct {
		name string
		o    order.Order
		want string
	}{
		{"referral_code", order.Order{ReferralCode: "ref-a4wce-0p8g4"}, "REF-A4WCE-0P8G4"},
		{"among discount codes", order.Order{CouponCodes: []string{"WELCOME10", "REF-A4WCE-0P8G4"}}, "REF-A4WCE-0P8G4"},
		{"the referral_code first", order.Order{ReferralCode: "REF-A4WCE-0P8G4", CouponCodes: []string{"REF-B4WCE-0P8G4"}}, "REF-A4WCE-0P8G4"},
		{"none", order.Order{CouponCodes: []string{"WELCOME10"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeIn(tt.o); got != tt.want {
				t.Errorf("CodeIn = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMarksNormalise(t *testing.T) {
	c, _ := NewCoder("dev-secret")
	same := []struct {
		name, kind, a, b string
	}{
		{"email case and spaces", MarkEmail, " Misaki@Example.JP ", "misaki@example.jp"},
		{"email +tag", MarkEmail, "misaki+friend@example.jp", "misaki@example.jp"},
		{"gmail dots", MarkEmail, "mi.sa.ki@gmail.com", "misaki@googlemail.com"},
		{"phone +81", MarkPhone, "+81 90-1234-5678", "090-1234-5678"},
		{"phone 0081 and full-width", MarkPhone, "００８１９０１２３４５６７８", "09012345678"},
		{"phone +81 with the 0 kept", MarkPhone, "+81 (0)90 1234 5678", "09012345678"},
		{"address width, spaces and dashes", MarkAddress, "東京都 渋谷区 神南１－２－３　椿ビル２Ｆ", "東京都渋谷区神南1-2-3椿ビル2f"},
		{"address long-vowel dash", MarkAddress, "神南1ー2ー3", "神南1-2-3"},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if c.Mark(tt.kind, tt.a) != c.Mark(tt.kind, tt.b) || c.Mark(tt.kind, tt.a) == "" {
				t.Errorf("%q and %q marked differently", tt.a, tt.b)
			}
		})
	}
	if c.Mark(MarkPhone, "+1 415 555 0100") == c.Mark(MarkPhone, "415 555 0100") {
		t.Error("a US number with its country code taken for a domestic one")
	}
	if c.Mark(MarkEmail, "a@example.jp") == c.Mark(MarkPhone, "a@example.jp") {
		t.Error("marks of different kinds collide")
	}
}
