package order

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeErasure feeds arbitrary bodies to the generic erasure decoder.
// It must never panic; what it refuses is an *InvalidError naming a field;
// what it accepts names a customer.
func FuzzDecodeErasure(f *testing.F) {
	for _, body := range []string{`{"customer_id": "c-1"}`, `{"customer_id": " "}`, `{"customer_id": 1}`, `[]`, `{"customer_id": "c-1", "extra": {"deep": [1, 2]}}`, "\xff"} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := DecodeErasure(body)
		if err != nil {
			var bad *InvalidError
			if !errors.As(err, &bad) || len(bad.Fields) == 0 {
				t.Fatalf("DecodeErasure error = %v (%T), want an *InvalidError naming a field", err, err)
			}
			return
		}
		if strings.TrimSpace(id) == "" || len(id) > 200*4 {
			t.Errorf("accepted customer id %q", id)
		}
	})
}
