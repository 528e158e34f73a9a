// Package lambdaapi runs Lambda function binaries (bootstrap) on this
// machine behind a local implementation of the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), so the
// local stack and the benchmarks execute exactly what `sam build` deploys.
//
// As in Lambda, each bootstrap process is one execution environment with
// its own Runtime API endpoint and handles one event at a time. A Function
// starts a process when an event finds no free one (up to MaxConcurrency),
// kills a process whose invocation outlives the timeout, and replaces a
// crashed process on the next invocation.
package lambdaapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

const (
	// initTimeout is how long a process may take to ask for its first
	// event; Lambda's on-demand init phase has the same limit.
	initTimeout = 10 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 2 * time.Second
	// maxResponse is Lambda's limit on a synchronous invocation's response.
	maxResponse = 6 << 20
	// accountID is the account in the local function ARN.
	accountID = "123456789012"
)

var (
	// ErrTimeout means an invocation (or a process's init) ran longer than
	// allowed; the process was killed and the next invocation starts a
	// fresh one.
	ErrTimeout = errors.New("function timed out")
	// ErrExited means the function's process exited during init or while
	// handling the invocation (Lambda's Runtime.ExitError).
	ErrExited = errors.New("function process exited")
	// ErrStopped means the Function was stopped before it could answer.
	ErrStopped = errors.New("function stopped")
)

// FunctionError is an error the function reported through the Runtime API:
// its handler returned an error or panicked (invocation/{id}/error), or it
// failed to initialise (init/error).
type FunctionError struct {
	// Type is the errorType, such as "errorString" or "Runtime.ExitError".
	Type string
	// Message is the errorMessage.
	Message string
	// Body is the error document exactly as the runtime posted it.
	Body []byte
}

// Error returns "function error: <type>: <message>".
func (e *FunctionError) Error() string {
	return "function error: " + e.Type + ": " + e.Message
}

// Config describes one function to run.
type Config struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME), also the
	// prefix of its output lines.
	Name string
	// Dir holds the bootstrap binary; it is the processes' working
	// directory and LAMBDA_TASK_ROOT.
	Dir string
	// Env is the function's own environment, "KEY=value". Processes get
	// nothing else from this process's environment but PATH.
	Env []string
	// Timeout limits each invocation; zero means Lambda's default, 3s.
	Timeout time.Duration
	// MemoryMB is reported as AWS_LAMBDA_FUNCTION_MEMORY_SIZE; zero means
	// Lambda's default, 128.
	MemoryMB int
	// MaxConcurrency caps the number of processes; zero means 4.
	MaxConcurrency int
	// Region is the region in the function's ARN; empty means us-east-1.
	Region string
	// Output receives the processes' stdout and stderr, one write per line,
	// each line prefixed "<Name> | "; nil means os.Stdout. It must be safe
	// for concurrent use.
	Output io.Writer
	// Logger receives the runtime's own events (reports, crashes,
	// timeouts); nil means slog.Default().
	Logger *slog.Logger
}

// Report is what one invocation took, like the REPORT line Lambda logs.
type Report struct {
	// RequestID is the invocation's request id.
	RequestID string
	// Response is the function's answer.
	Response []byte
	// Duration runs from handing the event to the process to its answer.
	Duration time.Duration
	// InitDuration runs from starting the process to its first request for
	// an event (a cold start); it is zero when a warm process took the event.
	InitDuration time.Duration
}

// Function runs one function's bootstrap processes. It is safe for
// concurrent use.
type Function struct {
	cfg Config
	arn string
	log *slog.Logger

	mu      sync.Mutex
	queue   []*invocation         // waiting for a process, oldest first
	idle    []*environment        // processes waiting in /next with no event
	envs    map[*environment]bool // every process not yet reaped
	seq     int                   // numbers processes, for logs
	stopped bool
	reaped  sync.WaitGroup // one per process until it is reaped
}

// invocation is one event on its way through a process.
type invocation struct {
	id        string
	payload   []byte
	delivered time.Time
	done      chan struct{} // closed by finish
	report    Report
	err       error
}

// New checks cfg and returns a Function. No process starts until the first
// invocation, so the first Invoke of a new Function is a cold start.
func New(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		return nil, errors.New("new function: no name")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 128
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 4
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Output == nil {
		cfg.Output = os.Stdout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("new function %s: %w", cfg.Name, err)
	}
	cfg.Dir = dir
	st, err := os.Stat(filepath.Join(dir, "bootstrap"))
	if err != nil {
		return nil, fmt.Errorf("new function %s: %w", cfg.Name, err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("new function %s: %s is not an executable file", cfg.Name, filepath.Join(dir, "bootstrap"))
	}
	return &Function{
		cfg:  cfg,
		arn:  fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, accountID, cfg.Name),
		log:  cfg.Logger.With("function", cfg.Name),
		envs: map[*environment]bool{},
	}, nil
}

