package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tsunagu-dev/tsunagu/shared/logging"
)

// testSecrets are the secrets tests and the local stack use; none may
// appear in any line a test run prints. The secrets in the environment
// (secretNames) are added when set.
var testSecrets = []string{devSecret, "test-channel-secret", "test-channel-access-token", "shpss_secret", "other-secret", "old-secret",
	"another-secret", "not-the-secret", "not-the-channel-secret"}

// logFinding is one printed line that carries what no log line may.
type logFinding struct {
	pkg, test string
	what      string
	line      string // masked, so the report leaks nothing itself
}

// testEvent is the part of a go test -json event the check reads.
type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// outputCheck is what checkTestOutput found in a test run.
type outputCheck struct {
	// lines counts the printed lines scanned, in packages.
	lines    int
	packages map[string]bool
	// findings are the lines that carry what no log line may.
	findings []logFinding
	// failed lists the tests that failed ("package Test"), each with
	// what it printed (masked), in the order they failed.
	failed []string
	output map[string][]string
}

// checkTestOutput reads go test -json output and returns what it printed:
// how many lines, in how many packages, every line that carries an email
// address, a LINE user id (the patterns logging.Mask masks) or one of the
// secrets, and the failed tests with their output. Lines that are not
// test events (a build error, the local stack's own log) are scanned as
// they are.
func checkTestOutput(r io.Reader, secrets []string) (outputCheck, error) {
	c := outputCheck{packages: map[string]bool{}, output: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var ev testEvent
		isEvent := json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Action != ""
		if !isEvent {
			ev = testEvent{Output: sc.Text()}
		}
		key := ev.Package + " " + ev.Test
		if isEvent && ev.Action == "fail" {
			c.failed = append(c.failed, key)
		}
		if isEvent && ev.Action != "output" && ev.Action != "build-output" {
			continue
		}
		if ev.Package != "" {
			c.packages[ev.Package] = true
		}
		c.lines++
		line := strings.TrimRight(ev.Output, "\n")
		masked := logging.Mask(line)
		var what []string
		if masked != line {
			if strings.Contains(masked, "[email]") {
				what = append(what, "an email address")
			}
			if strings.Contains(masked, "[line-user]") {
				what = append(what, "a LINE user id")
			}
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(masked, s) {
				what = append(what, fmt.Sprintf("secret %q", s[:min(len(s), 3)]+"..."))
				masked = strings.ReplaceAll(masked, s, "[secret]")
			}
		}
		c.output[key] = append(c.output[key], masked)
		if len(what) > 0 {
			c.findings = append(c.findings, logFinding{pkg: ev.Package, test: ev.Test, what: strings.Join(what, ", "), line: masked})
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("read test output: %w", err)
	}
	return c, nil
}

// errLogsLeak marks a test run whose output carries personal data or secrets.
var errLogsLeak = errors.New("test output carries personal data or secrets")

// logcheckCommand checks the output of a whole test run (go test -json,
// from files or standard input): no line any test, handler, emulator or
// subprocess printed may carry an email address, a LINE user id or a
// secret. make logcheck runs it over every package's tests.
func logcheckCommand(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("logcheck", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go test -json ./... | tsunagu logcheck   (or: tsunagu logcheck FILE...)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	secrets := append([]string(nil), testSecrets...)
	for _, name := range secretNames {
		secrets = append(secrets, os.Getenv(name))
	}
	inputs := []io.Reader{os.Stdin}
	if fs.NArg() > 0 {
		inputs = nil
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				return fmt.Errorf("logcheck: %w", err)
			}
			defer f.Close()
			inputs = append(inputs, f)
		}
	}
	c, err := checkTestOutput(io.MultiReader(inputs...), secrets)
	if err != nil {
		return err
	}
	for _, key := range c.failed {
		fmt.Fprintf(stdout, "FAIL %s\n", key)
		for _, line := range c.output[key] {
			fmt.Fprintf(stdout, "    %s\n", line)
		}
	}
	for _, f := range c.findings {
		fmt.Fprintf(stdout, "%s %s: %s in: %s\n", f.pkg, f.test, f.what, f.line)
	}
	if len(c.findings) > 0 {
		return fmt.Errorf("%w: %d of %d lines printed by %d packages' tests", errLogsLeak, len(c.findings), c.lines, len(c.packages))
	}
	fmt.Fprintf(stdout, "logcheck: %d lines printed by %d packages' tests; no email address, LINE user id or secret\n", c.lines, len(c.packages))
	return nil
}
