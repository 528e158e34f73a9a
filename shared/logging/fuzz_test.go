package logging

import (
	"testing"
	"unicode/utf8"
)

// FuzzMask: Mask never panics, keeps valid UTF-8 valid, masking twice
// changes nothing more, and an address of every form is masked wherever it
// stands between spaces, whatever the rest of the line holds.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "@", `"`, `\"`, `\u`, `\u0040`, "a@b", "x@[", `"a@b"@c.jp`, `{"e":"\"q\"@x.jp"}`, "yaml/v3@v3.0.4", "美咲@例え.jp。"} {
		f.Add(s, s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, before, after string, form uint8) {
		once := Mask(before)
		if utf8.ValidString(before) && !utf8.ValidString(once) {
			t.Fatalf("Mask(%q) = %q, not UTF-8", before, once)
		}
		if twice := Mask(once); twice != once {
			t.Fatalf("Mask(%q) = %q, but Mask of that = %q", before, once, twice)
		}
		a := addressForms[int(form)%len(addressForms)].address
		got := Mask(before + " " + a + " " + after)
		if want := once + " [email] " + Mask(after); got != want {
			t.Fatalf("Mask(%q) = %q, want %q", before+" "+a+" "+after, got, want)
		}
	})
}
