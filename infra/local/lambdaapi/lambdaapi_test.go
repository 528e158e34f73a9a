package lambdaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoDir holds the echofn test function built as bootstrap.
var echoDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "echofn")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bootstrap"), "./testdata/echofn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata/echofn: %v\n%s", err, out)
		os.Exit(1)
	}
	echoDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// deadline bounds every wait in these tests; it is not an assertion.
const deadline = time.Minute

type echoReply struct {
	Echo        string `json:"echo"`
	PID         int    `json:"pid"`
	RequestID   string `json:"request_id"`
	FunctionARN string `json:"function_arn"`
	HasDeadline bool   `json:"has_deadline"`
	Env         string `json:"env"`
	Dir         string `json:"dir"`
}

// syncBuffer collects output from concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEcho(t *testing.T, mut func(*Config)) (*Function, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	cfg := Config{
		Name:    "EchoFunction",
		Dir:     echoDir,
		Env:     []string{"GREETING=hello", "AWS_LAMBDA_FUNCTION_NAME=not-allowed"},
		Timeout: 20 * time.Second,
		Region:  "ap-northeast-1",
		Output:  out,
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	if mut != nil {
		mut(&cfg)
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f, out
}

func invoke(t *testing.T, f *Function, req string) (echoReply, Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	r, err := f.InvokeReport(ctx, []byte(req))
	var reply echoReply
	if err == nil {
		if jerr := json.Unmarshal(r.Response, &reply); jerr != nil {
			t.Fatalf("decode %s: %v", r.Response, jerr)
		}
	}
	return reply, r, err
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestInvoke(t *testing.T) {
	f, out := newEcho(t, nil)

	first, r1, err := invoke(t, f, `{"echo":"one","env":"GREETING"}`)
	if err != nil {
		t.Fatal(err)
	}
	second, r2, err := invoke(t, f, `{"echo":"two","env":"AWS_LAMBDA_FUNCTION_NAME"}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"echo", first.Echo, "one"},
		{"function env", first.Env, "hello"},
		{"reserved env wins", second.Env, "EchoFunction"},
		{"working dir", first.Dir, echoDir},
		{"request id reaches the handler", first.RequestID, r1.RequestID},
		{"arn", first.FunctionARN, "arn:aws:lambda:ap-northeast-1:123456789012:function:EchoFunction"},
		{"deadline", first.HasDeadline, true},
		{"warm process reused", second.PID, first.PID},
		{"first is cold", r1.InitDuration > 0, true},
		{"second is warm", r2.InitDuration, time.Duration(0)},
		{"output prefixed", strings.Contains(out.String(), "EchoFunction | {\"msg\":\"echo\",\"echo\":\"one\"}\n"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestInvokeConcurrently(t *testing.T) {
	const calls, max = 12, 3
	f, _ := newEcho(t, func(c *Config) { c.MaxConcurrency = max })
	var wg sync.WaitGroup
	replies := make([]echoReply, calls)
	errs := make([]error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], _, errs[i] = invoke(t, f, fmt.Sprintf(`{"echo":"call-%d","sleep_ms":100}`, i))
		}()
	}
	wg.Wait()
	pids := map[int]bool{}
	for i := range calls {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
			continue
		}
		if want := fmt.Sprintf("call-%d", i); replies[i].Echo != want {
			t.Errorf("call %d answered %q, want %q", i, replies[i].Echo, want)
		}
		pids[replies[i].PID] = true
	}
	if len(pids) > max {
		t.Errorf("%d processes served, want at most %d", len(pids), max)
	}
}

func TestInvokeFailures(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(*Config)
		req     string
		check   func(error) bool
		wantMsg string
		newProc bool // the next invocation runs in a new process; the old one is gone
	}{
		{
			name: "handler error",
			req:  `{"fail":"boom"}`,
			check: func(err error) bool {
				var fe *FunctionError
				return errors.As(err, &fe) && fe.Type == "errorString" && fe.Message == "boom"
			},
		},
		{
			name: "panic",
			req:  `{"panic":true}`,
			check: func(err error) bool {
				var fe *FunctionError
				return errors.As(err, &fe) && strings.Contains(fe.Message, "asked to panic")
			},
			newProc: true,
		},
		{
			name:    "exit",
			req:     `{"exit":true}`,
			check:   func(err error) bool { return errors.Is(err, ErrExited) },
			wantMsg: "exit status 7",
			newProc: true,
		},
		{
			name:    "timeout",
			cfg:     func(c *Config) { c.Timeout = 300 * time.Millisecond },
			req:     `{"sleep_ms":60000}`,
			check:   func(err error) bool { return errors.Is(err, ErrTimeout) },
			newProc: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newEcho(t, tt.cfg)
			before, _, err := invoke(t, f, `{"echo":"before"}`)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = invoke(t, f, tt.req)
			if err == nil || !tt.check(err) {
				t.Fatalf("error = %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			after, _, err := invoke(t, f, `{"echo":"after"}`)
			if err != nil {
				t.Fatalf("invocation after the failure: %v", err)
			}
			if got := after.PID != before.PID; got != tt.newProc {
				t.Errorf("new process after failure = %v, want %v", got, tt.newProc)
			}
			if tt.newProc {
				waitGone(t, before.PID)
			}
		})
	}
}

func TestInitFailure(t *testing.T) {
	f, out := newEcho(t, func(c *Config) { c.Env = append(c.Env, "ECHOFN_FAIL_INIT=1") })
	_, _, err := invoke(t, f, `{"echo":"x"}`)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "during init") {
		t.Fatalf("error = %v, want ErrExited during init", err)
	}
	if !strings.Contains(out.String(), "EchoFunction | echofn: failing init as asked\n") {
		t.Errorf("stderr not in output:\n%s", out)
	}
}

func TestStop(t *testing.T) {
	f, _ := newEcho(t, func(c *Config) { c.MaxConcurrency = 2 })
	// Two at once, so two processes run; one more stays busy across Stop.
	var wg sync.WaitGroup
	pids := make([]int, 2)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, _, err := invoke(t, f, `{"sleep_ms":200}`)
			if err != nil {
				t.Error(err)
			}
			pids[i] = reply.PID
		}()
	}
	wg.Wait()
	busy := make(chan error, 1)
	go func() {
		_, _, err := invoke(t, f, `{"sleep_ms":60000}`)
		busy <- err
	}()
	waitBusy(t, f)
	f.Stop()
	if err := <-busy; !errors.Is(err, ErrStopped) {
		t.Errorf("in-flight invocation: %v, want ErrStopped", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still running after Stop", pid)
		}
	}
	if _, _, err := invoke(t, f, `{}`); !errors.Is(err, ErrStopped) {
		t.Errorf("invoke after Stop: %v, want ErrStopped", err)
	}
}

// waitBusy waits until some process holds an event.
func waitBusy(t *testing.T, f *Function) {
	t.Helper()
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		f.mu.Lock()
		busy := false
		for e := range f.envs {
			busy = busy || e.state == stateBusy
		}
		f.mu.Unlock()
		if busy {
			return
		}
	}
	t.Fatal("no process took the event")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	t.Errorf("process %d still running", pid)
}
