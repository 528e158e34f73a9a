// Package browser drives a real Chromium over a shop's thank-you page, for
// the tests of the tsunagu widget (functions/thankyou/widget.js). It runs
// infra/browser/thankyou.mjs, a Node.js script using playwright-core (pinned
// in infra/local), with a Config on stdin, and returns the Result it prints:
// what the page showed. The script judges nothing; the tests assert.
//
// Chromium is Debian's package (`make browser` installs it, `make test`
// depends on it); playwright-core comes with `npm ci` in infra/local, which
// emulator.Install runs.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/project"
)

// Chromium is the browser the script launches: Debian's chromium package.
const Chromium = "/usr/bin/chromium"

// Script is the driver, relative to the project root.
const Script = "infra/browser/thankyou.mjs"

// DefaultContainer is the widget container the embed snippet names.
const DefaultContainer = "#tsunagu-thankyou"

// DefaultTimeout bounds one run when Config.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// Scenario names what the script does once the widget has rendered or
// given up.
type Scenario string

const (
	// Happy copies the coupon code, then clicks the first recommendation.
	Happy Scenario = "happy"
	// Failing does nothing more: it is for answers that show nothing.
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
	// Timeout bounds the whole run; DefaultTimeout if zero.
	Timeout time.Duration
}

// Outcome is how the widget settled on the page.
type Outcome string

const (
	// Rendered means the widget's root appeared in its shadow root.
	Rendered Outcome = "rendered"
	// GaveUp means the widget logged its "[tsunagu]" debug line instead.
	GaveUp Outcome = "gave_up"
	// TimedOut means neither happened before the deadline.
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
	// CLS sums the shifts without recent input; CLSAfterRender only those
	// after the widget's first render was painted.
	CLS            float64 `json:"cls"`
	CLSAfterRender float64 `json:"cls_after_render"`
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

// Run loads cfg.URL in Chromium, plays cfg.Scenario and returns what the
// page showed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	root, err := project.Root()
	if err != nil {
		return nil, fmt.Errorf("run browser: %w", err)
	}
	if err := Check(root); err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("run browser: node (Node.js) was not found on PATH; install Node.js 20 or newer")
	}
	if cfg.Container == "" {
		cfg.Container = DefaultContainer
	}
	if cfg.Viewport == (Viewport{}) {
		cfg.Viewport = Viewport{Width: 1024, Height: 800}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	in, err := json.Marshal(struct {
		URL        string   `json:"url"`
		Scenario   Scenario `json:"scenario"`
		Container  string   `json:"container"`
		Screenshot string   `json:"screenshot,omitempty"`
		Viewport   Viewport `json:"viewport"`
		TimeoutMS  int64    `json:"timeout_ms"`
	}{cfg.URL, cfg.Scenario, cfg.Container, cfg.Screenshot, cfg.Viewport, cfg.Timeout.Milliseconds()})
	if err != nil {
		return nil, fmt.Errorf("run browser: encode config: %w", err)
	}
	// The script keeps its own deadline; this one is the backstop.
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout+15*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, Script))
	cmd.Dir = root
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// On cancellation, SIGTERM lets playwright close Chromium; a kill would
	// leave it orphaned.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run browser %s on %s: %w\n%s", cfg.Scenario, cfg.URL, err, stderr.Bytes())
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("run browser %s: decode result: %w\n%s", cfg.Scenario, err, stdout.Bytes())
	}
	return &res, nil
}
