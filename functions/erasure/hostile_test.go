package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// hostileCase is one request and the status it must get.
type hostileCase struct {
	name   string
	req    events.APIGatewayV2HTTPRequest
	status int
}

// injections are hostile strings for the customer id: valid JSON strings,
// so the request is accepted, but they name nobody and erase nothing.
var injections = []string{
	`'; DROP TABLE customers; --`, `" OR "1"="1`, `<script>alert(1)</script>`, `{{.Shop.Name}}`,
	`${jndi:ldap://evil.example/a}`, `../../../../etc/passwd`, `CUSTOMER#c-1`, `c-1#PROFILE`,
	"c-1\u0000", "\u202ec-1", `*`, `%`, `c-%`, "c-1\r\nX: y",
}

// Hostile names the row for testenv.ExpectNoEffect.
func (c hostileCase) Hostile() (string, events.APIGatewayV2HTTPRequest, int) {
	return c.name, c.req, c.status
}

// expectRefusedOrHarmless sends each request to a handler over a table
// holding two customers: every answer has its status and a JSON body, and
// nothing in the table changes.
func expectRefusedOrHarmless(t *testing.T, tests []hostileCase) {
	t.Helper()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	contact := testenv.UniqueEmail(t, "shop")
	h := newHandler(t, table, contact)
	seed(t, st, "c-1", "misaki@example.jp")
	seed(t, st, "191167", "john@example.com")
	testenv.ExpectNoEffect(t, table, h.Handle, tests, testenv.JSONAnswer, testenv.Effects{"notices to the shop": testenv.EmailsTo(contact)})
}