// Invoke runs the function with payload and returns its answer. Errors are
// a *FunctionError when the function reported one, or wrap ErrTimeout,
// ErrExited or ErrStopped. When ctx ends first, the invocation still runs
// to its end (or timeout) in its process, as in Lambda.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r, err := f.InvokeReport(ctx, payload)
	return r.Response, err
}

// InvokeReport is Invoke with the invocation's Report, for benchmarks: on a
// new Function the first invocation is a cold start.
func (f *Function) InvokeReport(ctx context.Context, payload []byte) (Report, error) {
	inv := &invocation{id: newRequestID(), payload: payload, done: make(chan struct{})}
	inv.report.RequestID = inv.id
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return inv.report, fmt.Errorf("invoke %s: %w", f.cfg.Name, ErrStopped)
	}
	f.queue = append(f.queue, inv)
	f.dispatch()
	f.scale()
	f.mu.Unlock()

	select {
	case <-inv.done:
	case <-ctx.Done():
		f.mu.Lock()
		f.queue = without(f.queue, inv)
		f.mu.Unlock()
		return inv.report, fmt.Errorf("invoke %s: %w", f.cfg.Name, ctx.Err())
	}
	attrs := []any{"request_id", inv.id, "duration_ms", ms(inv.report.Duration)}
	if inv.report.InitDuration > 0 {
		attrs = append(attrs, "init_duration_ms", ms(inv.report.InitDuration))
	}
	if inv.err != nil {
		f.log.Info("function report", append(attrs, "error", inv.err.Error())...)
		return inv.report, fmt.Errorf("invoke %s: %w", f.cfg.Name, inv.err)
	}
	f.log.Info("function report", attrs...)
	return inv.report, nil
}

// Stop ends every process (SIGTERM, then SIGKILL after a grace period) and
// waits until all are reaped. Pending and later invocations fail with
// ErrStopped.
func (f *Function) Stop() {
	f.mu.Lock()
	f.stopped = true
	for _, inv := range f.queue {
		f.finish(inv, nil, ErrStopped)
	}
	f.queue = nil
	envs := make([]*environment, 0, len(f.envs))
	for e := range f.envs {
		envs = append(envs, e)
	}
	f.mu.Unlock()

	for _, e := range envs {
		e.signal(syscall.SIGTERM)
	}
	all := make(chan struct{})
	go func() {
		f.reaped.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(stopGrace):
		for _, e := range envs {
			e.signal(syscall.SIGKILL)
		}
		<-all
	}
}

// dispatch hands queued events to idle processes. Callers hold f.mu.
func (f *Function) dispatch() {
	for len(f.queue) > 0 && len(f.idle) > 0 {
		inv, e := f.queue[0], f.idle[0]
		f.queue, f.idle = f.queue[1:], f.idle[1:]
		e.begin(inv)
	}
}

// scale starts processes while more events wait than processes will soon
// be free (starting, or back to /next after answering), up to
// MaxConcurrency. A process that cannot start fails the oldest event, so
// a broken binary fails invocations instead of looping. Callers hold f.mu.
func (f *Function) scale() {
	for !f.stopped && len(f.queue) > f.soonFree() && len(f.envs) < f.cfg.MaxConcurrency {
		if err := f.startEnvironment(); err != nil {
			f.log.Error("function process start failed", "error", err)
			f.finish(f.queue[0], nil, err)
			f.queue = f.queue[1:]
		}
	}
}

func (f *Function) soonFree() int {
	n := 0
	for e := range f.envs {
		if e.state == stateStarting || e.state == stateFinishing {
			n++
		}
	}
	return n
}

// finish completes an invocation once. Callers hold f.mu.
func (f *Function) finish(inv *invocation, response []byte, err error) {
	select {
	case <-inv.done:
		return
	default:
	}
	if !inv.delivered.IsZero() {
		inv.report.Duration = time.Since(inv.delivered)
	}
	inv.report.Response, inv.err = response, err
	close(inv.done)
}

// newRequestID returns a random UUID, the shape of Lambda's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an X-Ray trace header, as Lambda-Runtime-Trace-Id carries.
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func without[T comparable](s []T, v T) []T {
	for i, x := range s {
		if x == v {
			return append(s[:i:i], s[i+1:]...)
		}
	}
	return s
}
