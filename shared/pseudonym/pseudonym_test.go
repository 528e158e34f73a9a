package pseudonym

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestKeyer(t *testing.T) {
	a, b := New("first-secret-of-at-least-32-bytes!"), New("second-secret-of-at-least-32-byte")
	const addr = "Misaki@Example.jp "
	tests := []struct {
		name  string
		got   string
		other string
		same  bool
	}{
		{"guest id ignores case and space", a.GuestCustomerID(addr), a.GuestCustomerID("misaki@example.jp"), true},
		{"hash ignores case and space", a.AddressHash(addr), a.AddressHash("misaki@example.jp"), true},
		{"guest id depends on the key", a.GuestCustomerID(addr), b.GuestCustomerID(addr), false},
		{"hash depends on the key", a.AddressHash(addr), b.AddressHash(addr), false},
		{"purposes differ", strings.TrimPrefix(a.GuestCustomerID(addr), "guest-"), a.AddressHash(addr)[:24], false},
		{"not the unkeyed hash", a.AddressHash(addr), unkeyed("misaki@example.jp"), false},
		{"addresses differ", a.AddressHash("a@example.jp"), a.AddressHash("b@example.jp"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == tt.other) != tt.same {
				t.Errorf("%q vs %q: same = %v, want %v", tt.got, tt.other, tt.got == tt.other, tt.same)
			}
		})
	}
	if id := a.GuestCustomerID(addr); !strings.HasPrefix(id, "guest-") || len(id) != len("guest-")+24 {
		t.Errorf("guest id %q: want guest- and 24 hex digits", id)
	}
}

func unkeyed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