// TestGenericErasureRefusesHostileInput: POST /webhooks/customers/erase.
func TestGenericErasureRefusesHostileInput(t *testing.T) {
	const valid = `{"customer_id": "c-1"}`
	sig := signature.SignTsunagu(secret, now, []byte(valid))
	_, v1, _ := strings.Cut(sig, ",")
	ts := fmt.Sprint(now.Unix())
	signedAt := func(body string, at time.Time) events.APIGatewayV2HTTPRequest {
		return testenv.WithHeader(genericRequest(body), "x-tsunagu-signature", signature.SignTsunagu(secret, at, []byte(body)))
	}
	tests := []hostileCase{
		{"no signature", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", ""), 401},
		{"blank signature", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", " "), 401},
		{"garbage signature", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "hello"), 401},
		{"timestamp only", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts), 401},
		{"mac only", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", v1), 401},
		{"mac not hex", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts+",v1="+strings.Repeat("zz", 32)), 401},
		{"mac truncated", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", sig[:len(sig)-2]), 401},
		{"mac of zeros", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts+",v1="+strings.Repeat("0", 64)), 401},
		{"wrong secret", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu("not-the-secret", now, []byte(valid))), 401},
		{"empty secret", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu("", now, []byte(valid))), 401},
		{"stale by six minutes", signedAt(valid, now.Add(-6*time.Minute)), 401},
		{"from the future", signedAt(valid, now.Add(6*time.Minute)), 401},
		{"timestamp overflows", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t=99999999999999999999,"+v1), 401},
		{"timestamp negative", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t=-1,"+v1), 401},
		{"timestamp zero", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t=0,"+v1), 401},
		{"another scheme's mac", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+ts+",v0="+strings.TrimPrefix(v1, "v1=")), 401},
		{"mac of the body with a newline", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu(secret, now, []byte(valid+"\n"))), 401},
		{"timestamp moved, mac kept", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", "t="+fmt.Sprint(now.Unix()-1)+","+v1), 401},
		{"signature of another customer", testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", signature.SignTsunagu(secret, now, []byte(`{"customer_id": "191167"}`))), 401},
		{"body changed after signing", func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.Body = strings.Replace(r.Body, "c-1", "c-2", 1)
			return r
		}(), 401},
		{"shopify signature instead", testenv.WithHeader(testenv.WithHeader(genericRequest(valid), "x-tsunagu-signature", ""), "x-shopify-hmac-sha256", signature.SignShopify(secret, []byte(valid))), 401},
		{"base64 flag on a plain body", func() events.APIGatewayV2HTTPRequest { r := genericRequest(valid); r.IsBase64Encoded = true; return r }(), 400},
		{"base64 body, signed plain", func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(valid+" ")), true
			return r
		}(), 401},
		{"body over 256 KiB", genericRequest(`{"customer_id": "c-1", "pad": "` + strings.Repeat("x", httpapi.MaxBody) + `"}`), 413},
		{"empty body", genericRequest(""), 400},
		{"whitespace body", genericRequest(" \n\t"), 400},
		{"not JSON", genericRequest("customer_id=c-1"), 400},
		{"truncated JSON", genericRequest(`{"customer_id": "c-1"`), 400},
		{"trailing garbage", genericRequest(valid + `x`), 400},
		{"two objects", genericRequest(valid + valid), 400},
		{"byte order mark first", genericRequest("\ufeff" + valid), 400},
		{"array", genericRequest(`[` + valid + `]`), 400},
		{"string", genericRequest(`"c-1"`), 400},
		{"number", genericRequest(`1`), 400},
		{"null", genericRequest(`null`), 400},
		{"invalid UTF-8", genericRequest("{\"customer_id\": \"c-\xff\"}"), 400},
		{"nested 5000 deep", genericRequest(testenv.NestedJSON(5000)), 400},
		{"nested in the field", genericRequest(`{"customer_id": ` + testenv.NestedJSON(100) + `}`), 400},
		{"no customer id", genericRequest(`{"id": "c-1"}`), 400},
		{"customer id in another case", genericRequest(`{"Customer_ID": "c-1"}`), 400},
		{"customer id empty", genericRequest(`{"customer_id": ""}`), 400},
		{"customer id blank", genericRequest(`{"customer_id": "   "}`), 400},
		{"customer id newline", genericRequest(`{"customer_id": "\n"}`), 400},
		{"customer id number", genericRequest(`{"customer_id": 1}`), 400},
		{"customer id bool", genericRequest(`{"customer_id": true}`), 400},
		{"customer id null", genericRequest(`{"customer_id": null}`), 400},
		{"customer id object", genericRequest(`{"customer_id": {"$ne": ""}}`), 400},
		{"customer id array", genericRequest(`{"customer_id": ["c-1", "191167"]}`), 400},
		{"customer id 201 characters", genericRequest(`{"customer_id": "` + strings.Repeat("c", 201) + `"}`), 400},
		{"customer id 3000 characters", genericRequest(`{"customer_id": "` + strings.Repeat("c", 3000) + `"}`), 400},
		{"unknown route", func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(valid)
			r.RouteKey = "DELETE /webhooks/customers/erase"
			return r
		}(), 404},
	}
	expectRefusedOrHarmless(t, tests)
}

// TestGenericErasureForNobodyKnown: signed erasures of customer ids made
// of injection strings name nobody tsunagu knows: they answer 200 and
// write nothing but the erasure's time for that id.
func TestGenericErasureForNobodyKnown(t *testing.T) {
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	h := newHandler(t, table, testenv.UniqueEmail(t, "shop"))
	seed(t, st, "c-1", "misaki@example.jp")
	for _, s := range injections {
		b, _ := json.Marshal(map[string]string{"customer_id": s})
		t.Run(fmt.Sprintf("%.20q", s), func(t *testing.T) {
			before := testenv.Snapshot(t, table)
			if status, got := do(t, h, genericRequest(string(b))); status != 200 || got.Known {
				t.Errorf("answer %d %+v, want 200 for nobody known", status, got)
			}
			onlyErasureTime(t, testenv.Changed(before, testenv.Snapshot(t, table)))
		})
	}
}

// onlyErasureTime fails for any change but a delivery marker, a profile
// holding only an erasure time (no personal data) and the consent
// withdrawal that goes with it.
func onlyErasureTime(t *testing.T, changed []string) {
	t.Helper()
	for _, c := range changed {
		marker := strings.HasPrefix(c, `+ {"done_at"`) && strings.Contains(c, `"pk":"DELIVERY#shopify-compliance#`)
		tombstone := strings.HasPrefix(c, "+ ") && strings.Contains(c, `"erased_at":"2026`) && !strings.Contains(c, `"email":`) && !strings.Contains(c, `"name":`)
		withdrawn := strings.HasPrefix(c, "+ ") && strings.Contains(c, `"pk":"CONSENT#`) && strings.Contains(c, `"source":"erasure"`)
		if !marker && !tombstone && !withdrawn {
			t.Errorf("changed more than its delivery marker and the erasure's time: %.300s", c)
		}
	}
}

