package coupon

import (
	"regexp"
	"testing"
)

func TestCode(t *testing.T) {
	c, err := NewCoder("dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	code := c.Code("next-order-coupon", "order:1001:order.created", "c-1")
	if !regexp.MustCompile(`^TSN-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(code) {
		t.Errorf("code %q has the wrong shape", code)
	}
	if c.Code("next-order-coupon", "order:1001:order.created", "c-1") != code {
		t.Error("the same campaign, trigger and customer must give the same code")
	}
	other, _ := NewCoder("other-secret")
	tests := []struct {
		name string
		code string
	}{
		{name: "other customer", code: c.Code("next-order-coupon", "order:1001:order.created", "c-2")},
		{name: "other trigger", code: c.Code("next-order-coupon", "order:1002:order.created", "c-1")},
		{name: "other campaign", code: c.Code("winback", "order:1001:order.created", "c-1")},
		{name: "other secret", code: other.Code("next-order-coupon", "order:1001:order.created", "c-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == code {
				t.Errorf("code collides with the original: %s", code)
			}
		})
	}
	if got := Normalize(" tsn-" + code[4:8] + " " + code[9:]); got != code {
		t.Errorf("Normalize = %q, want %q", got, code)
	}
}
