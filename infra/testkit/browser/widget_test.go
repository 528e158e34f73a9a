package browser_test

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"html"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	"github.com/tsunagu-dev/tsunagu/infra/local/project"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/browser"
)

var update = flag.Bool("update", false, "also save the happy screenshot to docs/screenshots/thankyou.png")

// secret signs order ids the way THANKYOU_SIGNING_SECRET does locally.
const secret = "dev-secret"

// maxGzip is the widget's size budget, gzipped.
const maxGzip = 15 * 1024

// heightTolerance is how far apart two heights may be, in CSS pixels, and
// still count as the same: half a pixel, which no one sees move.
const heightTolerance = 0.5

func TestWidget(t *testing.T) {
	root := projectRoot(t)
	ctx := t.Context()
	if err := emulator.Install(ctx, filepath.Join(root, "infra", "local")); err != nil {
		t.Fatal(err)
	}
	chromium := launch(t)
	shots := filepath.Join(root, ".local", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, root)

	allBlocks := []string{"recommendations", "coupon", "line", "optin"}
	wantRecs := []string{"宇治煎茶 100g", "京ほうじ茶 ティーバッグ 20包", "宇治抹茶 椿の昔 30g", "常滑焼 朱泥急須 300ml"}
	// Tall enough that the footer below the widget is in view: a shift of it
	// counts in CLS (shifts below the fold do not).
	tall := browser.Viewport{Width: 1024, Height: 2000}
	narrow := browser.Viewport{Width: 375, Height: 740}
	fullText := map[string][]string{
		"coupon": {"次回のお買い物で使えるクーポン", "次回使える10%OFFクーポン", "10%OFF", "3,000円以上のご注文で", "2026年12月21日まで有効", "コピー"},
		"line":   {"LINE 友だち追加", "友だち追加", "LINEアカウントと連携"},
		"optin":  {"椿茶園からのお知らせ（新商品・セール情報）をメールで受け取る", "登録する"},
	}
	fullLinks := map[string][]string{"line": {"https://lin.ee/abcdefg", "{{SHOP}}/line/link?order=1001"}}

	tests := []struct {
		name     string
		order    string // the API's canned behaviour is chosen by order id
		sig      string // empty: the right signature
		scenario browser.Scenario
		viewport browser.Viewport
		shot     string // screenshot file name in .local/screenshots
		// Rendered cases; nil wantBlocks means nothing must be rendered.
		wantBlocks []string
		wantRecs   []string
		wantCode   string
		wantText   map[string][]string // block id -> text it must show
		wantLinks  map[string][]string // block id -> its links' hrefs ({{SHOP}} is the shop)
		columns    int                 // recommendation columns; 0: not checked
		wantOptIn  string              // opt-in status after submitting
		optinPOST  bool                // the API must have recorded one opt-in for order
	}{
		{name: "happy", order: "1001", scenario: browser.Happy, shot: "thankyou.png",
			wantBlocks: allBlocks, wantRecs: wantRecs, wantCode: "TSN-7KQ2-9XMF-A3PW",
			wantText: fullText, wantLinks: fullLinks, columns: 4},
		{name: "happy narrow screen", order: "1001", scenario: browser.Happy, viewport: narrow, shot: "thankyou-narrow.png",
			wantBlocks: allBlocks, wantRecs: wantRecs, wantCode: "TSN-7KQ2-9XMF-A3PW", columns: 1},
		{name: "coupon only", order: "1002", scenario: browser.Happy,
			wantBlocks: []string{"coupon"}, wantCode: "TSN-BBBB-CCCC-DDDD"},
		{name: "hostile data stays text", order: "1003", scenario: browser.Happy,
			wantBlocks: []string{"recommendations", "coupon"},
			wantRecs:   []string{`<img src=x onerror="console.error('xss name')">羊羹`},
			wantCode:   `<script>console.error('xss code')</script>`,
			wantText:   map[string][]string{"recommendations": {"<b>100円</b>"}, "coupon": {"<i>名前</i>", "<u>期限</u>"}}},
		{name: "opt-in recorded", order: "1001", scenario: browser.OptIn,
			wantBlocks: allBlocks, wantOptIn: "ご登録ありがとうございます", optinPOST: true},
		{name: "opt-in fails", order: "1005", scenario: browser.OptIn,
			wantBlocks: []string{"optin"}, wantOptIn: "もう一度お試しください", optinPOST: true},
		{name: "nothing to show", order: "1004", scenario: browser.Failing},
		{name: "api 500", order: "500", scenario: browser.Failing},
		{name: "api timeout", order: "hang", scenario: browser.Failing},
		{name: "malformed json", order: "garbage", scenario: browser.Failing},
		{name: "network error", order: "drop", scenario: browser.Failing},
		{name: "bad signature 401", order: "1001", sig: "bad", scenario: browser.Failing},
		{name: "unknown order 404", order: "9999", scenario: browser.Failing},
	}
	t.Run("scenarios", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				page := env.pageURL(tt.order, tt.sig)
				cfg := browser.Config{URL: page, Scenario: tt.scenario, Viewport: tt.viewport}
				if cfg.Viewport == (browser.Viewport{}) {
					cfg.Viewport = tall
				}
				if tt.shot != "" {
					cfg.Screenshot = filepath.Join(shots, tt.shot)
				}
				res, err := chromium.Run(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("settled %s, page CLS %.4f, widget's shift %.4f (after render %.4f), debug %q",
					res.Settled, res.CLS(), res.WidgetShift(), res.WidgetShiftAfterRender(), res.Debug)

				// Whatever happens, the widget throws nothing and touches no page style.
				if len(res.PageErrors) > 0 {
					t.Errorf("page errors (uncaught exceptions, unhandled rejections): %q", res.PageErrors)
				}
				if errs := res.ConsoleErrors(); len(errs) > 0 {
					t.Errorf("console errors: %q", errs)
				}
				if len(res.HostStyleChanges) > 0 {
					t.Errorf("the widget's CSS leaked into the page: %q", res.HostStyleChanges)
				}
				if res.Widget.LightDOMNodes != 0 {
					t.Errorf("container has %d light DOM nodes, want 0", res.Widget.LightDOMNodes)
				}

				if tt.wantBlocks == nil {
					checkNothing(t, res)
					return
				}
				checkRendered(t, res, tt.wantBlocks)
				for id, want := range tt.wantText {
					b := res.Widget.Block(id)
					for _, s := range want {
						if b == nil || !strings.Contains(b.Text, s) {
							t.Errorf("block %s does not show %q", id, s)
						}
					}
				}
				for id, want := range tt.wantLinks {
					var got []string
					if b := res.Widget.Block(id); b != nil {
						for _, l := range b.Links {
							got = append(got, l.Href)
						}
					}
					want = slices.Clone(want)
					for i := range want {
						want[i] = strings.ReplaceAll(want[i], "{{SHOP}}", env.shop.URL)
					}
					if !slices.Equal(got, want) {
						t.Errorf("block %s links to %q, want %q", id, got, want)
					}
				}
				if tt.wantRecs != nil {
					checkRecommendations(t, res, env.shop.URL, tt.wantRecs, tt.columns)
				}
				if tt.wantCode != "" {
					checkCoupon(t, res, tt.wantCode, tt.scenario)
				}
				if tt.scenario == browser.OptIn {
					if res.OptIn == nil || !strings.Contains(res.OptIn.Status, tt.wantOptIn) {
						t.Errorf("opt-in status = %+v, want it to contain %q", res.OptIn, tt.wantOptIn)
					}
					// Success replaces the form; failure keeps it for a retry.
					if res.OptIn != nil && res.OptIn.SubmitPresent != (tt.order == "1005") {
						t.Errorf("opt-in submit button present = %v after %q", res.OptIn.SubmitPresent, res.OptIn.Status)
					}
				}
				if tt.optinPOST {
					checkOptInPOST(t, env.api.optins(tt.order), env.shop.URL)
				}
				if tt.name == "happy" && *update {
					saveDocScreenshot(t, root, cfg.Screenshot)
				}
			})
		}
	})

	// The measure can fail: a widget whose images get no box before they
	// load moves the page far beyond the tolerance once they arrive.
	t.Run("images without reserved boxes are caught", func(t *testing.T) {
		res, err := chromium.Run(ctx, browser.Config{URL: env.pageURL("1001", "") + "&widget=" + unreservedImages, Scenario: browser.Failing, Viewport: tall})
		if err != nil {
			t.Fatal(err)
		}
		if res.Settled != browser.Rendered || len(res.Widget.Recommendations) == 0 {
			t.Fatalf("settled %s with %d recommendations, want some rendered", res.Settled, len(res.Widget.Recommendations))
		}
		got := res.WidgetShiftAfterRender()
		t.Logf("layout shift after render %.4f, widget height %.1f before its images loaded, %.1f after", got, res.HeightBeforeImages, res.HeightAfterImages)
		if got <= browser.ShiftTolerance {
			t.Errorf("the widget's layout shift after it rendered is %.4f, want over %v; shifts %+v", got, browser.ShiftTolerance, res.LayoutShifts)
		}
	})

	// Every request the widget made was a CORS simple request.
	if n := env.api.preflights(); n != 0 {
		t.Errorf("the API saw %d CORS preflight requests, want 0", n)
	}
	// Only the opt-in scenarios post.
	if got := env.api.optins("1002"); len(got) != 0 {
		t.Errorf("opt-ins for order 1002 = %+v, want none", got)
	}
}

