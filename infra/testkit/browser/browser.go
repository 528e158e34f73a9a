// Package browser drives a real Chromium over a shop's thank-you page, for
// the tests of the tsunagu widget (functions/thankyou/widget.js), and over
// a self-contained page such as the report (InspectPage, with
// infra/browser/report.mjs). Launch
// starts infra/browser/thankyou.mjs, a Node.js script using playwright-core
// (pinned in infra/local), which launches Chromium once; each Run is a
// Config sent to it and the Result it answers: what the page showed. Runs
// may go on at the same time, each in a fresh browser context. The script
// judges nothing; the tests assert.
//
// Chromium is Debian's package (`make browser` installs it, `make test`
// depends on it); playwright-core comes with `npm ci` in infra/local, which
// emulator.Install runs.
package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/project"
)

// Chromium is the browser the script launches: Debian's chromium package.
const Chromium = "/usr/bin/chromium"

// Script is the driver, relative to the project root.
const Script = "infra/browser/thankyou.mjs"

// DefaultContainer is the widget container the embed snippet names.
const DefaultContainer = "#tsunagu-thankyou"

// DefaultStepTimeout bounds each step of a run (loading the page, waiting
// for the widget to settle, a click) when Config.StepTimeout is zero. It is
// no measure of speed: it is there so that a hang fails the run instead of
// blocking it, and is generous so that a busy machine never reaches it.
const DefaultStepTimeout = 60 * time.Second

// ShiftTolerance is the layout shift a test accepts from the widget where it
// should cause none: a tenth of the 0.1 that Core Web Vitals call a good
// CLS. A widget that moves the page, an image that loads without its box
// reserved, scores far above it; sub-pixel rounding scores far below.
const ShiftTolerance = 0.01

// Scenario names what the script does once the widget has rendered or
// given up.
type Scenario string

const (
	// Happy copies the coupon code, then clicks the first recommendation.
	Happy Scenario = "happy"
	// Failing does nothing more than look: it is for answers that show
	// nothing, and for pages that are only measured.
	Failing Scenario = "failing"
	// OptIn ticks the newsletter opt-in and submits it.
	OptIn Scenario = "optin"
)

// Viewport is the browser window's size in CSS pixels.
type Viewport struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Config is one run of the script.
type Config struct {
	// URL is the thank-you page.
	URL string
	// Scenario is what to do on it.
	Scenario Scenario
	// Container is the widget container's selector; DefaultContainer if empty.
	Container string
	// Screenshot, when set, is where to save a full-page PNG once the
	// widget's images have loaded.
	Screenshot string
	// Viewport defaults to 1024x800.
	Viewport Viewport
	// StepTimeout bounds each step of the run; DefaultStepTimeout if zero.
	StepTimeout time.Duration
}

// Outcome is how the widget settled on the page.
type Outcome string

const (
	// Rendered means the widget's root appeared in its shadow root.
	Rendered Outcome = "rendered"
	// GaveUp means the widget logged its "[tsunagu]" debug line instead.
	GaveUp Outcome = "gave_up"
	// TimedOut means neither happened within the step timeout.
	TimedOut Outcome = "timeout"
)

