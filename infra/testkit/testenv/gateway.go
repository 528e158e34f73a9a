package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/local/apigateway"
	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

// HTTPHandler is what an HTTP function's handler does with one API Gateway
// payload 2.0 event.
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// APIServer serves function's routes from template.yaml through the local
// API gateway, with handle run in this process as the function would run
// it: from the JSON event, answering the JSON response. The server is
// closed when the test ends.
func APIServer(tb testing.TB, function string, handle HTTPHandler) *httptest.Server {
	tb.Helper()
	all, err := templateT.Routes()
	if err != nil {
		tb.Fatal(err)
	}
	var routes []sam.Route
	for _, r := range all {
		if r.Function == function {
			routes = append(routes, r)
		}
	}
	if len(routes) == 0 {
		tb.Fatalf("template.yaml has no routes for %s", function)
	}
	gw, err := apigateway.New(routes, map[string]apigateway.Invoker{function: inProcess(handle)}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	tb.Cleanup(srv.Close)
	return srv
}

// inProcess invokes a handler in this process with the gateway's JSON event.
type inProcess HTTPHandler

// Invoke decodes the event, runs the handler and encodes its response.
func (handle inProcess) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("decode the gateway event: %w", err)
	}
	resp, err := handle(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}