func TestWidgetSize(t *testing.T) {
	root := projectRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "functions", "thankyou", "widget.js"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("widget.js: %d bytes, %d gzipped", len(src), buf.Len())
	if buf.Len() >= maxGzip {
		t.Errorf("widget.js is %d bytes gzipped, want under %d", buf.Len(), maxGzip)
	}
}

func checkNothing(t *testing.T, res *browser.Result) {
	t.Helper()
	if res.Settled != browser.GaveUp {
		t.Errorf("settled %q, want %q (the widget's debug line)", res.Settled, browser.GaveUp)
	}
	if res.Widget.ShadowRoot || len(res.Widget.Blocks) > 0 {
		t.Errorf("widget rendered %v (shadow root %v), want nothing", res.Widget.BlockIDs(), res.Widget.ShadowRoot)
	}
	if res.HeightAfterImages > heightTolerance {
		t.Errorf("container is %.1fpx high, want 0", res.HeightAfterImages)
	}
	if got := res.WidgetShift(); got > browser.ShiftTolerance {
		t.Errorf("the widget moved the page: layout shift %.4f, want at most %v; shifts %+v", got, browser.ShiftTolerance, res.LayoutShifts)
	}
}

func checkRendered(t *testing.T, res *browser.Result, want []string) {
	t.Helper()
	if res.Settled != browser.Rendered {
		t.Fatalf("settled %q, want %q; debug %q", res.Settled, browser.Rendered, res.Debug)
	}
	if !res.Widget.ShadowRoot {
		t.Error("the widget did not render into a shadow root")
	}
	if got := res.Widget.BlockIDs(); !slices.Equal(got, want) {
		t.Errorf("blocks = %q, want %q", got, want)
	}
	if len(res.StyleLeaks) > 0 {
		t.Errorf("host page styles leaked into the widget: %q", res.StyleLeaks)
	}
	// Images have their box before they load: loading them moves nothing.
	if math.Abs(res.HeightBeforeImages-res.HeightAfterImages) > heightTolerance {
		t.Errorf("widget height %.1f before its images loaded, %.1f after", res.HeightBeforeImages, res.HeightAfterImages)
	}
	if got := res.WidgetShiftAfterRender(); got > browser.ShiftTolerance {
		t.Errorf("the widget moved the page after it rendered: layout shift %.4f, want at most %v; shifts %+v", got, browser.ShiftTolerance, res.LayoutShifts)
	}
}