// Result is what the page showed.
type Result struct {
	Scenario Scenario `json:"scenario"`
	Settled  Outcome  `json:"settled"`
	// Debug holds the widget's "[tsunagu]" console.debug lines.
	Debug []string `json:"debug"`
	// Console is every console message, the browser's own included.
	Console []ConsoleMessage `json:"console"`
	// PageErrors are uncaught exceptions and unhandled promise rejections as
	// the browser reports them ("Uncaught (in promise) ..."). The page's own
	// listeners cannot see them for a cross-origin script like the widget.
	PageErrors []string `json:"page_errors"`
	// HeightBeforeImages and HeightAfterImages are the container's height
	// once the widget is painted and once its images have loaded.
	HeightBeforeImages float64 `json:"height_before_images"`
	HeightAfterImages  float64 `json:"height_after_images"`
	Widget             Widget  `json:"widget"`
	// HostStyleChanges lists host-page elements whose computed style
	// changed after the widget rendered ("h2 font-size: 20px -> 17px").
	HostStyleChanges []string `json:"host_style_changes"`
	// StyleLeaks lists widget elements that a probe style in the host page
	// reached through the shadow boundary.
	StyleLeaks []string `json:"style_leaks"`
	Screenshot string   `json:"screenshot"`
	// Copy is what the coupon's copy button did (Happy).
	Copy *Copy `json:"copy"`
	// Navigation is where a click on the first recommendation led (Happy).
	Navigation *Navigation `json:"navigation"`
	// OptIn is what the opt-in block showed after submitting (OptIn).
	OptIn *OptInResult `json:"optin"`
	// LayoutShifts are the thank-you page's layout-shift entries, observed
	// from before its first script ran.
	LayoutShifts []LayoutShift `json:"layout_shifts"`
	// RenderMarkMS is when the widget had settled and its first render (if
	// any) was painted, on the page's clock (performance.now()).
	RenderMarkMS float64 `json:"render_mark_ms"`
}

// ConsoleMessage is one console line.
type ConsoleMessage struct {
	Type string `json:"type"`
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Widget is what the widget container holds.
type Widget struct {
	ContainerFound  bool             `json:"container_found"`
	ShadowRoot      bool             `json:"shadow_root"`
	LightDOMNodes   int              `json:"light_dom_nodes"`
	Blocks          []Block          `json:"blocks"`
	Recommendations []Recommendation `json:"recommendations"`
	CouponCode      string           `json:"coupon_code"`
}

// Block is one of the widget's blocks (data-testid recommendations, coupon,
// line, optin), in page order.
type Block struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	Links   []Link   `json:"links"`
	Buttons []string `json:"buttons"`
	Box     Box      `json:"box"`
}

// Link is an anchor: its text, resolved href and target.
type Link struct {
	Text   string `json:"text"`
	Href   string `json:"href"`
	Target string `json:"target"`
}

// Box is an element's bounding box in the viewport, in CSS pixels.
type Box struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Recommendation is one product card.
type Recommendation struct {
	Name  string `json:"name"`
	Price string `json:"price"`
	Href  string `json:"href"`
	Image *Image `json:"image"`
	Box   Box    `json:"box"`
}

// Image is a card's image: its alt text, its width and height attributes,
// and whether it loaded.
type Image struct {
	Alt        string `json:"alt"`
	WidthAttr  string `json:"width_attr"`
	HeightAttr string `json:"height_attr"`
	Loaded     bool   `json:"loaded"`
}

// Copy is the coupon copy button's outcome: its label and status note
// afterwards, and the clipboard's text (empty when unreadable).
type Copy struct {
	Button    string `json:"button"`
	Note      string `json:"note"`
	Clipboard string `json:"clipboard"`
}

// Navigation is the page a click led to.
type Navigation struct {
	URL     string `json:"url"`
	Heading string `json:"heading"`
}

// OptInResult is the opt-in block after submitting.
type OptInResult struct {
	Status          string `json:"status"`
	SubmitPresent   bool   `json:"submit_present"`
	CheckboxPresent bool   `json:"checkbox_present"`
}

// LayoutShift is one layout-shift performance entry.
type LayoutShift struct {
	Value          float64  `json:"value"`
	StartMS        float64  `json:"start_ms"`
	HadRecentInput bool     `json:"had_recent_input"`
	Sources        []string `json:"sources"`
	// ByWidget tells that the widget can have caused the shift: one of its
	// sources is the widget, inside it (the browser names no node in a
	// shadow root), or after its container in the page's flow. A shift of
	// what comes before the container (the shop's header and logo) is the
	// page's own.
	ByWidget bool `json:"by_widget"`
}

// CLS sums the page's layout shifts without recent input, whatever caused
// them: the page's cumulative layout shift as the browser reports it.
func (r *Result) CLS() float64 {
	return r.sumShifts(func(LayoutShift) bool { return true })
}

