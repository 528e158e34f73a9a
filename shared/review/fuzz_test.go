package review

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// FuzzDecode feeds arbitrary bodies to both review decoders. They never
// panic; what they refuse is an *order.InvalidError naming a field (or,
// for Judge.me, a review of the shop); what they accept keeps every
// promise of the Review type: an id, a product, a rating from 1 to 5,
// free text within its limits with no control characters but the text's
// line breaks.
func FuzzDecode(f *testing.F) {
	for _, b := range []string{genericBody, `{}`, `[]`, `{"id": 1}`, "\xff", `{"rating": 6.5}`, `{"review": {"id": "x"}}`} {
		f.Add([]byte(b))
	}
	samples, _ := filepath.Glob(filepath.Join("testdata", "judgeme", "*.json"))
	for _, s := range samples {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	received := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeGeneric(body, received)
		check(t, "DecodeGeneric", r, err)
		r, err = DecodeJudgeme(body)
		if errors.Is(err, ErrNotProductReview) {
			return
		}
		check(t, "DecodeJudgeme", r, err)
	})
}

func check(t *testing.T, op string, r Review, err error) {
	t.Helper()
	if err != nil {
		var bad *order.InvalidError
		if !errors.As(err, &bad) || len(bad.Fields) == 0 {
			t.Fatalf("%s error = %v (%T), want an *InvalidError naming a field", op, err, err)
		}
		return
	}
	switch {
	case strings.TrimSpace(r.ID) == "" || strings.TrimSpace(r.SKU) == "":
		t.Fatalf("%s accepted a review without id or product: %+v", op, r)
	case r.Rating < 1 || r.Rating > 5:
		t.Fatalf("%s accepted rating %d", op, r.Rating)
	case len([]rune(r.Title)) > MaxTitle || len([]rune(r.Text)) > MaxText || len([]rune(r.Author)) > MaxAuthor:
		t.Fatalf("%s accepted text over its limits: %d/%d/%d", op, len([]rune(r.Title)), len([]rune(r.Text)), len([]rune(r.Author)))
	case r.CreatedAt.IsZero() || r.CreatedAt.Location() != time.UTC:
		t.Fatalf("%s created_at %v", op, r.CreatedAt)
	}
	for _, s := range []string{r.Title, r.Author, r.ID, r.SKU, r.Text} {
		if strings.ContainsFunc(s, func(c rune) bool { return unicode.IsControl(c) && (c != '\n' || s != r.Text) }) {
			t.Fatalf("%s kept a control character in %q", op, s)
		}
	}
}
