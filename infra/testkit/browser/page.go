package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
)

// PageScript is the driver of InspectPage, relative to the project root.
const PageScript = "infra/browser/report.mjs"

// PageConfig is one look at a page.
type PageConfig struct {
	// URL is the page, typically a file:// URL of a report.
	URL string `json:"url"`
	// Viewport is the window's size; 1024x800 if zero.
	Viewport Viewport `json:"viewport"`
	// Screenshot, when set, is where to save a full-page PNG.
	Screenshot string `json:"screenshot,omitempty"`
	// Steps are done in order once the page has loaded, as a person
	// would (a form filled in and sent); the page is judged after them.
	Steps []Step `json:"steps,omitempty"`
}

// Step is one action on a page: click an element, fill a field with a
// value, click a submit button and wait for the page it leads to, or wait
// for an element to appear (a script's answer). Selectors reach into open
// shadow roots.
type Step struct {
	Click  string `json:"click,omitempty"`
	Fill   string `json:"fill,omitempty"`
	Value  string `json:"value,omitempty"`
	Submit string `json:"submit,omitempty"`
	Wait   string `json:"wait,omitempty"`
}

// Page is what a page showed.
type Page struct {
	Console    []ConsoleMessage `json:"console"`
	PageErrors []string         `json:"page_errors"`
	// Requests are the URLs the page asked for beyond its own origin.
	Requests []string `json:"requests"`
	// Status is the HTTP status of the last page loaded (0 for a file).
	Status int `json:"status"`
	// ScrollWidth and ClientWidth are the document's: a page wider than
	// its window scrolls sideways.
	ScrollWidth float64 `json:"scroll_width"`
	ClientWidth float64 `json:"client_width"`
	Charts      []Chart `json:"charts"`
	// Sections are the data-testid of the page's sections, in order.
	Sections []string `json:"sections"`
	Title    string   `json:"title"`
	Text     string   `json:"text"`
}

// Chart is one svg.chart: the section it is in, its rendered size and
// how many of its shapes (rect, circle, line, path) have a size.
type Chart struct {
	Section string  `json:"section"`
	Width   float64 `json:"width"`
	Height  float64 `json:"height"`
	Shapes  int     `json:"shapes"`
}

// ConsoleErrors returns the page's console errors.
func (p *Page) ConsoleErrors() []string {
	var errs []string
	for _, m := range p.Console {
		if m.Type == "error" {
			errs = append(errs, m.Text)
		}
	}
	return errs
}

// Problems lists what makes the page fail as a self-contained report in
// a window w CSS pixels wide: console errors, uncaught exceptions, any
// request beyond the page, a sideways scroll, and charts that are not
// drawn (under 100x20 px, wider than the window, or no shape with a size).
func (p *Page) Problems(w int) []string {
	var out []string
	if errs := p.ConsoleErrors(); len(errs) > 0 || len(p.PageErrors) > 0 {
		out = append(out, fmt.Sprintf("console errors %q, page errors %q", errs, p.PageErrors))
	}
	if len(p.Requests) > 0 {
		out = append(out, fmt.Sprintf("the page fetched %q", p.Requests))
	}
	if p.ScrollWidth > p.ClientWidth {
		out = append(out, fmt.Sprintf("the page is %v px wide in a %v px window: it scrolls sideways", p.ScrollWidth, p.ClientWidth))
	}
	for _, c := range p.Charts {
		if c.Width < 100 || c.Height < 20 || c.Shapes == 0 || c.Width > float64(w) {
			out = append(out, fmt.Sprintf("a chart in %s is %vx%v px with %d shapes drawn", c.Section, c.Width, c.Height, c.Shapes))
		}
	}
	return out
}

// ChartsBySection counts the charts in each section.
func (p *Page) ChartsBySection() map[string]int {
	out := map[string]int{}
	for _, c := range p.Charts {
		out[c.Section]++
	}
	return out
}

// InspectPage opens cfg.URL in a fresh Chromium (infra/browser/report.mjs)
// and reports what it showed. Chromium and playwright-core must be
// installed (see Check).
func InspectPage(ctx context.Context, cfg PageConfig) (*Page, error) {
	root, node, err := nodeAndRoot("inspect page")
	if err != nil {
		return nil, err
	}
	if cfg.Viewport == (Viewport{}) {
		cfg.Viewport = Viewport{Width: 1024, Height: 800}
	}
	in, err := json.Marshal(struct {
		PageConfig
		StepTimeoutMS int64 `json:"step_timeout_ms"`
	}{cfg, DefaultStepTimeout.Milliseconds()})
	if err != nil {
		return nil, fmt.Errorf("inspect page: %w", err)
	}
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, PageScript))
	// SIGTERM lets playwright close Chromium; a kill would orphan it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("inspect page %s: %w\n%s", cfg.URL, err, stderr.String())
	}
	var p Page
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("inspect page %s: decode %q: %w", cfg.URL, stdout.String(), err)
	}
	return &p, nil
}
