package testenv

import (
	"maps"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// WithHeader returns a copy of req with one header set; an empty value
// deletes the header. The original request's headers are left as they were.
func WithHeader(req events.APIGatewayV2HTTPRequest, name, value string) events.APIGatewayV2HTTPRequest {
	h := maps.Clone(req.Headers)
	if h == nil {
		h = map[string]string{}
	}
	if value == "" {
		delete(h, name)
	} else {
		h[name] = value
	}
	req.Headers = h
	return req
}

// NestedJSON is a JSON object nested depth levels deep, for parsers'
// depth limits.
func NestedJSON(depth int) string {
	return strings.Repeat(`{"x":`, depth) + "1" + strings.Repeat("}", depth)
}
