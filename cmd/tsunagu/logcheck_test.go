package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outputEvent is one go test -json output line.
func outputEvent(t *testing.T, pkg, test, output string) string {
	t.Helper()
	b, err := json.Marshal(testEvent{Action: "output", Package: pkg, Test: test, Output: output})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckTestOutput(t *testing.T) {
	user := "U" + strings.Repeat("0a", 16)
	tests := []struct {
		name  string
		input string
		want  []string // what each finding names, in order
	}{
		{name: "clean run", input: strings.Join([]string{
			`{"Action":"start","Package":"p"}`,
			outputEvent(t, "p", "TestA", "=== RUN   TestA\n"),
			outputEvent(t, "p", "TestA", "2026/11/21 09:30:00 INFO webhook processed delivery_id=evt-1 order_id=1001\n"),
			`{"Action":"pass","Package":"p","Test":"TestA"}`,
		}, "\n")},
		{name: "an email address in a log line", input: outputEvent(t, "p", "TestA", "INFO sent to=misaki@example.jp\n"), want: []string{"an email address"}},
		{name: "a LINE user id", input: outputEvent(t, "p", "TestB", "WARN line reply failed user="+user+"\n"), want: []string{"a LINE user id"}},
		{name: "the local secret", input: outputEvent(t, "p", "", "signing with dev-secret\n"), want: []string{`secret "dev..."`}},
		{name: "a test secret in an error", input: outputEvent(t, "p", "TestC", `error="bad key test-channel-secret"`+"\n"), want: []string{`secret "tes..."`}},
		{name: "several at once", input: outputEvent(t, "p", "TestD", "a@b.example "+user+" shpss_secret\n"), want: []string{`an email address, a LINE user id, secret "shp..."`}},
		{name: "a build error, not json", input: "# p\n./x.go:1: misaki@example.jp undefined", want: []string{"an email address"}},
		{name: "a json log line, not a test event", input: `{"level":"INFO","msg":"sent","to":"misaki@example.jp"}`, want: []string{"an email address"}},
		{name: "a user id inside a longer word", input: outputEvent(t, "p", "TestE", "X"+user+"Y\n")},
		{name: "module versions are not addresses", input: outputEvent(t, "p", "TestF", "/root/go/pkg/mod/go.yaml.in/yaml/v3@v3.0.4/scannerc.go:558\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := checkTestOutput(strings.NewReader(tt.input), testSecrets)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range c.findings {
				got = append(got, f.what)
				if strings.Contains(f.line, "@example") || strings.Contains(f.line, user) || strings.Contains(f.line, "secret ") && strings.Contains(f.line, "dev-secret") {
					t.Errorf("the finding repeats what it found: %q", f.line)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCheckTestOutputAddressForms: every address form tsunagu can receive
// (see shared/logging) is found wherever a test run prints it: a test's
// own line, a handler's JSON log line (the address JSON-escaped), a text
// handler's quoted value, %+q's escapes, a line that is not a test event.
func TestCheckTestOutputAddressForms(t *testing.T) {
	forms := []struct {
		name    string
		address string
	}{
		{name: "plain", address: "misaki@example.jp"},
		{name: "quoted local part", address: `"quoted local"@example.jp`},
		{name: "unicode local part, IDN domain", address: "美咲@例え.jp"},
		{name: "IPv4 literal", address: "user@[192.0.2.1]"},
		{name: "IPv6 literal", address: "user@[IPv6:2001:db8::1]"},
		{name: "punycode domain", address: "misaki@xn--r8jz45g.jp"},
	}
	placements := []struct {
		name  string
		event bool // printed inside a test (a go test -json event)
		line  func(address string) string
	}{
		{name: "a test's line", event: true, line: func(a string) string { return "    x_test.go:9: got " + a + "\n" }},
		{name: "a JSON log line", event: true, line: func(a string) string {
			b, _ := json.Marshal(map[string]string{"level": "ERROR", "msg": "send failed", "error": "MessageRejected: " + a})
			return string(b) + "\n"
		}},
		{name: "a text log line", event: true, line: func(a string) string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Error("send failed", "to", a)
			return buf.String()
		}},
		{name: "escaped by %+q", event: true, line: func(a string) string { return fmt.Sprintf("got %+q\n", a) }},
		{name: "not a test event", line: func(a string) string { return "npm warn " + a }},
	}
	for _, f := range forms {
		for _, p := range placements {
			t.Run(f.name+"/"+p.name, func(t *testing.T) {
				input := p.line(f.address)
				if p.event {
					input = outputEvent(t, "p", "TestA", input)
				}
				c, err := checkTestOutput(strings.NewReader(input), testSecrets)
				if err != nil {
					t.Fatal(err)
				}
				if len(c.findings) != 1 || c.findings[0].what != "an email address" {
					t.Fatalf("findings %+v, want one email address", c.findings)
				}
				if line := c.findings[0].line; strings.Contains(line, "example.jp") || strings.Contains(line, "例え") || strings.Contains(line, "192.0.2.1") || strings.Contains(line, "2001:db8") {
					t.Errorf("the finding repeats what it found: %q", line)
				}
			})
		}
	}
}

func TestLogcheckCommand(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.json")
	leaky := filepath.Join(dir, "leaky.json")
	if err := os.WriteFile(clean, []byte(outputEvent(t, "p", "TestA", "ok\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(leaky, []byte(outputEvent(t, "p", "TestA", "to=misaki@example.jp\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := capture(t, logcheckCommand, clean)
	if err != nil || !strings.Contains(out, "1 lines printed by 1 packages' tests; no email address") {
		t.Errorf("clean run: %v\n%s", err, out)
	}
	out, err = capture(t, logcheckCommand, clean, leaky)
	if !errors.Is(err, errLogsLeak) || !strings.Contains(out, "p TestA: an email address in: [email]") {
		t.Errorf("leaky run: %v\n%s", err, out)
	}
	failing := filepath.Join(dir, "failing.json")
	run := outputEvent(t, "p", "TestB", "    x_test.go:9: got misaki@example.jp\n") + "\n" + `{"Action":"fail","Package":"p","Test":"TestB"}` + "\n"
	if err := os.WriteFile(failing, []byte(run), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = capture(t, logcheckCommand, failing)
	if !errors.Is(err, errLogsLeak) || !strings.Contains(out, "FAIL p TestB\n        x_test.go:9: got [email]\n") {
		t.Errorf("failing run: %v\n%s", err, out)
	}
}