// WidgetShift sums the layout shifts without recent input that the widget
// can have caused, from the page's load on: for a widget that renders
// nothing, what it moved all the same.
func (r *Result) WidgetShift() float64 {
	return r.sumShifts(func(s LayoutShift) bool { return s.ByWidget })
}

// WidgetShiftAfterRender sums the layout shifts without recent input that
// the widget can have caused after its first render was painted: its
// images loading, its blocks changing on their own.
func (r *Result) WidgetShiftAfterRender() float64 {
	return r.sumShifts(func(s LayoutShift) bool { return s.ByWidget && s.StartMS > r.RenderMarkMS })
}

func (r *Result) sumShifts(keep func(LayoutShift) bool) float64 {
	total := 0.0
	for _, s := range r.LayoutShifts {
		if !s.HadRecentInput && keep(s) {
			total += s.Value
		}
	}
	return total
}

// Block returns the block with the given data-testid, or nil.
func (w Widget) Block(id string) *Block {
	for i := range w.Blocks {
		if w.Blocks[i].ID == id {
			return &w.Blocks[i]
		}
	}
	return nil
}

// BlockIDs returns the blocks' ids in page order.
func (w Widget) BlockIDs() []string {
	ids := make([]string, 0, len(w.Blocks))
	for _, b := range w.Blocks {
		ids = append(ids, b.ID)
	}
	return ids
}

// ConsoleErrors returns the console errors other than the browser's own
// "Failed to load resource" lines, which any failing request prints.
func (r *Result) ConsoleErrors() []string {
	var errs []string
	for _, m := range r.Console {
		if m.Type == "error" && !strings.HasPrefix(m.Text, "Failed to load resource:") {
			errs = append(errs, m.Text)
		}
	}
	return errs
}

// Check reports whether Chromium and playwright-core are installed, with
// what to run when they are not. root is the project root.
func Check(root string) error {
	if _, err := os.Stat(Chromium); err != nil {
		return fmt.Errorf("check browser: %s is missing; run `make browser` (make test installs it): %w", Chromium, err)
	}
	pw := filepath.Join(root, "infra", "local", "node_modules", "playwright-core", "package.json")
	if _, err := os.Stat(pw); err != nil {
		return fmt.Errorf("check browser: playwright-core is not installed in infra/local; run `npm ci` there (make test and the tests do it through emulator.Install): %w", err)
	}
	return nil
}

// nodeAndRoot checks that Chromium and playwright-core are installed and
// finds the project root and Node.js, for the scripts that drive Chromium;
// op names what failed in errors.
func nodeAndRoot(op string) (root, node string, err error) {
	if root, err = project.Root(); err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(root); err != nil {
		return "", "", err
	}
	if node, err = exec.LookPath("node"); err != nil {
		return "", "", fmt.Errorf("%s: node (Node.js) was not found on PATH; install Node.js 20 or newer", op)
	}
	return root, node, nil
}

// Browser is one Chromium, driven by the script, that serves runs until
// Close. Its methods may be called from several goroutines.
type Browser struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// stderr keeps what the script printed there, for error messages.
	stderr *syncBuffer
	// exited is closed once the script's stdout has ended; err says why.
	exited chan struct{}
	err    error

	mu      sync.Mutex
	nextID  int
	pending map[int]chan reply
}

// reply is one line the script prints: ready, or the answer to run id.
type reply struct {
	Ready  bool            `json:"ready"`
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
}

