// Package emulator installs and starts the local AWS emulators pinned in
// infra/local: dynalite for DynamoDB and aws-ses-v2-local for SES v2. The
// local stack and the tests both start them through here.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Emulator is one running emulator process.
type Emulator struct {
	Name string
	// URL is the endpoint to give the AWS SDK, such as http://127.0.0.1:4567.
	URL string

	cmd    *exec.Cmd
	output *syncBuffer
	done   chan struct{}
	err    error
}

// ErrNodeMissing means Node.js is not installed; the emulators need it.
var ErrNodeMissing = errors.New("node (Node.js) was not found on PATH; install Node.js 20 or newer to run the local emulators")

// Install runs `npm ci` in dir (infra/local) when node_modules is missing or
// older than package-lock.json. Concurrent callers (parallel test packages)
// wait for each other through a lock file.
func Install(ctx context.Context, dir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return ErrNodeMissing
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("npm was not found on PATH; it comes with Node.js")
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("install emulators: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("install emulators: lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway

	stamp := filepath.Join(dir, "node_modules", ".package-lock.json")
	lockInfo, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("install emulators: %w", err)
	}
	if st, err := os.Stat(stamp); err == nil && !st.ModTime().Before(lockInfo.ModTime()) {
		return nil
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("install emulators: npm ci in %s: %w\n%s", dir, err, out)
	}
	return nil
}

// StartDynamoDB starts dynalite (in memory) listening on addr ("127.0.0.1:4567").
func StartDynamoDB(ctx context.Context, dir, addr string) (*Emulator, error) {
	return StartDynamoDBAt(ctx, dir, addr, "")
}

// StartDynamoDBAt starts dynalite keeping its data in dataDir (LevelDB), so
// a restart keeps the tables; an empty dataDir keeps them in memory.
func StartDynamoDBAt(ctx context.Context, dir, addr, dataDir string) (*Emulator, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("start dynamodb emulator: %w", err)
	}
	args := []string{filepath.Join("node_modules", "dynalite", "cli.js"),
		"--host", host, "--port", port, "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if dataDir != "" {
		args = append(args, "--path", dataDir)
	}
	return start(ctx, "dynamodb", dir, addr, "Dynalite listening at", args)
}

// StartSES starts aws-ses-v2-local listening on addr ("127.0.0.1:8005").
func StartSES(ctx context.Context, dir, addr string) (*Emulator, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("start ses emulator: %w", err)
	}
	return start(ctx, "ses", dir, addr, "aws-ses-v2-local: server running at",
		[]string{filepath.Join("node_modules", "aws-ses-v2-local", "dist", "cli.js"), "--host", host, "--port", port})
}

// ErrPortInUse means another process listens on the emulator's address,
// or took it between the check and the emulator's own listen.
var ErrPortInUse = errors.New("port already in use")

// CheckPortFree returns a clear error when something already listens on addr.
func CheckPortFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %s is already in use (is another `make run` running?): %w: %w", addr, ErrPortInUse, err)
	}
	return l.Close()
}

// OnFreePort starts an emulator on a free loopback port, trying another
// port when the one found was taken before the emulator could listen on it
// (two test suites side by side pick ports at the same time).
func OnFreePort(start func(addr string) (*Emulator, error)) (*Emulator, error) {
	var err error
	for range 5 {
		var addr string
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
		var e *Emulator
		if e, err = start(addr); !errors.Is(err, ErrPortInUse) {
			return e, err
		}
	}
	return nil, err
}

// FreeAddr returns a loopback address with a port nobody listens on now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs the emulator and waits until it is ready: it printed
// listening (so this very process holds the port: an HTTP answer alone may
// come from another process that took the port first) and answers HTTP.
func start(ctx context.Context, name, dir, addr, listening string, args []string) (*Emulator, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, ErrNodeMissing
	}
	if err := CheckPortFree(addr); err != nil {
		return nil, fmt.Errorf("start %s emulator: %w", name, err)
	}
	e := &Emulator{Name: name, URL: "http://" + addr, output: &syncBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(node, args...)
	e.cmd.Dir = dir
	e.cmd.Stdout, e.cmd.Stderr = e.output, e.output
	e.cmd.SysProcAttr = childAttrs()
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s emulator: %w", name, err)
	}
	go func() {
		e.err = e.cmd.Wait()
		close(e.done)
	}()
	if err := e.waitReady(ctx, listening, 20*time.Second); err != nil {
		e.Stop()
		if strings.Contains(e.output.String(), "EADDRINUSE") {
			err = fmt.Errorf("%w: %w", ErrPortInUse, err)
		}
		return nil, fmt.Errorf("start %s emulator on %s: %w\n%s", name, addr, err, e.output.String())
	}
	return e, nil
}

// waitReady waits until the emulator printed listening and answers HTTP.
func (e *Emulator) waitReady(ctx context.Context, listening string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-e.done:
			return fmt.Errorf("exited before it was ready: %v", e.err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if strings.Contains(e.output.String(), listening) {
			if resp, err := client.Get(e.URL); err == nil {
				resp.Body.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Done is closed when the process has exited.
func (e *Emulator) Done() <-chan struct{} { return e.done }

// Output returns what the process has printed so far.
func (e *Emulator) Output() string { return e.output.String() }

// Stop terminates the emulator and its process group and waits for it.
func (e *Emulator) Stop() {
	if e == nil || e.cmd.Process == nil {
		return
	}
	select {
	case <-e.done:
		return
	default:
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.done
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the tail only
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
