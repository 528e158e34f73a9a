// Package httpapi holds what every HTTP function shares: reading an API
// Gateway HTTP API (payload 2.0) request and writing JSON answers in the
// shapes DESIGN.md promises callers.
package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// MaxBody is the largest request body any route accepts (256 KiB).
const MaxBody = 256 << 10

// Header returns a request header, whatever its case. (API Gateway lower-
// cases names, but a hand-written test event may not.)
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Body returns the raw request body, decoding base64 when API Gateway
// encoded it. ok is false when the body is not valid base64.
func Body(req events.APIGatewayV2HTTPRequest) (body []byte, ok bool) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), true
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	return b, err == nil
}

// JSON answers status with v as the JSON body.
func JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
		Body:       string(body),
	}
}

// Error answers status with {"error": message}.
func Error(status int, message string) events.APIGatewayV2HTTPResponse {
	return JSON(status, map[string]string{"error": message})
}

// Page answers status with a page rendered from t with data: an HTML page
// of tsunagu's own (a form, a confirmation) that is never cached, sends no
// referrer, and runs no script, loads nothing and posts only to itself.
func Page(status int, t *template.Template, data any) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return Error(http.StatusInternalServerError, "page failed")
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: b.String(), Headers: map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
	}}
}
