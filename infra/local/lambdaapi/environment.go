package lambdaapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// state is where a process is in Lambda's lifecycle.
type state int

const (
	stateStarting  state = iota // exec'd, has not asked for an event yet
	stateIdle                   // waiting in /next
	stateBusy                   // handling an event
	stateFinishing              // answered, not yet back in /next
	stateDying                  // killed (timeout), not yet reaped
)

// Runtime API paths (version 2018-06-01).
const (
	pathNext      = "GET /2018-06-01/runtime/invocation/next"
	pathResponse  = "POST /2018-06-01/runtime/invocation/{id}/response"
	pathError     = "POST /2018-06-01/runtime/invocation/{id}/error"
	pathInitError = "POST /2018-06-01/runtime/init/error"
)

// environment is one bootstrap process with its own Runtime API endpoint,
// as one Lambda execution environment.
type environment struct {
	fn      *Function
	n       int
	cmd     *exec.Cmd
	srv     *http.Server
	out     *lineWriter
	started time.Time
	deliver chan *invocation // capacity 1: the event begin hands to /next

	// Guarded by fn.mu.
	state     state
	readyAt   time.Time // first /next
	served    int       // events taken
	current   *invocation
	timer     *time.Timer // the current invocation's timeout, or init's
	killedFor error       // why this runtime killed the process
	initErr   error       // what the process posted to init/error
}

// startEnvironment starts a process with its own Runtime API listener.
// Callers hold f.mu.
func (f *Function) startEnvironment() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start %s: runtime api listener: %w", f.cfg.Name, err)
	}
	f.seq++
	e := &environment{fn: f, n: f.seq, deliver: make(chan *invocation, 1), out: newLineWriter(f.cfg.Output, f.cfg.Name+" | ")}
	mux := http.NewServeMux()
	mux.HandleFunc(pathNext, e.next)
	mux.HandleFunc(pathResponse, e.response)
	mux.HandleFunc(pathError, e.invocationError)
	mux.HandleFunc(pathInitError, e.initError)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	e.cmd = exec.Command(filepath.Join(f.cfg.Dir, "bootstrap"))
	e.cmd.Dir = f.cfg.Dir
	e.cmd.Env = f.processEnv(ln.Addr().String())
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = childAttrs()
	e.cmd.WaitDelay = time.Second // do not hang on output a grandchild keeps open
	if err := e.cmd.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("start %s: %w", f.cfg.Name, err)
	}
	e.started = time.Now()
	f.envs[e] = true
	f.reaped.Add(1)
	e.timer = time.AfterFunc(initTimeout, e.initTimedOut)
	go e.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed when the process is reaped
	go e.wait()
	return nil
}

// processEnv is the process environment: the function's own, then what
// Lambda sets for a provided.al2023 function (which the function cannot
// override), and PATH.
func (f *Function) processEnv(api string) []string {
	env := append([]string{}, f.cfg.Env...)
	return append(env,
		"PATH="+os.Getenv("PATH"),
		"TZ=:UTC",
		"LAMBDA_TASK_ROOT="+f.cfg.Dir,
		"_HANDLER=bootstrap",
		"AWS_LAMBDA_RUNTIME_API="+api,
		"AWS_LAMBDA_FUNCTION_NAME="+f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.cfg.MemoryMB),
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+f.cfg.Name,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
	)
}

// wait reaps the process and settles what it leaves behind: the event it
// was handling fails, an init failure fails the oldest waiting event, and
// waiting events get a new process.
func (e *environment) wait() {
	waitErr := e.cmd.Wait()
	e.out.flush()
	f := e.fn
	f.mu.Lock()
	e.state = stateDying
	delete(f.envs, e)
	f.idle = without(f.idle, e)
	e.timer.Stop()
	switch {
	case e.current != nil && f.stopped:
		f.finish(e.current, nil, ErrStopped)
	case e.current != nil:
		f.finish(e.current, nil, e.exitCause(waitErr))
	case e.readyAt.IsZero() && !f.stopped && len(f.queue) > 0: // died in init
		f.finish(f.queue[0], nil, e.exitCause(waitErr))
		f.queue = f.queue[1:]
	}
	if !f.stopped && e.killedFor == nil {
		f.log.Warn("function process exited", "process", e.n, "pid", e.cmd.Process.Pid, "error", errString(waitErr))
	}
	f.scale()
	f.mu.Unlock()
	e.srv.Close()
	f.reaped.Done()
}

// exitCause is the error an exited process leaves to its invocation.
// Callers hold fn.mu.
func (e *environment) exitCause(waitErr error) error {
	switch {
	case e.killedFor != nil:
		return e.killedFor
	case e.initErr != nil:
		return e.initErr
	case e.served == 0:
		return fmt.Errorf("%w during init: %s", ErrExited, errString(waitErr))
	default:
		return fmt.Errorf("%w: %s", ErrExited, errString(waitErr))
	}
}

// initTimedOut kills a process that has not asked for an event in time.
func (e *environment) initTimedOut() {
	e.fn.mu.Lock()
	defer e.fn.mu.Unlock()
	if e.state != stateStarting {
		return
	}
	e.killedFor = fmt.Errorf("%w: init took longer than %s", ErrTimeout, initTimeout)
	e.fn.log.Warn("function init timed out", "process", e.n)
	e.state = stateDying
	e.signal(syscall.SIGKILL)
}

