package signature

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzNow is the time fuzzed verifications happen at.
var fuzzNow = time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)

// checkVerifyError fails unless err is one of the documented verification
// errors (all of them mean 401).
func checkVerifyError(t *testing.T, op string, err error) {
	t.Helper()
	for _, want := range []error{ErrMissing, ErrMalformed, ErrStale, ErrMismatch} {
		if errors.Is(err, want) {
			return
		}
	}
	t.Fatalf("%s = %v, not a documented verification error", op, err)
}

// flip returns b with bit n%8 of byte n/8 changed.
func flip(b []byte, n int) []byte {
	out := append([]byte(nil), b...)
	out[n/8] ^= 1 << (n % 8)
	return out
}

// FuzzVerifyTsunagu checks X-Tsunagu-Signature verification. On arbitrary
// headers it never panics, returns only the documented errors, and accepts
// only a header that carries the MAC of its own timestamp and the body. A
// signature made with SignTsunagu within the tolerance verifies; with one
// bit of the body flipped, one bit of the header flipped (other than the
// case of a hex letter) or another secret, it does not.
func FuzzVerifyTsunagu(f *testing.F) {
	body := []byte(`{"id":"evt-1"}`)
	good := SignTsunagu("dev-secret", fuzzNow, body)
	mac := strings.Repeat("ab", 32)
	for _, h := range []string{good, good + ",v1=" + strings.Repeat("0", 64), "", " ", "hello", "t=1763685000", "t=1763685000,v1=zz", "t=,v1=", "v1=" + mac,
		"t=-9223372036854775808,v1=" + mac, "t=9223372036854775807,v1=" + mac, " t=1763685000 , v1=" + strings.ToUpper(mac), "t=1,t=2,v1=,", "t=+1763685000,v1=" + mac} {
		f.Add("dev-secret", h, body, int64(0))
	}
	f.Add("", "", []byte{}, int64(-299))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte, skew int64) {
		if err := VerifyTsunagu(secret, header, body, fuzzNow); err != nil {
			checkVerifyError(t, "VerifyTsunagu", err)
		} else if want := hex.EncodeToString(tsunaguMAC(secret, lastTimestamp(header), body)); !strings.Contains(strings.ToLower(header), want) {
			t.Fatalf("VerifyTsunagu accepted %q, which does not carry the MAC %s", header, want)
		}

		at := fuzzNow.Add(time.Duration(skew%int64(Tolerance/time.Second)) * time.Second)
		sig := SignTsunagu(secret, at, body)
		if err := VerifyTsunagu(secret, sig, body, fuzzNow); err != nil {
			t.Fatalf("a signature made %s ago does not verify: %v", fuzzNow.Sub(at), err)
		}
		for _, i := range []int{0, len(body) / 2, len(body) - 1} {
			if len(body) > 0 {
				if err := VerifyTsunagu(secret, sig, flip(body, 8*i), fuzzNow); !errors.Is(err, ErrMismatch) {
					t.Fatalf("body with byte %d changed: %v, want a mismatch", i, err)
				}
			}
		}
		for i := range len(sig) * 8 {
			flipped := string(flip([]byte(sig), i))
			if VerifyTsunagu(secret, flipped, body, fuzzNow) == nil && strings.ToLower(flipped) != strings.ToLower(sig) {
				t.Fatalf("header %q, one bit changed from %q, verified", flipped, sig)
			}
		}
		if VerifyTsunagu(secret+"x", sig, body, fuzzNow) == nil {
			t.Fatal("a signature verified with another secret")
		}
	})
}

// lastTimestamp is the raw t= value VerifyTsunagu signs with: the last one.
func lastTimestamp(header string) string {
	ts := ""
	for _, part := range strings.Split(header, ",") {
		if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "t" {
			ts = v
		}
	}
	return ts
}

// FuzzVerifyShopify checks X-Shopify-Hmac-Sha256 verification: arbitrary
// headers never panic, give only the documented errors and pass only when
// they decode to the body's MAC; a SignShopify signature verifies, and not
// with one bit of the body or of the MAC changed, or another secret.
func FuzzVerifyShopify(f *testing.F) {
	body := []byte(`{"id":820982911946154508}`)
	for _, h := range []string{SignShopify("shpss_secret", body), "", "%%%", "AAAA", " " + SignShopify("shpss_secret", body) + "\n", strings.Repeat("A", 43) + "=", strings.Repeat("A", 44)} {
		f.Add("shpss_secret", h, body)
	}
	f.Fuzz(func(t *testing.T, secret, header string, body []byte) {
		if err := VerifyShopify(secret, header, body); err != nil {
			checkVerifyError(t, "VerifyShopify", err)
		} else if got, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(header)); string(got) != string(Sum(secret, body)) {
			t.Fatalf("VerifyShopify accepted %q, which is not the body's MAC", header)
		}
		mac := Sum(secret, body)
		sig := SignShopify(secret, body)
		if err := VerifyShopify(secret, sig, body); err != nil {
			t.Fatalf("a fresh signature does not verify: %v", err)
		}
		if len(body) > 0 {
			if err := VerifyShopify(secret, sig, flip(body, 8*(len(body)/2))); !errors.Is(err, ErrMismatch) {
				t.Fatalf("body changed: %v, want a mismatch", err)
			}
		}
		for i := range len(mac) * 8 {
			if err := VerifyShopify(secret, base64.StdEncoding.EncodeToString(flip(mac, i)), body); !errors.Is(err, ErrMismatch) {
				t.Fatalf("MAC with bit %d changed: %v, want a mismatch", i, err)
			}
		}
		if VerifyShopify(secret+"x", sig, body) == nil {
			t.Fatal("a signature verified with another secret")
		}
	})
}

// FuzzVerifyOrder checks the thank-you page signature of an order id:
// arbitrary signatures never panic, give only the documented errors and
// pass only as the id's MAC; SignOrder's signature verifies, and not for
// another id, with one bit changed, or with another secret.
func FuzzVerifyOrder(f *testing.F) {
	for _, s := range []string{SignOrder("dev-secret", "1001"), "", "zz", SignOrder("dev-secret", "1001")[:32], strings.ToUpper(SignOrder("dev-secret", "1001")), " " + SignOrder("dev-secret", "1001")} {
		f.Add("dev-secret", "1001", s)
	}
	f.Add("dev-secret", "../etc/passwd", "")
	f.Fuzz(func(t *testing.T, secret, orderID, sig string) {
		if err := VerifyOrder(secret, orderID, sig); err != nil {
			checkVerifyError(t, "VerifyOrder", err)
		} else if got, _ := hex.DecodeString(sig); string(got) != string(Sum(secret, []byte(orderID))) {
			t.Fatalf("VerifyOrder accepted %q for %q, which is not its MAC", sig, orderID)
		}
		good := SignOrder(secret, orderID)
		if err := VerifyOrder(secret, orderID, good); err != nil {
			t.Fatalf("a fresh signature does not verify: %v", err)
		}
		if VerifyOrder(secret, orderID+"x", good) == nil {
			t.Fatal("a signature verified for another order id")
		}
		if VerifyOrder(secret+"x", orderID, good) == nil {
			t.Fatal("a signature verified with another secret")
		}
		for i := range len(good) * 8 {
			if flipped := string(flip([]byte(good), i)); VerifyOrder(secret, orderID, flipped) == nil && strings.ToLower(flipped) != good {
				t.Fatalf("signature %q, one bit changed, verified", flipped)
			}
		}
	})
}