// Launch starts the script and waits until its Chromium is up, or until ctx
// is done. The browser lives until Close; should this process die first,
// the script sees its stdin close and closes Chromium itself.
func Launch(ctx context.Context) (*Browser, error) {
	root, node, err := nodeAndRoot("launch browser")
	if err != nil {
		return nil, err
	}
	b := &Browser{stderr: &syncBuffer{}, exited: make(chan struct{}), pending: map[int]chan reply{}}
	b.cmd = exec.Command(node, filepath.Join(root, Script))
	b.cmd.Dir = root
	b.cmd.Stderr = b.stderr
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("launch browser: %w", err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("launch browser: %w", err)
	}
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("launch browser: %w", err)
	}
	ready := make(chan struct{})
	go b.read(stdout, ready)
	select {
	case <-ready:
		return b, nil
	case <-b.exited:
		b.Close() //nolint:errcheck // the launch error says more
		return nil, fmt.Errorf("launch browser: %w", b.err)
	case <-ctx.Done():
		// SIGTERM lets playwright close Chromium; a kill would orphan it.
		b.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited already
		b.Close()                             //nolint:errcheck // ctx's error says more
		return nil, fmt.Errorf("launch browser: %w", ctx.Err())
	}
}

// read dispatches the script's answers to the runs waiting for them, until
// its stdout ends; then it fails every run still waiting.
func (b *Browser) read(stdout io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var r reply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.err = fmt.Errorf("decode %q: %w", sc.Bytes(), err)
			break
		}
		if r.Ready {
			close(ready)
			continue
		}
		b.mu.Lock()
		ch := b.pending[r.ID]
		delete(b.pending, r.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	if b.err == nil {
		b.err = sc.Err()
	}
	if b.err == nil {
		b.err = errors.New("the browser script exited")
	}
	b.err = fmt.Errorf("%w\n%s", b.err, b.stderr.String())
	close(b.exited)
}

// Run loads cfg.URL in a fresh browser context, plays cfg.Scenario and
// returns what the page showed.
func (b *Browser) Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Container == "" {
		cfg.Container = DefaultContainer
	}
	if cfg.Viewport == (Viewport{}) {
		cfg.Viewport = Viewport{Width: 1024, Height: 800}
	}
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = DefaultStepTimeout
	}
	type config struct {
		URL           string   `json:"url"`
		Scenario      Scenario `json:"scenario"`
		Container     string   `json:"container"`
		Screenshot    string   `json:"screenshot,omitempty"`
		Viewport      Viewport `json:"viewport"`
		StepTimeoutMS int64    `json:"step_timeout_ms"`
	}
	ch := make(chan reply, 1)
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	line, err := json.Marshal(struct {
		ID     int    `json:"id"`
		Config config `json:"config"`
	}{id, config{cfg.URL, cfg.Scenario, cfg.Container, cfg.Screenshot, cfg.Viewport, cfg.StepTimeout.Milliseconds()}})
	if err == nil {
		_, err = b.stdin.Write(append(line, '\n'))
	}
	if err != nil {
		delete(b.pending, id)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("run browser %s on %s: %w", cfg.Scenario, cfg.URL, err)
	}
	var r reply
	select {
	case r = <-ch:
	case <-b.exited:
		return nil, fmt.Errorf("run browser %s on %s: %w", cfg.Scenario, cfg.URL, b.err)
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return nil, fmt.Errorf("run browser %s on %s: %w", cfg.Scenario, cfg.URL, ctx.Err())
	}
	if r.Error != "" {
		return nil, fmt.Errorf("run browser %s on %s: %s", cfg.Scenario, cfg.URL, r.Error)
	}
	var res Result
	if err := json.Unmarshal(r.Result, &res); err != nil {
		return nil, fmt.Errorf("run browser %s: decode result: %w", cfg.Scenario, err)
	}
	return &res, nil
}

// Close lets the runs under way finish, then closes Chromium and waits for
// the script to exit.
func (b *Browser) Close() error {
	b.mu.Lock()
	err := b.stdin.Close()
	b.mu.Unlock()
	<-b.exited // Wait closes stdout: only once it has all been read
	if werr := b.cmd.Wait(); werr != nil {
		return fmt.Errorf("close browser: %w\n%s", werr, b.stderr.String())
	}
	if err != nil {
		return fmt.Errorf("close browser: %w", err)
	}
	return nil
}

// syncBuffer is a bytes.Buffer that the script's stderr writes to while
// error messages read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
