package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Invalid answers 400 naming every bad field: fields marshals as a list of
// {"field", "message"}.
func Invalid(fields any) events.APIGatewayV2HTTPResponse {
	return JSON(http.StatusBadRequest, map[string]any{"error": "invalid request", "fields": fields})
}

// Unauthorized answers 401 for a signature header that did not verify,
// saying which header and why (never its value), and logs the refusal.
func Unauthorized(ctx context.Context, header string, err error) events.APIGatewayV2HTTPResponse {
	slog.InfoContext(ctx, "signature refused", "header", header, "reason", err.Error())
	return JSON(http.StatusUnauthorized, map[string]string{"error": "invalid signature", "header": header, "reason": err.Error()})
}

// Unavailable answers 503 with Retry-After when the store or a provider
// failed, after logging why; the caller's retry is safe, because every
// step is idempotent.
func Unavailable(ctx context.Context, err error, retryAfter time.Duration) events.APIGatewayV2HTTPResponse {
	slog.ErrorContext(ctx, "request failed", "error", err)
	resp := Error(http.StatusServiceUnavailable, "temporarily unavailable; retry later")
	resp.Headers["Retry-After"] = fmt.Sprint(int(retryAfter.Seconds()))
	return resp
}

// WebhookBody returns a webhook's raw body, or the answer to give instead:
// 400 when it is not valid base64, 413 when it is over MaxBody.
func WebhookBody(req events.APIGatewayV2HTTPRequest) ([]byte, *events.APIGatewayV2HTTPResponse) {
	body, ok := Body(req)
	switch {
	case !ok:
		resp := Invalid([]map[string]string{{"field": "body", "message": "is not valid base64"}})
		return nil, &resp
	case len(body) > MaxBody:
		resp := Error(http.StatusRequestEntityTooLarge, "body is larger than 256 KiB")
		return nil, &resp
	}
	return body, nil
}
