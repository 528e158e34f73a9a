package review

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

const genericBody = `{"id": "r-1", "order_id": "1001", "sku": "SWEET-YOKAN", "rating": 5,
 "title": "上品な甘さ", "text": "家族で\r\nいただきました。\n\nまた買います。", "author": "美咲",
 "verified": true, "published": true, "created_at": "2026-11-28T10:00:00+09:00"}`

var received = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

func TestDecodeGeneric(t *testing.T) {
	want := Review{Source: SourceGeneric, ID: "r-1", OrderID: "1001", SKU: "SWEET-YOKAN", Rating: 5, Title: "上品な甘さ",
		Text: "家族で\nいただきました。\n\nまた買います。", Author: "美咲", Verified: true, Published: true,
		CreatedAt: time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)}
	got, err := DecodeGeneric([]byte(genericBody), received)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeGeneric = %+v, %v\nwant %+v", got, err, want)
	}
	if got.Key() != "generic#r-1" {
		t.Errorf("Key = %q", got.Key())
	}
	minimal, err := DecodeGeneric([]byte(`{"id":"r-2","order_id":"1001","customer_id":"c-1","sku":"TEA","rating":1,"verified":false,"published":false}`), received)
	if err != nil || minimal.CreatedAt != received || minimal.CustomerID != "c-1" || minimal.Text != "" {
		t.Errorf("minimal body = %+v, %v", minimal, err)
	}
}

func TestDecodeGenericRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("あ", n) }
	tests := []struct {
		name, body string
		fields     []string
		message    string
	}{
		{"not JSON", `{`, []string{"body"}, "not valid JSON"},
		{"empty", ``, []string{"body"}, "empty"},
		{"not an object", `[1]`, []string{"body"}, "object"},
		{"nothing", `{}`, []string{"id", "order_id", "sku", "rating", "verified", "published"}, "required"},
		{"every bad field", `{"id":" ","order_id":7,"sku":"","rating":6,"verified":"yes","published":null,"title":false,"created_at":"yesterday"}`,
			[]string{"id", "order_id", "sku", "rating", "title", "verified", "published", "created_at"}, ""},
		{"rating not whole", `{"id":"r","order_id":"1","sku":"s","rating":4.5,"verified":true,"published":true}`, []string{"rating"}, "whole number from 1 to 5"},
		{"text over 5000", `{"id":"r","order_id":"1","sku":"s","rating":4,"verified":true,"published":true,"text":"` + long(MaxText+1) + `"}`, []string{"text"}, "5001 characters; at most 5000"},
		{"title over 200", `{"id":"r","order_id":"1","sku":"s","rating":4,"verified":true,"published":true,"title":"` + long(MaxTitle+1) + `"}`, []string{"title"}, "at most 200"},
		{"author over 100", `{"id":"r","order_id":"1","sku":"s","rating":4,"verified":true,"published":true,"author":"` + long(MaxAuthor+1) + `"}`, []string{"author"}, "at most 100"},
		{"control character in an id", `{"id":"r\u0000","order_id":"1","sku":"s","rating":4,"verified":true,"published":true}`, []string{"id"}, "control"},
		{"key in another case", `{"ID":"r","order_id":"1","sku":"s","rating":4,"verified":true,"published":true}`, []string{"id"}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeGeneric([]byte(tt.body), received)
			var bad *order.InvalidError
			if !errors.As(err, &bad) {
				t.Fatalf("err = %v, want an *InvalidError", err)
			}
			var got []string
			for _, f := range bad.Fields {
				got = append(got, f.Field)
			}
			if !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q does not say %q", err, tt.message)
			}
		})
	}
	// Exactly at the limits is accepted, whole.
	body := `{"id":"r","order_id":"1","sku":"s","rating":4,"verified":true,"published":true,"text":"` + long(MaxText) + `","title":"` + long(MaxTitle) + `"}`
	if r, err := DecodeGeneric([]byte(body), received); err != nil || len([]rune(r.Text)) != MaxText || len([]rune(r.Title)) != MaxTitle {
		t.Errorf("at the limits: %v", err)
	}
}

// TestDecodeJudgemeSamples decodes the documented Judge.me bodies in
// testdata/judgeme (see PROVENANCE there).
func TestDecodeJudgemeSamples(t *testing.T) {
	tests := []struct {
		file string
		want Review
		err  error
	}{
		{file: "pipedream-review-created.json", want: Review{Source: SourceJudgeme, ID: "465077653", CustomerID: "5083214609",
			SKU: "product-8302173290794", Rating: 5, Title: "Nice Product", Text: "Very good product!", Author: "John Doe",
			Published: true, CreatedAt: time.Date(2023, 10, 5, 13, 35, 1, 0, time.UTC)}},
		{file: "mechanic-review-created.json", err: ErrNotProductReview},
		{file: "mechanic-review-updated.json", err: ErrNotProductReview},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "judgeme", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeJudgeme(body)
			if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeJudgeme = %+v, %v\nwant %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestDecodeJudgeme(t *testing.T) {
	body := func(review string) string {
		return `{"event":"review/created","platform":"shopify","shop_domain":"tsubaki.myshopify.com","review":{` + review + `}}`
	}
	const base = `"id":7,"rating":4,"product_external_id":"99","created_at":"2026-11-28T01:00:00Z","reviewer":{"external_id":null,"name":"ゆう"}`
	tests := []struct {
		name, body          string
		published, verified bool
		fields              []string
	}{
		{name: "published stated", body: body(base + `,"published":true,"hidden":false,"verified":"buyer"`), published: true, verified: true},
		{name: "curated, published left out", body: body(base + `,"curated":"ok"`), published: true},
		{name: "awaiting curation", body: body(base + `,"curated":"not-yet"`)},
		{name: "hidden", body: body(base + `,"published":true,"hidden":true`)},
		{name: "not a review event", body: `{"event":"question/created","review":{` + base + `}}`, fields: []string{"event"}},
		{name: "no review", body: `{"event":"review/created"}`, fields: []string{"review"}},
		{name: "bad fields", body: body(`"id":1.5,"rating":0,"product_external_id":"99","created_at":"x","body":"` + strings.Repeat("a", MaxText+1) + `"`),
			fields: []string{"review.id", "review.rating", "review.created_at", "review.body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeJudgeme([]byte(tt.body))
			if tt.fields != nil {
				var bad *order.InvalidError
				if !errors.As(err, &bad) {
					t.Fatalf("err = %v, want an *InvalidError", err)
				}
				var got []string
				for _, f := range bad.Fields {
					got = append(got, f.Field)
				}
				if !reflect.DeepEqual(got, tt.fields) {
					t.Errorf("fields = %v, want %v", got, tt.fields)
				}
				return
			}
			if err != nil || r.Published != tt.published || r.Verified != tt.verified || r.SKU != "product-99" || r.ID != "7" || r.CustomerID != "" || r.Author != "ゆう" {
				t.Errorf("DecodeJudgeme = %+v, %v", r, err)
			}
		})
	}
}
