package main

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// FuzzVerifyCustomerSignature checks the shop's customer signature that
// GET /line/link accepts (customer + sig: hex HMAC-SHA256(secret,
// "tsunagu-line-link\n<linkToken>\n<customer id>")), as
// signature.VerifyLineLink verifies it. Whatever the input, it never panics and accepts only a
// signature that hex-decodes to the MAC of that link token and customer.
// The signature made with the secret verifies; it does not with any bit
// of it changed (other than the case of a hex letter), for the link token
// or the customer id with a bit changed (any of their first and last 32
// bytes), under another secret, or for
// any other pair of link token and customer the link route lets through
// (its link tokens have no line break, so the signed text names the pair
// unambiguously).
func FuzzVerifyCustomerSignature(f *testing.F) {
	// The sample request of events/, signed with the local default secret.
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "line-link.json"))
	if err != nil {
		f.Fatal(err)
	}
	var sample events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &sample); err != nil {
		f.Fatal(err)
	}
	q := sample.QueryStringParameters
	if !valid("dev-secret", q["linkToken"], q["customer"], q["sig"]) {
		f.Fatalf("the sample %s does not verify", "events/line-link.json")
	}
	const token = "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY"
	good := signature.SignLineLink(signingSecret, token, "c-9")
	for _, s := range []struct{ secret, linkToken, customerID, sig, otherToken, otherCustomer string }{
		{"dev-secret", q["linkToken"], q["customer"], q["sig"], q["linkToken"], "c-2"},
		{signingSecret, token, "c-9", good, "OtherLinkToken0123456789", "c-9"},
		{signingSecret, token, "c-9", strings.ToUpper(good), token, "c-90"},
		{signingSecret, token, "c-9", good[:62], "", ""},
		{signingSecret, token, "c-9", good + "00", token + "x", "c-9"},
		{signingSecret, token, "c-9", " " + good, token, "c-9"},
		{signingSecret, token, "c-9", "", token, ""},
		{signingSecret, token, "c-9", "zz", "", "c-9"},
		{signingSecret, "", "", "", "", ""},
		// The pairs the signed text cannot tell apart: the link route
		// never lets a link token with a line break through.
		{signingSecret, "a\nb", "c", signature.SignLineLink(signingSecret, "a", "b\nc"), "a", "b\nc"},
		{signingSecret, token, "高橋 美咲\x00\n", "", token, "高橋 美咲"},
	} {
		f.Add(s.secret, s.linkToken, s.customerID, s.sig, s.otherToken, s.otherCustomer)
	}
	f.Fuzz(func(t *testing.T, secret, linkToken, customerID, sig, otherToken, otherCustomer string) {
		mac := signature.Sum(secret, []byte("tsunagu-line-link\n"+linkToken+"\n"+customerID))
		if valid(secret, linkToken, customerID, sig) {
			if got, err := hex.DecodeString(sig); err != nil || !hmac.Equal(got, mac) {
				t.Fatalf("accepted %q for link token %q and customer %q, which is not their MAC", sig, linkToken, customerID)
			}
		}

		good := hex.EncodeToString(mac)
		if !valid(secret, linkToken, customerID, good) {
			t.Fatal("a signature made with the secret does not verify")
		}
		if valid(secret+"x", linkToken, customerID, good) {
			t.Fatal("a signature verified under another secret")
		}
		for i := range len(good) * 8 {
			flipped := string(flipBit([]byte(good), i))
			if valid(secret, linkToken, customerID, flipped) && !strings.EqualFold(flipped, good) {
				t.Fatalf("signature %q, one bit changed from %q, verified", flipped, good)
			}
		}
		for other := range flips(linkToken) {
			if valid(secret, other, customerID, good) {
				t.Fatalf("a signature for link token %q verified for %q", linkToken, other)
			}
		}
		for other := range flips(customerID) {
			if valid(secret, linkToken, other, good) {
				t.Fatalf("a signature for customer %q verified for %q", customerID, other)
			}
		}

		if strings.Contains(linkToken, "\n") && linkTokenPattern.MatchString(linkToken) {
			t.Fatalf("the link route lets link token %q through, whose line break makes the signed text ambiguous", linkToken)
		}
		samePair := otherToken == linkToken && otherCustomer == customerID
		if !samePair && linkTokenPattern.MatchString(linkToken) && linkTokenPattern.MatchString(otherToken) &&
			valid(secret, otherToken, otherCustomer, good) {
			t.Fatalf("a signature for (%q, %q) verified for (%q, %q)", linkToken, customerID, otherToken, otherCustomer)
		}
	})
}

// valid reports whether sig is the customer signature GET /line/link
// accepts for the link token and customer under secret.
func valid(secret, linkToken, customerID, sig string) bool {
	return signature.VerifyLineLink(secret, linkToken, customerID, sig) == nil
}

// flips yields s with one bit changed, for every bit of its first and
// last 32 bytes (all of it when shorter), so long inputs stay fast.
func flips(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range len(s) * 8 {
			if byteAt := i / 8; byteAt >= 32 && byteAt < len(s)-32 {
				continue
			}
			if !yield(string(flipBit([]byte(s), i))) {
				return
			}
		}
	}
}

// flipBit returns b with bit n%8 of byte n/8 changed.
func flipBit(b []byte, n int) []byte {
	out := append([]byte(nil), b...)
	out[n/8] ^= 1 << (n % 8)
	return out
}