func checkRecommendations(t *testing.T, res *browser.Result, shop string, want []string, columns int) {
	t.Helper()
	recs := res.Widget.Recommendations
	var names []string
	for _, r := range recs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("recommendations = %q, want %q", names, want)
	}
	for _, r := range recs {
		if !strings.HasPrefix(r.Href, shop+"/products/") {
			t.Errorf("recommendation %q links to %q, want a product page on %s", r.Name, r.Href, shop)
		}
		if r.Image != nil && (r.Image.Alt != r.Name || r.Image.WidthAttr == "" || r.Image.HeightAttr == "" || !r.Image.Loaded) {
			t.Errorf("recommendation %q image = %+v, want alt text, width and height, loaded", r.Name, r.Image)
		}
	}
	if columns > 0 {
		if got := rowWidth(recs); got != columns {
			t.Errorf("recommendations in %d columns, want %d", got, columns)
		}
	}
	if res.Navigation == nil {
		t.Fatal("no navigation after clicking the first recommendation")
	}
	if res.Navigation.URL != recs[0].Href {
		t.Errorf("click on %q went to %q, want %q", recs[0].Name, res.Navigation.URL, recs[0].Href)
	}
	sku := strings.TrimPrefix(recs[0].Href, shop+"/products/")
	if !strings.Contains(res.Navigation.Heading, sku) {
		t.Errorf("product page heading %q, want it to name %s", res.Navigation.Heading, sku)
	}
}

