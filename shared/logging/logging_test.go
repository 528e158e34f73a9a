package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Redact(slog.NewJSONHandler(&buf, nil))).With("to", "misaki@example.jp")
	log.Error("send to misaki@example.jp failed",
		"error", errors.New(`MessageRejected: Email address is not verified: "misaki@example.jp"`),
		"line", "U4af4980629f1b5d2b7f0b7b2e8b8c0d1",
		slog.Group("g", "addr", "a.b+c@shop.co.jp"),
		"count", 3)
	out := buf.String()
	for _, secret := range []string{"misaki@example.jp", "U4af4980629f1b5d2b7f0b7b2e8b8c0d1", "a.b+c@shop.co.jp"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line contains %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"count":3`) || !strings.Contains(out, "[email]") || !strings.Contains(out, "[line-user]") {
		t.Errorf("log line lost non-personal data: %s", out)
	}
}
