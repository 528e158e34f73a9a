package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/gateway"
	"github.com/tsunagu-dev/tsunagu/shared/loadtest"
	"github.com/tsunagu-dev/tsunagu/shared/sam"
	"github.com/tsunagu-dev/tsunagu/shared/testenv"
)

// inProcess runs the handler as the function would, from the JSON event.
type inProcess struct{ h *Handler }

func (p inProcess) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	resp, err := p.h.Handle(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// TestLoadTestAgainstTheGateway offers 50 webhooks a second for 2 seconds
// (generic and Shopify, signed, each its own delivery) to the purchase
// handler behind the local API gateway, on the emulators: every one is
// answered 200 and stored once. The figures are reported, not judged.
func TestLoadTestAgainstTheGateway(t *testing.T) {
	e := newEnv(t)
	// The load test signs with the wall clock.
	e.h.Now = time.Now
	tmpl, err := sam.Load(filepath.Join(testenv.Root(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := tmpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	var routes []sam.Route
	for _, r := range all {
		if r.Function == "PurchaseFunction" {
			routes = append(routes, r)
		}
	}
	gw, err := gateway.New(routes, map[string]gateway.Invoker{"PurchaseFunction": inProcess{e.h}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	rep, err := loadtest.Run(context.Background(), loadtest.Config{URL: srv.URL, Rate: 50, Duration: 2 * time.Second, Timeout: 20 * time.Second,
		WebhookSecret: secret, ShopifySecret: secret, RunID: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("load test through the gateway:\n%s", out.String())
	if rep.Offered != 100 || rep.ByStatus[200] != 100 || rep.Errors() != 0 {
		t.Fatalf("offered %d, answers %v, errors %d (%s); want 100 answered 200", rep.Offered, rep.ByStatus, rep.Errors(), rep.FirstError)
	}
	deliveries := 0
	for _, it := range testenv.Snapshot(t, e.table) {
		if strings.Contains(it, `"pk":"DELIVERY#`) {
			deliveries++
		}
	}
	if deliveries != 100 {
		t.Errorf("%d deliveries stored, want 100", deliveries)
	}
	if _, err := e.store.GetOrder(context.Background(), "Lgw-0"); err != nil {
		t.Errorf("the first generic order: %v", err)
	}
}