// rowWidth counts the cards on the first row: their tops within a pixel of
// the first card's.
func rowWidth(recs []browser.Recommendation) int {
	n := 0
	for _, r := range recs {
		if math.Abs(r.Box.Y-recs[0].Box.Y) < 1 {
			n++
		}
	}
	return n
}

func checkCoupon(t *testing.T, res *browser.Result, code string, scenario browser.Scenario) {
	t.Helper()
	if res.Widget.CouponCode != code {
		t.Errorf("coupon code = %q, want %q", res.Widget.CouponCode, code)
	}
	if scenario != browser.Happy {
		return
	}
	if res.Copy == nil || res.Copy.Clipboard != code || res.Copy.Button != "コピーしました" {
		t.Errorf("copy = %+v, want %q on the clipboard and the button saying so", res.Copy, code)
	}
}

func checkOptInPOST(t *testing.T, got []optinRequest, shop string) {
	t.Helper()
	want := optinRequest{ContentType: "text/plain;charset=UTF-8", Body: `{"consent":true}`, Origin: shop}
	if len(got) != 1 || got[0] != want {
		t.Errorf("opt-in requests = %+v, want one %+v", got, want)
	}
}

func saveDocScreenshot(t *testing.T, root, shot string) {
	t.Helper()
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(root, "docs", "screenshots", "thankyou.png")
	if err := os.MkdirAll(filepath.Dir(doc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", doc)
}

// launch starts the package's one Chromium, closed when the test ends.
func launch(t *testing.T) *browser.Browser {
	t.Helper()
	b, err := browser.Launch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

func projectRoot(t *testing.T) string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// env is a shop origin serving the sample pages and an API origin serving
// the widget and canned answers, both on 127.0.0.1.
type env struct {
	shop *httptest.Server
	api  *fakeAPI
}

func newEnv(t *testing.T, root string) *env {
	t.Helper()
	sample := filepath.Join(root, "infra", "sample-shop")
	thankyou := readFile(t, filepath.Join(sample, "thankyou.html"))
	product := readFile(t, filepath.Join(sample, "product.html"))
	e := &env{api: &fakeAPI{root: root, stop: make(chan struct{}), optinLog: map[string][]optinRequest{}}}

	shop := http.NewServeMux()
	shop.HandleFunc("GET /thankyou.html", func(w http.ResponseWriter, r *http.Request) {
		order := r.URL.Query().Get("order")
		sig := r.URL.Query().Get("sig")
		page := strings.NewReplacer("{{API}}", e.api.URL, "{{ORDER_ID}}", html.EscapeString(order), "{{SIG}}", html.EscapeString(sig)).Replace(thankyou)
		if variant := r.URL.Query().Get("widget"); variant != "" {
			page = strings.Replace(page, "/thankyou/widget.js\"", "/thankyou/widget.js?variant="+url.QueryEscape(variant)+"\"", 1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	shop.HandleFunc("GET /products/{sku}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.ReplaceAll(product, "{{SKU}}", html.EscapeString(r.PathValue("sku"))))
	})
	shop.Handle("GET /img/", http.FileServer(http.Dir(sample)))
	e.shop = httptest.NewServer(shop)
	t.Cleanup(e.shop.Close)

	e.api.Server = httptest.NewServer(e.api.handler(t, e.shop.URL))
	t.Cleanup(e.api.Close)
	// Runs first: lets hanging handlers return before the server closes.
	t.Cleanup(func() { close(e.api.stop) })
	return e
}

// pageURL is the thank-you page for an order, signed unless sig is given.
func (e *env) pageURL(order, sig string) string {
	if sig == "" {
		sig = sign(order)
	}
	return e.shop.URL + "/thankyou.html?" + url.Values{"order": {order}, "sig": {sig}}.Encode()
}

func sign(order string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(order))
	return hex.EncodeToString(m.Sum(nil))
}

// optinRequest is what the fake API saw of one opt-in POST.
type optinRequest struct {
	ContentType string
	Body        string
	Origin      string
}

// fakeAPI answers GET /thankyou/{orderId} with testdata/answers/<orderId>.json,
// or misbehaves for the order ids 500, hang, garbage and drop; it records
// opt-in posts (and fails them for order 1005) and counts CORS preflights.
type fakeAPI struct {
	*httptest.Server
	root string
	stop chan struct{}

	mu        sync.Mutex
	optinLog  map[string][]optinRequest
	preflight int
}

func (a *fakeAPI) handler(t *testing.T, shop string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /thankyou/widget.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		src, err := os.ReadFile(filepath.Join(a.root, "functions", "thankyou", "widget.js"))
		if err != nil {
			t.Errorf("read widget: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.URL.Query().Get("variant") == unreservedImages {
			src = withoutImageBoxes(t, src)
		}
		w.Write(src)
	})
	mux.HandleFunc("GET /thankyou/{order}", func(w http.ResponseWriter, r *http.Request) {
		order := r.PathValue("order")
		if r.URL.Query().Get("sig") != sign(order) {
			jsonError(w, http.StatusUnauthorized, "bad signature")
			return
		}
		switch order {
		case "500":
			jsonError(w, http.StatusInternalServerError, "internal error")
		case "hang": // past the widget's 3 s timeout, until the browser gives up
			select {
			case <-r.Context().Done():
			case <-a.stop:
			}
		case "garbage":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"order_id": "garbage", "recommendations": [`)
		case "drop": // the connection dies without an answer: a network error
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		default:
			body, err := os.ReadFile(filepath.Join("testdata", "answers", order+".json"))
			if err != nil {
				jsonError(w, http.StatusNotFound, "unknown order")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, strings.NewReplacer("{{SHOP}}", shop, "{{API}}", a.URL, "{{ORDER_ID}}", order, "{{SIG}}", sign(order)).Replace(string(body)))
		}
	})
	mux.HandleFunc("POST /thankyou/{order}/optin", func(w http.ResponseWriter, r *http.Request) {
		order := r.PathValue("order")
		if r.URL.Query().Get("sig") != sign(order) {
			jsonError(w, http.StatusUnauthorized, "bad signature")
			return
		}
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.optinLog[order] = append(a.optinLog[order], optinRequest{ContentType: r.Header.Get("Content-Type"), Body: string(body), Origin: r.Header.Get("Origin")})
		a.mu.Unlock()
		if order == "1005" {
			jsonError(w, http.StatusInternalServerError, "internal error")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"optin": "recorded"}`)
	})
	mux.HandleFunc("OPTIONS /", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.preflight++
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	// CORS as the API does it: echo the configured page origin.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == shop {
			w.Header().Set("Access-Control-Allow-Origin", shop)
			w.Header().Set("Vary", "Origin")
		}
		mux.ServeHTTP(w, r)
	})
}

// unreservedImages names the widget variant whose card images get no box
// before they load (no width and height, no aspect ratio).
const unreservedImages = "unreserved-images"

// withoutImageBoxes returns the widget's source with its image box
// reservation taken out; it fails the test if the source no longer has it
// to take out, so the variant never silently equals the widget.
func withoutImageBoxes(t *testing.T, src []byte) []byte {
	out := string(src)
	for _, cut := range []string{"img.width = 160;", "img.height = 160;", "aspect-ratio:1/1;"} {
		if !strings.Contains(out, cut) {
			t.Errorf("widget.js has no %q to take out for the %s variant", cut, unreservedImages)
		}
		out = strings.ReplaceAll(out, cut, "")
	}
	return []byte(out)
}

func (a *fakeAPI) optins(order string) []optinRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.optinLog[order])
}

func (a *fakeAPI) preflights() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.preflight
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"error": "`+msg+`"}`)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