// TestShopifyRedactRefusesHostileInput: POST /webhooks/shopify/customers/redact
// and POST /webhooks/shopify/compliance.
func TestShopifyRedactRefusesHostileInput(t *testing.T) {
	const valid = `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 191167, "email": "john@example.com"}, "orders_to_redact": [299938]}`
	redact := func(body string) events.APIGatewayV2HTTPRequest { return shopifyRequest("customers/redact", body) }
	// with puts fields into an otherwise valid body for nobody known.
	with := func(fields string) events.APIGatewayV2HTTPRequest {
		return redact(`{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", ` + fields + `}`)
	}
	good := signature.SignShopify(secret, []byte(valid))
	tests := []hostileCase{
		{"no hmac", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", ""), 401},
		{"blank hmac", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", " "), 401},
		{"hmac not base64", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", "!!!"), 401},
		{"hmac truncated", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", good[:len(good)-4]), 401},
		{"hmac in hex", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", fmt.Sprintf("%x", signature.Sum(secret, []byte(valid)))), 401},
		{"hmac of zeros", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", base64.StdEncoding.EncodeToString(make([]byte, 32))), 401},
		{"wrong secret", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", signature.SignShopify("not-the-secret", []byte(valid))), 401},
		{"empty secret", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", signature.SignShopify("", []byte(valid))), 401},
		{"hmac of another body", testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", signature.SignShopify(secret, []byte(`{}`))), 401},
		{"body changed after signing", func() events.APIGatewayV2HTTPRequest {
			r := redact(valid)
			r.Body = strings.Replace(r.Body, "191167", "191168", 1)
			return r
		}(), 401},
		{"tsunagu signature instead", testenv.WithHeader(testenv.WithHeader(redact(valid), "x-shopify-hmac-sha256", ""), "x-tsunagu-signature", signature.SignTsunagu(secret, now, []byte(valid))), 401},
		{"compliance route, no hmac", testenv.WithHeader(shopifyRequestTo(complianceRoute, "customers/redact", "wh-1", valid), "x-shopify-hmac-sha256", ""), 401},
		{"no topic", shopifyRequest("", valid), 400},
		{"orders/create", shopifyRequest("orders/create", valid), 400},
		{"customers/data_request on the redact route", shopifyRequest("customers/data_request", valid), 400},
		{"shop/redact on the redact route", shopifyRequest("shop/redact", valid), 400},
		{"a redact body as a data request", shopifyRequestTo(complianceRoute, "customers/data_request", "wh-2", valid), 400},
		{"a redact body as a shop redact", shopifyRequestTo(complianceRoute, "shop/redact", "wh-3", valid), 400},
		{"topic in capitals", shopifyRequest("CUSTOMERS/REDACT", valid), 400},
		{"topic with spaces", shopifyRequest(" customers/redact ", valid), 400},
		{"topic with crlf", shopifyRequest("customers/redact\r\nX: y", valid), 400},
		{"another shop in the header", testenv.WithHeader(redact(valid), "x-shopify-shop-domain", "evil.myshopify.com"), 400},
		{"no shop header", testenv.WithHeader(redact(valid), "x-shopify-shop-domain", ""), 400},
		{"another shop in the body", redact(strings.Replace(valid, "tsubaki-chaen", "evil", 1)), 400},
		{"shop suffix trick in the body", redact(strings.Replace(valid, "myshopify.com", "myshopify.com.evil.example", 1)), 400},
		{"base64 flag on a plain body", func() events.APIGatewayV2HTTPRequest { r := redact(valid); r.IsBase64Encoded = true; return r }(), 400},
		{"body over 256 KiB", redact(`{"customer": {"id": 191167}, "pad": "` + strings.Repeat("x", httpapi.MaxBody) + `"}`), 413},
		{"empty body", redact(""), 400},
		{"not JSON", redact("customer=191167"), 400},
		{"truncated JSON", redact(valid[:40]), 400},
		{"array", redact(`[` + valid + `]`), 400},
		{"string", redact(`"191167"`), 400},
		{"null", redact(`null`), 400},
		{"invalid UTF-8", redact("{\"customer\": {\"email\": \"\xff@example.jp\"}}"), 400},
		{"nested 5000 deep", redact(testenv.NestedJSON(5000)), 400},
		{"no shop", redact(`{"customer": {"id": 191167}, "orders_to_redact": []}`), 400},
		{"shop id a string", redact(`{"shop_id": "954889", "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 191167}, "orders_to_redact": []}`), 400},
		{"no customer", with(`"orders_to_redact": []`), 400},
		{"no orders_to_redact (an order body's shape)", with(`"customer": {"id": 191167, "email": "john@example.com"}`), 400},
		{"customer null", with(`"customer": null, "orders_to_redact": []`), 400},
		{"customer a string", with(`"customer": "191167", "orders_to_redact": []`), 400},
		{"customer an array", with(`"customer": [191167], "orders_to_redact": []`), 400},
		{"customer empty", with(`"customer": {}, "orders_to_redact": []`), 400},
		{"customer phone only", with(`"customer": {"phone": "555-625-1199"}, "orders_to_redact": []`), 400},
		{"customer blank email", with(`"customer": {"email": "  "}, "orders_to_redact": []`), 400},
		{"customer id an object", with(`"customer": {"id": {"$ne": 0}}, "orders_to_redact": []`), 400},
		{"customer id a word", with(`"customer": {"id": "one"}, "orders_to_redact": []`), 400},
		{"customer id an array", with(`"customer": {"id": [191167]}, "orders_to_redact": []`), 400},
		{"customer id true", with(`"customer": {"id": true}, "orders_to_redact": []`), 400},
		{"customer id 3000 digits", with(`"customer": {"id": 1` + strings.Repeat("0", 2999) + `}, "orders_to_redact": []`), 400},
		{"customer id zero", with(`"customer": {"id": 0}, "orders_to_redact": []`), 400},
		{"customer id negative", with(`"customer": {"id": -1}, "orders_to_redact": []`), 400},
		{"customer id a fraction", with(`"customer": {"id": 1.5}, "orders_to_redact": []`), 400},
		{"customer id in exponent form", with(`"customer": {"id": 1e3}, "orders_to_redact": []`), 400},
		{"customer email a number", with(`"customer": {"email": 1}, "orders_to_redact": []`), 400},
		{"orders_to_redact not a list", with(`"customer": {"id": 424242}, "orders_to_redact": 5`), 400},
		{"orders_to_redact of words", with(`"customer": {"id": 424242}, "orders_to_redact": ["a"]`), 400},
		{"a data request's fields in a redact", with(`"customer": {"id": 424242}, "orders_to_redact": [], "data_request": {"id": 1}`), 400},
		{"unknown route", func() events.APIGatewayV2HTTPRequest {
			r := redact(valid)
			r.RouteKey = "POST /webhooks/shopify/customers/delete"
			return r
		}(), 404},
	}
	expectRefusedOrHarmless(t, tests)
}

// TestShopifyRedactForNobodyKnown: valid redacts (and hostile guest
// addresses) that name nobody tsunagu knows answer 200 and write nothing
// but their own delivery marker and the erasure's time for that id (a
// profile with no personal data, and its consent withdrawn in the ledger),
// so that a late order placed before it brings nothing back.
func TestShopifyRedactForNobodyKnown(t *testing.T) {
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	h := newHandler(t, table, testenv.UniqueEmail(t, "shop"))
	seed(t, st, "c-1", "misaki@example.jp")
	seed(t, st, "191167", "john@example.com")
	var bodies []string
	for _, id := range []string{"1", "424242", "99999999999999999999999"} {
		bodies = append(bodies, `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": `+id+`}, "orders_to_redact": [1]}`)
	}
	for _, s := range injections {
		b, _ := json.Marshal(map[string]any{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": map[string]string{"email": s}, "orders_to_redact": []int{}})
		bodies = append(bodies, string(b))
	}
	for _, body := range bodies {
		t.Run(fmt.Sprintf("%.60s", body), func(t *testing.T) {
			before := testenv.Snapshot(t, table)
			if status, got := do(t, h, shopifyRequest("customers/redact", body)); status != 200 || got.Known {
				t.Errorf("answer %d %+v, want 200 for nobody known", status, got)
			}
			onlyErasureTime(t, testenv.Changed(before, testenv.Snapshot(t, table)))
		})
	}
}

// TestShopifyComplianceRefusesHostileInput: POST /webhooks/shopify/compliance,
// for each topic: forged, malformed and mis-shaped requests change nothing
// and send the shop nothing.
func TestShopifyComplianceRefusesHostileInput(t *testing.T) {
	const dataRequest = `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "orders_requested": [299938], "customer": {"id": 191167, "email": "john@example.com"}, "data_request": {"id": 9999}}`
	const shopRedact = `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com"}`
	req := func(topic, body string) events.APIGatewayV2HTTPRequest {
		return shopifyRequestTo(complianceRoute, topic, "wh-hostile", body)
	}
	data := func(body string) events.APIGatewayV2HTTPRequest { return req("customers/data_request", body) }
	shopR := func(body string) events.APIGatewayV2HTTPRequest { return req("shop/redact", body) }
	// dataWith and shopWith are the valid bodies with one field replaced
	// (or removed, for "").
	dataWith := func(field, value string) events.APIGatewayV2HTTPRequest {
		var m map[string]json.RawMessage
		_ = json.Unmarshal([]byte(dataRequest), &m)
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		b, _ := json.Marshal(m)
		return data(string(b))
	}
	shopWith := func(field, value string) events.APIGatewayV2HTTPRequest {
		var m map[string]json.RawMessage
		_ = json.Unmarshal([]byte(shopRedact), &m)
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		b, _ := json.Marshal(m)
		return shopR(string(b))
	}
	tests := []hostileCase{
		{"data request, no hmac", testenv.WithHeader(data(dataRequest), "x-shopify-hmac-sha256", ""), 401},
		{"data request, wrong secret", testenv.WithHeader(data(dataRequest), "x-shopify-hmac-sha256", signature.SignShopify("not-the-secret", []byte(dataRequest))), 401},
		{"data request, hmac of another body", testenv.WithHeader(data(dataRequest), "x-shopify-hmac-sha256", signature.SignShopify(secret, []byte(shopRedact))), 401},
		{"data request, body changed after signing", func() events.APIGatewayV2HTTPRequest {
			r := data(dataRequest)
			r.Body = strings.Replace(r.Body, "9999", "9998", 1)
			return r
		}(), 401},
		{"shop redact, no hmac", testenv.WithHeader(shopR(shopRedact), "x-shopify-hmac-sha256", ""), 401},
		{"shop redact, hmac in hex", testenv.WithHeader(shopR(shopRedact), "x-shopify-hmac-sha256", fmt.Sprintf("%x", signature.Sum(secret, []byte(shopRedact)))), 401},
		{"shop redact, empty secret", testenv.WithHeader(shopR(shopRedact), "x-shopify-hmac-sha256", signature.SignShopify("", []byte(shopRedact))), 401},
		{"shop redact, tsunagu signature instead", testenv.WithHeader(testenv.WithHeader(shopR(shopRedact), "x-shopify-hmac-sha256", ""), "x-tsunagu-signature", signature.SignTsunagu(secret, now, []byte(shopRedact))), 401},
		{"no topic", req("", shopRedact), 400},
		{"an order topic", req("orders/create", shopRedact), 400},
		{"app/uninstalled", req("app/uninstalled", shopRedact), 400},
		{"topic in capitals", req("SHOP/REDACT", shopRedact), 400},
		{"topic with crlf", req("shop/redact\r\nX: y", shopRedact), 400},
		{"a data request as a redact", req("customers/redact", dataRequest), 400},
		{"a data request as a shop redact", req("shop/redact", dataRequest), 400},
		{"a shop redact as a data request", req("customers/data_request", shopRedact), 400},
		{"a shop redact as a redact", req("customers/redact", shopRedact), 400},
		{"an order as a data request", req("customers/data_request", `{"id": 820982911946154508, "email": "jon@example.com", "customer": {"id": 115310627314723954}, "line_items": []}`), 400},
		{"data request from another shop's header", testenv.WithHeader(data(dataRequest), "x-shopify-shop-domain", "evil.myshopify.com"), 400},
		{"shop redact from another shop's header", testenv.WithHeader(shopR(shopRedact), "x-shopify-shop-domain", "evil.myshopify.com"), 400},
		{"shop redact without a shop header", testenv.WithHeader(shopR(shopRedact), "x-shopify-shop-domain", ""), 400},
		{"shop redact of another shop", shopWith("shop_domain", `"evil.myshopify.com"`), 400},
		{"shop redact of a shop in capitals and a suffix", shopWith("shop_domain", `"TSUBAKI-CHAEN.myshopify.com.evil.example"`), 400},
		{"shop redact without shop_domain", shopWith("shop_domain", ""), 400},
		{"shop redact with shop_domain empty", shopWith("shop_domain", `""`), 400},
		{"shop redact with shop_domain a number", shopWith("shop_domain", `1`), 400},
		{"shop redact without shop_id", shopWith("shop_id", ""), 400},
		{"shop redact with shop_id a string", shopWith("shop_id", `"954889"`), 400},
		{"shop redact with shop_id zero", shopWith("shop_id", `0`), 400},
		{"shop redact with shop_id negative", shopWith("shop_id", `-954889`), 400},
		{"shop redact with shop_id a fraction", shopWith("shop_id", `954889.5`), 400},
		{"shop redact with shop_id 3000 digits", shopWith("shop_id", "1"+strings.Repeat("0", 2999)), 400},
		{"shop redact naming a customer", shopWith("customer", `{"id": 191167}`), 400},
		{"shop redact with orders_to_redact", shopWith("orders_to_redact", `[1]`), 400},
		{"data request without customer", dataWith("customer", ""), 400},
		{"data request with customer null", dataWith("customer", `null`), 400},
		{"data request with customer a number", dataWith("customer", `191167`), 400},
		{"data request with customer id a word", dataWith("customer", `{"id": "john"}`), 400},
		{"data request with customer phone only", dataWith("customer", `{"phone": "555-625-1199"}`), 400},
		{"data request without data_request", dataWith("data_request", ""), 400},
		{"data request with data_request null", dataWith("data_request", `null`), 400},
		{"data request with data_request a number", dataWith("data_request", `9999`), 400},
		{"data request with data_request.id missing", dataWith("data_request", `{}`), 400},
		{"data request with data_request.id a string", dataWith("data_request", `{"id": "9999"}`), 400},
		{"data request with data_request.id an object", dataWith("data_request", `{"id": {"$ne": 0}}`), 400},
		{"data request with data_request.id 3000 digits", dataWith("data_request", `{"id": 1`+strings.Repeat("0", 2999)+`}`), 400},
		{"data request without orders_requested", dataWith("orders_requested", ""), 400},
		{"data request with orders_requested a number", dataWith("orders_requested", `5`), 400},
		{"data request with an order id a word", dataWith("orders_requested", `["one"]`), 400},
		{"data request with orders_to_redact", dataWith("orders_to_redact", `[1]`), 400},
		{"data request, base64 flag on a plain body", func() events.APIGatewayV2HTTPRequest { r := data(dataRequest); r.IsBase64Encoded = true; return r }(), 400},
		{"data request over 256 KiB", data(`{"pad": "` + strings.Repeat("x", httpapi.MaxBody) + `"}`), 413},
		{"empty body", shopR(""), 400},
		{"not JSON", shopR("shop_id=954889"), 400},
		{"array", shopR(`[` + shopRedact + `]`), 400},
		{"null", shopR(`null`), 400},
		{"invalid UTF-8", shopR("{\"shop_domain\": \"\xff.myshopify.com\"}"), 400},
		{"nested 5000 deep", data(testenv.NestedJSON(5000)), 400},
		{"GET instead of POST", func() events.APIGatewayV2HTTPRequest {
			r := data(dataRequest)
			r.RouteKey = "GET /webhooks/shopify/compliance"
			return r
		}(), 404},
	}
	expectRefusedOrHarmless(t, tests)
}