// begin hands inv to this idle process and starts its timeout, as Lambda
// does when /next returns. Callers hold fn.mu.
func (e *environment) begin(inv *invocation) {
	f := e.fn
	e.state, e.current = stateBusy, inv
	inv.delivered = time.Now()
	if e.served == 0 {
		inv.report.InitDuration = e.readyAt.Sub(e.started)
	}
	e.served++
	e.timer = time.AfterFunc(f.cfg.Timeout, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if e.current != inv {
			return
		}
		e.killedFor = fmt.Errorf("%w after %s", ErrTimeout, f.cfg.Timeout)
		f.log.Warn("function timed out", "process", e.n, "request_id", inv.id, "timeout", f.cfg.Timeout.String())
		f.finish(inv, nil, e.killedFor)
		e.state, e.current = stateDying, nil
		e.signal(syscall.SIGKILL) // Lambda kills a timed-out environment outright
	})
	e.deliver <- inv
}

// next is GET /runtime/invocation/next: a long poll for the next event.
func (e *environment) next(w http.ResponseWriter, r *http.Request) {
	f := e.fn
	f.mu.Lock()
	switch e.state {
	case stateDying:
		f.mu.Unlock()
		answer(w, http.StatusGone, "EnvironmentShuttingDown", "this environment is being shut down")
		return
	case stateIdle: // a second concurrent poll: one event at a time here
		f.mu.Unlock()
		answer(w, http.StatusForbidden, "InvalidStateTransition", "already waiting for the next event")
		return
	case stateStarting:
		e.readyAt = time.Now()
		e.timer.Stop()
	case stateBusy: // asked again without answering the current event
		f.finish(e.current, nil, &FunctionError{Type: "Runtime.NoResponse", Message: "the runtime asked for the next event without answering this one"})
		e.timer.Stop()
		e.current = nil
	}
	e.state = stateIdle
	f.idle = append(f.idle, e)
	f.dispatch()
	f.mu.Unlock()

	select {
	case inv := <-e.deliver:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.delivered.Add(f.cfg.Timeout).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", f.arn)
		h.Set("Lambda-Runtime-Trace-Id", newTraceID())
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload) // a broken connection means the process died: wait settles it
	case <-r.Context().Done(): // the process hung up, or Stop
		f.mu.Lock()
		f.idle = without(f.idle, e)
		select {
		case inv := <-e.deliver: // handed over as the poll ended: give it to another process
			e.timer.Stop()
			e.state, e.current = stateFinishing, nil
			e.served--
			inv.report.InitDuration = 0
			f.queue = append([]*invocation{inv}, f.queue...)
			f.dispatch()
			f.scale()
		default:
		}
		f.mu.Unlock()
	}
}

// response is POST /runtime/invocation/{id}/response.
func (e *environment) response(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponse))
	f := e.fn
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := e.current
	if inv == nil || inv.id != r.PathValue("id") {
		answer(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" in progress")
		return
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(readErr, &tooLarge):
		e.end(inv, nil, &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: fmt.Sprintf("response payload size exceeded maximum allowed payload size (%d bytes)", maxResponse)})
		answer(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response too large")
	case readErr != nil:
		// The process hung up mid-body; wait reports it when it is reaped.
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// aws-lambda-go streams responses and reports a failed stream in trailers.
		msg, _ := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		e.end(inv, nil, functionError(msg, r.Trailer.Get("Lambda-Runtime-Function-Error-Type")))
		answer(w, http.StatusAccepted, "", "")
	default:
		e.end(inv, body, nil)
		answer(w, http.StatusAccepted, "", "")
	}
}

// invocationError is POST /runtime/invocation/{id}/error.
func (e *environment) invocationError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponse))
	f := e.fn
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := e.current
	if inv == nil || inv.id != r.PathValue("id") {
		answer(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+r.PathValue("id")+" in progress")
		return
	}
	e.end(inv, nil, functionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type")))
	answer(w, http.StatusAccepted, "", "")
}

// initError is POST /runtime/init/error; the process exits afterwards and
// wait reports this error to the event that was waiting for it.
func (e *environment) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponse))
	e.fn.mu.Lock()
	defer e.fn.mu.Unlock()
	if e.state != stateStarting {
		answer(w, http.StatusForbidden, "InvalidStateTransition", "init/error after init")
		return
	}
	e.initErr = functionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	answer(w, http.StatusAccepted, "", "")
}

// end completes the current invocation; the process is free again once it
// asks for the next event. Callers hold fn.mu.
func (e *environment) end(inv *invocation, response []byte, err error) {
	e.timer.Stop()
	e.state, e.current = stateFinishing, nil
	e.fn.finish(inv, response, err)
}

// signal sends sig to the process's group.
func (e *environment) signal(sig syscall.Signal) {
	_ = syscall.Kill(-e.cmd.Process.Pid, sig)
}

// functionError reads an error document ({"errorMessage","errorType"}).
func functionError(body []byte, headerType string) *FunctionError {
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal(body, &doc) != nil {
		doc.Message = string(body)
	}
	if doc.Type == "" {
		doc.Type = headerType
	}
	return &FunctionError{Type: doc.Type, Message: doc.Message, Body: body}
}

// answer writes a Runtime API answer: {"status":"OK"} for 202, or an
// ErrorResponse document.
func answer(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusAccepted {
		_, _ = io.WriteString(w, `{"status":"OK"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": errorType, "errorMessage": message})
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
