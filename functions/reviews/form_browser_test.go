package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/local/apigateway"
	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/browser"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/review"
)

// handlerInvoker runs the handler as the Lambda runtime would: the event
// as JSON in, the answer as JSON out.
type handlerInvoker struct{ h *Handler }

func (i handlerInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	res, err := i.h.Handle(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// TestReviewFormInBrowser sends the form from Chromium on a phone's
// screen, through the local API gateway and template.yaml's routes: a
// star link opens it, the review goes in, sending it again is answered
// "already received", and a forged link is refused. Each page loads
// without errors, fetches nothing elsewhere and does not scroll sideways.
func TestReviewFormInBrowser(t *testing.T) {
	ctx := t.Context()
	if err := emulator.Install(ctx, filepath.Join(testenv.Root(), "infra", "local")); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	tpl, err := sam.Load(filepath.Join(testenv.Root(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	var mine []sam.Route
	for _, r := range routes {
		if r.Function == "ReviewsFunction" {
			mine = append(mine, r)
		}
	}
	gw, err := apigateway.New(mine, map[string]apigateway.Invoker{"ReviewsFunction": handlerInvoker{f.h}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	forms, _ := review.NewFormSealer(srv.URL, secret)
	star4 := forms.Link(formAsk)(4)
	other, _ := review.NewFormSealer(srv.URL, "another-secret-0123456789abcdefghij")
	send := []browser.Step{{Fill: "#title", Value: "上品な甘さ"}, {Fill: "#text", Value: "お茶によく合います。\n家族にも好評でした。"}, {Fill: "#author", Value: "みさき"}, {Submit: "button[type=submit]"}}
	vp := browser.Viewport{Width: 375, Height: 740}
	tests := []struct {
		name   string
		url    string
		steps  []browser.Step
		status int
		text   string
	}{
		{"a star link opens the form", star4, nil, 200, "本練羊羹 のレビュー"},
		{"sent", star4, send, 200, "お店で確認したあと"},
		{"sent again", star4, send, 200, "すでにお送りいただいています"},
		{"a forged link", other.Link(formAsk)(5), nil, 400, "リンクは無効"},
	}
	for _, tt := range tests {
		p, err := browser.InspectPage(ctx, browser.PageConfig{URL: tt.url, Viewport: vp, Steps: tt.steps})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.Status != tt.status || !strings.Contains(p.Text, tt.text) {
			t.Errorf("%s: %d %q, want %d with %q", tt.name, p.Status, p.Text, tt.status, tt.text)
		}
		if tt.status >= 400 {
			// Chromium reports the refusal itself as a console error: it is
			// the answer wanted; any other error is not.
			refusal := fmt.Sprintf("the server responded with a status of %d", tt.status)
			var others []browser.ConsoleMessage
			for _, m := range p.Console {
				if m.Type != "error" || !strings.Contains(m.Text, refusal) {
					others = append(others, m)
				}
			}
			p.Console = others
		}
		for _, problem := range p.Problems(vp.Width) {
			t.Errorf("%s: %s", tt.name, problem)
		}
	}
	pending, err := f.st.ListPendingReviews(ctx)
	if err != nil || len(pending) != 1 || pending[0].Rating != 4 || pending[0].Text != "お茶によく合います。\n家族にも好評でした。" {
		t.Errorf("stored from the browser: %+v, %v", pending, err)
	}
}
