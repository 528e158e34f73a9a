package order

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecodeGeneric feeds arbitrary bodies to the generic webhook decoder.
// It must never panic; what it refuses comes back as an *InvalidError
// naming at least one field; what it accepts keeps every promise of the
// JSON Schema, and decodes again, from its own re-encoding, to the same
// event (so a stored event can always be told again).
func FuzzDecodeGeneric(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "..", "events", "bodies", "generic-*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range append(seeds, filepath.Join("testdata", "created.json")) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"id":`,
		`{"id":"e","type":"order.cancelled","occurred_at":"2026-11-22T10:00:00Z","order":{"id":"1001"}}`,
		`{"id":"e","type":"order.created","occurred_at":"2026-11-21T09:30:00.123456789+09:00","order":{"id":"1","currency":"USD","total":5999,"placed_at":"2026-11-20T23:59:59-05:00",` +
			`"customer":{"id":"c","email":"a@example.jp","name":null,"accepts_marketing":false,"consent_source":"pos","consent_at":"2026-01-01T00:00:00Z","line_user_id":"U0123456789abcdef0123456789abcdef","birthday":"1990-02-29"},` +
			`"items":[{"sku":"S","name":"n","category":null,"brand":"b","price":0,"quantity":100000}],"coupon_codes":["TSN-ABCD-EFGH-JKMN"]}}`,
		// Keys that differ from the schema's only in case: encoding/json
		// matches them, the schema does not.
		`{"id":"e","type":"order.created","Type":"order.created","occurred_at":"2026-11-21T09:30:00Z","order":{"id":"1","currency":"JPY","total":100,"Total":200,` +
			`"customer":{"id":"c"},"items":[{"sku":"S","name":"n","price":100,"Price":50,"quantity":1,"QUANTITY":2}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeGeneric(body)
		if err != nil {
			var bad *InvalidError
			if !errors.As(err, &bad) || len(bad.Fields) == 0 {
				t.Fatalf("DecodeGeneric error = %v (%T), want an *InvalidError naming a field", err, err)
			}
			return
		}
		checkAccepted(t, ev)
		again, err := DecodeGeneric(encodeGeneric(t, ev))
		if err != nil {
			t.Fatalf("the re-encoded event does not decode: %v\nevent: %+v", err, ev)
		}
		if !reflect.DeepEqual(again, ev) {
			t.Fatalf("re-encoded event decodes differently:\n got %+v\nwant %+v", again, ev)
		}
	})
}

var (
	lineUserIDPattern = regexp.MustCompile(`^U[0-9a-f]{32}$`)
	monthDayPattern   = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
)

// checkAccepted checks an accepted event against the schema's promises.
func checkAccepted(t *testing.T, ev Event) {
	t.Helper()
	length := func(field, s string, min, max int) {
		if n := utf8.RuneCountInString(s); n < min || n > max {
			t.Errorf("accepted %s of %d characters, schema allows %d to %d", field, n, min, max)
		}
	}
	inYears := func(field string, at time.Time) {
		if y := at.UTC().Year(); y < 0 || y > 9999 {
			t.Errorf("accepted %s in year %d: it cannot be stored and read back as RFC 3339", field, y)
		}
	}
	o := ev.Order
	if ev.Source != SourceGeneric || !ev.Type.Valid() {
		t.Errorf("accepted source %q type %q", ev.Source, ev.Type)
	}
	length("id", ev.DeliveryID, 1, 200)
	length("order.id", o.ID, 1, 200)
	inYears("occurred_at", ev.OccurredAt)
	inYears("order.placed_at", o.PlacedAt)
	if o.Total < 0 {
		t.Errorf("accepted a negative total %d", o.Total)
	}
	if o.Currency != "" {
		if _, err := CurrencyScale(o.Currency); err != nil {
			t.Errorf("accepted currency: %v", err)
		}
	}
	if ev.Type == Created && (!o.HasDetails() || o.Currency == "") {
		t.Errorf("accepted an order.created without currency, customer or items: %+v", o)
	}
	if c := o.Customer; c != nil {
		length("order.customer.id", c.ID, 1, 200)
		if c.LineUserID != "" && !lineUserIDPattern.MatchString(c.LineUserID) {
			t.Errorf("accepted line_user_id %q", c.LineUserID)
		}
		if c.Birthday != "" && !monthDayPattern.MatchString(c.Birthday) {
			t.Errorf("accepted birthday %q", c.Birthday)
		}
		if c.Consent.State != ConsentUnknown {
			inYears("order.customer.consent_at", c.Consent.At)
		}
	}
	if len(o.Items) > 500 || len(o.CouponCodes) > 50 {
		t.Errorf("accepted %d items and %d coupon codes", len(o.Items), len(o.CouponCodes))
	}
	for _, it := range o.Items {
		length("order.items[].sku", it.SKU, 1, 200)
		length("order.items[].name", it.Name, 1, 500)
		if it.UnitPrice < 0 || it.Quantity < 1 || it.Quantity > 100000 {
			t.Errorf("accepted item %+v: price must be at least 0, quantity 1 to 100000", it)
		}
	}
}

// encodeGeneric writes an event back as a generic webhook body, every
// default spelt out.
func encodeGeneric(t *testing.T, ev Event) []byte {
	t.Helper()
	at := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
	o := ev.Order
	wireOrder := map[string]any{"id": o.ID, "total": o.Total, "placed_at": at(o.PlacedAt)}
	if o.Currency != "" {
		wireOrder["currency"] = o.Currency
	}
	if c := o.Customer; c != nil {
		wc := map[string]any{"id": c.ID}
		for k, v := range map[string]string{"email": c.Email, "name": c.Name, "line_user_id": c.LineUserID, "birthday": c.Birthday} {
			if v != "" {
				wc[k] = v
			}
		}
		if c.Consent.State != ConsentUnknown {
			wc["accepts_marketing"] = c.Consent.State == ConsentGranted
			wc["consent_source"] = c.Consent.Source
			if !c.Consent.Standing {
				wc["consent_at"] = at(c.Consent.At)
			}
		}
		wireOrder["customer"] = wc
	}
	if len(o.Items) > 0 {
		items := make([]map[string]any, len(o.Items))
		for i, it := range o.Items {
			items[i] = map[string]any{"sku": it.SKU, "name": it.Name, "price": it.UnitPrice, "quantity": it.Quantity}
			if it.Category != "" {
				items[i]["category"] = it.Category
			}
			if it.Brand != "" {
				items[i]["brand"] = it.Brand
			}
		}
		wireOrder["items"] = items
	}
	if o.CouponCodes != nil {
		wireOrder["coupon_codes"] = o.CouponCodes
	}
	b, err := json.Marshal(map[string]any{"id": ev.DeliveryID, "type": ev.Type, "occurred_at": at(ev.OccurredAt), "order": wireOrder})
	if err != nil {
		t.Fatalf("encode event: %v", err)
	}
	return b
}
