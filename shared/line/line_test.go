package line

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

const (
	userID     = "Ua1b2c3d4e5f60718293a4b5c6d7e8f90"
	messageKey = "5f2c0a9e8b7d6c5a4f3e2d1c0b9a8f7e"
)

var (
	tokyo = time.FixedZone("Asia/Tokyo", 9*3600)
	shop  = rules.Shop{Name: "椿茶園", URL: "https://tsubaki-chaen.example.jp", Currency: "JPY"}
	// products are what the carousel tests show; the last cannot be linked.
	products = []Product{
		{Name: "八女茶 煎茶 100g", URL: "https://tsubaki-chaen.example.jp/products/TEA-YAME", ImageURL: "https://cdn.tsubaki-chaen.example.jp/tea-yame.jpg"},
		{Name: "羊羹に合う日本茶", URL: "https://tsubaki-chaen.example.jp/collections/tea"},
		{Name: "季節の上生菓子 6個入", URL: "https://tsubaki-chaen.example.jp/products/SWEET-NAMA", ImageURL: "http://insecure.example.jp/nama.jpg"},
		{Name: "リンクのない商品", URL: "javascript:alert(1)"},
	}
	coupon = rules.CouponData{Code: "TSN-7K2M-9QXD", Name: "次回使える10%OFFクーポン", Discount: "10%OFF", MinOrder: 3000,
		ExpiresAt: time.Date(2026, 12, 21, 14, 59, 0, 0, time.UTC)}
	fast = Backoff{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond}
)

func newClient(t *testing.T) (*Client, *lineapi.Server) {
	t.Helper()
	srv := lineapi.NewServer(t)
	c, err := New(lineapi.Token, WithEndpoint(srv.URL), WithBackoff(fast))
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func mustMessages(t *testing.T, c Content) []messaging_api.MessageInterface {
	t.Helper()
	msgs, err := Messages(c)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// tracker is a campaign LINE message's link tracker.
func tracker(t *testing.T) func(string) string {
	t.Helper()
	links, err := clicks.NewSealer("https://hooks.example.jp", "dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	return links.Tracker(clicks.Message{Key: messageKey, CampaignID: "post-purchase-thanks", CustomerID: "c-1001", SentAt: time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)})
}

// indent is the wire body laid out for review (only whitespace changes).
func indent(t *testing.T, body []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatalf("the body is not JSON: %v\n%s", err, body)
	}
	return b.String() + "\n"
}

func TestPushMessages(t *testing.T) {
	tests := []struct {
		name     string
		messages []messaging_api.MessageInterface
		golden   string
	}{
		{name: "text", golden: "push-text.json",
			messages: []messaging_api.MessageInterface{Text("高橋 美咲様、椿茶園です🍵 ご無沙汰しております。\n新しいお茶とお菓子が揃いました。\nhttps://tsubaki-chaen.example.jp")}},
		{name: "product carousel", golden: "push-carousel.json",
			messages: []messaging_api.MessageInterface{ProductCarousel("おすすめの商品", products)}},
		{name: "coupon card", golden: "push-coupon.json",
			messages: []messaging_api.MessageInterface{CouponCard(coupon, shop, tokyo)}},
		// As sent: the URI actions go through the message's tracked links.
		{name: "campaign: text, recommendations and coupon", golden: "push-campaign.json",
			messages: mustMessages(t, Content{Text: "高橋 美咲様、椿茶園です。ご注文（1001）ありがとうございました！", Shop: shop, Location: tokyo, Coupon: &coupon, Link: tracker(t),
				Products: Recommendations([]rules.Recommendation{{Title: "羊羹に合う日本茶", URL: "https://tsubaki-chaen.example.jp/collections/tea", ImageURL: "https://cdn.tsubaki-chaen.example.jp/tea.jpg"}})})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t)
			res, err := c.Push(context.Background(), userID, tt.messages, RetryKey(messageKey))
			if err != nil || res.AlreadyAccepted || res.DryRun || res.RequestID == "" {
				t.Fatalf("Push = %+v, %v", res, err)
			}
			reqs := srv.Requests(lineapi.PushPath)
			if len(reqs) != 1 {
				t.Fatalf("%d push requests, want 1", len(reqs))
			}
			if got := reqs[0].Header.Get("X-Line-Retry-Key"); got != RetryKey(messageKey) {
				t.Errorf("X-Line-Retry-Key = %q, want %q", got, RetryKey(messageKey))
			}
			golden.Check(t, tt.golden, indent(t, reqs[0].Body))
		})
	}
}

func TestPushRetries(t *testing.T) {
	monthly := lineapi.Answer{Status: http.StatusTooManyRequests, Body: `{"message":"You have reached your monthly limit."}`}
	rateLimited := lineapi.Answer{Status: http.StatusTooManyRequests, Body: `{"message":"The API rate limit has been exceeded. Try again later."}`}
	tests := []struct {
		name         string
		script       []lineapi.Answer
		wantRequests int
		wantAccepted bool
		wantErr      error // nil: success; errRetryable: neither sentinel
	}{
		{name: "accepted at once", wantRequests: 1},
		{name: "5xx, then accepted", script: []lineapi.Answer{{Status: 500}}, wantRequests: 2},
		{name: "rate limited, then accepted", script: []lineapi.Answer{rateLimited, rateLimited}, wantRequests: 3},
		{name: "accepted but the answer was lost: the retry gets 409", script: []lineapi.Answer{{Status: 502, Accept: true}}, wantRequests: 2, wantAccepted: true},
		{name: "bad request is permanent", script: []lineapi.Answer{{Status: 400, Body: `{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}]}`}}, wantRequests: 1, wantErr: ErrRejected},
		{name: "forbidden is permanent", script: []lineapi.Answer{{Status: 403}}, wantRequests: 1, wantErr: ErrRejected},
		{name: "the monthly limit is not retried", script: []lineapi.Answer{monthly}, wantRequests: 1, wantErr: ErrQuotaExceeded},
		{name: "5xx every time: retryable after the last attempt", script: []lineapi.Answer{{Status: 500}, {Status: 503}, {Status: 500}, {Status: 504}}, wantRequests: 4, wantErr: errRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t)
			srv.Script(lineapi.PushPath, tt.script...)
			res, err := c.Push(context.Background(), userID, []messaging_api.MessageInterface{Text("こんにちは")}, RetryKey(messageKey))
			checkErr(t, err, tt.wantErr)
			reqs := srv.Requests(lineapi.PushPath)
			if len(reqs) != tt.wantRequests || res.AlreadyAccepted != tt.wantAccepted {
				t.Errorf("%d requests, accepted before = %v; want %d, %v", len(reqs), res.AlreadyAccepted, tt.wantRequests, tt.wantAccepted)
			}
			for _, r := range reqs {
				if r.Header.Get("X-Line-Retry-Key") != RetryKey(messageKey) {
					t.Errorf("a retry changed the retry key: %q", r.Header.Get("X-Line-Retry-Key"))
				}
			}
			if tt.wantAccepted && res.RequestID == "" {
				t.Error("a 409 should name the accepted request")
			}
		})
	}
}

// errRetryable stands for an error that is neither ErrRejected nor
// ErrQuotaExceeded.
var errRetryable = errors.New("retryable")

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch want {
	case nil:
		if err != nil {
			t.Fatalf("error = %v, want none", err)
		}
	case errRetryable:
		if err == nil || errors.Is(err, ErrRejected) || errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("error = %v, want a retryable one", err)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("error = %v, want %v", err, want)
		}
		if want == ErrQuotaExceeded && errors.Is(err, ErrRejected) {
			t.Fatalf("the monthly limit is not a rejection of the message: %v", err)
		}
	}
}

func TestPushTwiceDeliversOnce(t *testing.T) {
	c, srv := newClient(t)
	msgs := []messaging_api.MessageInterface{Text("こんにちは")}
	first, err := c.Push(context.Background(), userID, msgs, RetryKey(messageKey))
	if err != nil || first.AlreadyAccepted {
		t.Fatalf("first Push = %+v, %v", first, err)
	}
	again, err := c.Push(context.Background(), userID, msgs, RetryKey(messageKey))
	if err != nil || !again.AlreadyAccepted || again.RequestID != first.RequestID {
		t.Fatalf("second Push = %+v, %v; want already accepted as %s", again, err, first.RequestID)
	}
	if _, used, _ := c.Quota(context.Background()); used != 1 {
		t.Errorf("LINE counted %d messages, want 1", used)
	}
	if n := len(srv.Requests(lineapi.PushPath)); n != 2 {
		t.Errorf("%d push requests, want 2", n)
	}
}

// flaky fails the first push: before sending it, or after LINE answered
// (the answer is lost on the way back). Other requests pass.
type flaky struct {
	afterSending bool
	failed       bool
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.failed || r.URL.Path != lineapi.PushPath {
		return http.DefaultTransport.RoundTrip(r)
	}
	f.failed = true
	if f.afterSending {
		res, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			res.Body.Close()
		}
	}
	return nil, errors.New("connection reset by peer")
}

func TestPushTransportFailures(t *testing.T) {
	tests := []struct {
		name         string
		afterSending bool
		wantAccepted bool
		wantRequests int
	}{
		{name: "lost before LINE saw it: sent by the retry", wantRequests: 1},
		{name: "lost after LINE accepted it: the retry gets 409", afterSending: true, wantAccepted: true, wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := lineapi.NewServer(t)
			c, err := New(lineapi.Token, WithEndpoint(srv.URL), WithBackoff(fast), WithHTTPClient(&http.Client{Transport: &flaky{afterSending: tt.afterSending}}))
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Push(context.Background(), userID, []messaging_api.MessageInterface{Text("こんにちは")}, RetryKey(messageKey))
			if err != nil || res.AlreadyAccepted != tt.wantAccepted {
				t.Errorf("Push = %+v, %v; want already accepted %v", res, err, tt.wantAccepted)
			}
			if n := len(srv.Requests(lineapi.PushPath)); n != tt.wantRequests {
				t.Errorf("LINE saw %d pushes, want %d", n, tt.wantRequests)
			}
			if _, used, _ := c.Quota(context.Background()); used != 1 {
				t.Errorf("LINE counted %d messages, want 1: delivered once", used)
			}
		})
	}
}

func TestPushRefusesBadInputWithoutCallingLINE(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		messages []messaging_api.MessageInterface
		key      string
	}{
		{name: "malformed user id", user: "c-1", messages: []messaging_api.MessageInterface{Text("x")}, key: RetryKey(messageKey)},
		{name: "no message", user: userID, key: RetryKey(messageKey)},
		{name: "six messages", user: userID, messages: []messaging_api.MessageInterface{Text("1"), Text("2"), Text("3"), Text("4"), Text("5"), Text("6")}, key: RetryKey(messageKey)},
		{name: "a message key, not a UUID", user: userID, messages: []messaging_api.MessageInterface{Text("x")}, key: messageKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t)
			if _, err := c.Push(context.Background(), tt.user, tt.messages, tt.key); !errors.Is(err, ErrRejected) {
				t.Errorf("Push = %v, want ErrRejected", err)
			}
			if _, err := NewDryRun(&bytes.Buffer{}).Push(context.Background(), tt.user, tt.messages, tt.key); !errors.Is(err, ErrRejected) {
				t.Errorf("DryRun.Push = %v, want ErrRejected", err)
			}
			if n := len(srv.Requests(lineapi.PushPath)); n != 0 {
				t.Errorf("%d requests reached LINE", n)
			}
		})
	}
}

func TestPushHonoursContext(t *testing.T) {
	srv := lineapi.NewServer(t)
	c, err := New(lineapi.Token, WithEndpoint(srv.URL), WithBackoff(Backoff{Attempts: 5, Base: time.Second, Max: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	unavailable := lineapi.Answer{Status: 503}
	srv.Script(lineapi.PushPath, unavailable, unavailable, unavailable, unavailable, unavailable)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Push(ctx, userID, []messaging_api.MessageInterface{Text("x")}, RetryKey(messageKey))
	if err == nil || errors.Is(err, ErrRejected) || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("Push = %v after %v; want a retryable error by the deadline, not a wait past it", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("the error should tell what LINE answered: %v", err)
	}
}

func TestQuota(t *testing.T) {
	tests := []struct {
		name              string
		limit, used       int
		script            []lineapi.Answer
		wantLimit, wantUs int
	}{
		{name: "free plan", limit: 200, used: 37, wantLimit: 200, wantUs: 37},
		{name: "no limit", limit: -1, used: 5120, wantLimit: Unlimited, wantUs: 5120},
		{name: "a 5xx is retried", limit: 5000, used: 0, script: []lineapi.Answer{{Status: 500}}, wantLimit: 5000, wantUs: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t)
			srv.SetQuota(tt.limit, tt.used)
			srv.Script(lineapi.QuotaPath, tt.script...)
			limit, used, err := c.Quota(context.Background())
			if err != nil || limit != tt.wantLimit || used != tt.wantUs {
				t.Errorf("Quota = %d, %d, %v; want %d, %d", limit, used, err, tt.wantLimit, tt.wantUs)
			}
		})
	}
}

func TestPushSparesAPushOnceTheQuotaIsSpent(t *testing.T) {
	tests := []struct {
		name        string
		limit, used int
		wantErr     error
		wantPushes  int
	}{
		{name: "quota left", limit: 200, used: 199, wantPushes: 1},
		{name: "quota spent", limit: 200, used: 200, wantErr: ErrQuotaExceeded},
		{name: "no limit", limit: -1, used: 100000, wantPushes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t)
			srv.SetQuota(tt.limit, tt.used)
			_, err := c.Push(context.Background(), userID, []messaging_api.MessageInterface{Text("x")}, RetryKey(messageKey))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Push = %v, want %v", err, tt.wantErr)
			}
			if n := len(srv.Requests(lineapi.PushPath)); n != tt.wantPushes {
				t.Errorf("LINE saw %d pushes, want %d", n, tt.wantPushes)
			}
		})
	}

	// The reading is kept for QuotaCheckInterval: a second push does not
	// read the quota again.
	c, srv := newClient(t)
	srv.SetQuota(200, 0)
	for _, key := range []string{"m-1", "m-2"} {
		if _, err := c.Push(context.Background(), userID, []messaging_api.MessageInterface{Text("x")}, RetryKey(key)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Requests(lineapi.QuotaPath)); n != 1 {
		t.Errorf("the quota was read %d times for 2 pushes, want 1", n)
	}

	// A quota that cannot be read is not read again for every push: the
	// pushes go on, and LINE answers for itself.
	c, srv = newClient(t)
	srv.Script(lineapi.QuotaPath, slices.Repeat([]lineapi.Answer{{Status: 500}}, 10)...)
	for _, key := range []string{"m-1", "m-2", "m-3"} {
		if _, err := c.Push(context.Background(), userID, []messaging_api.MessageInterface{Text("x")}, RetryKey(key)); err != nil {
			t.Fatal(err)
		}
	}
	if reads, pushes := len(srv.Requests(lineapi.QuotaPath)), len(srv.Requests(lineapi.PushPath)); reads != fast.Attempts || pushes != 3 {
		t.Errorf("the failing quota was read %d times for %d pushes; want one reading (%d attempts) and 3 pushes", reads, pushes, fast.Attempts)
	}
}

func TestIssueLinkToken(t *testing.T) {
	c, srv := newClient(t)
	token, err := c.IssueLinkToken(context.Background(), userID)
	if err != nil || token == "" {
		t.Fatalf("IssueLinkToken = %q, %v", token, err)
	}
	reqs := srv.Requests(lineapi.LinkTokenPath)
	if len(reqs) != 1 || reqs[0].Path != "/v2/bot/user/"+userID+"/linkToken" {
		t.Fatalf("requests = %+v", reqs)
	}
	if _, err := c.IssueLinkToken(context.Background(), "../../message/push"); !errors.Is(err, ErrRejected) {
		t.Errorf("a malformed user id = %v, want ErrRejected", err)
	}
	if n := len(srv.Requests(lineapi.LinkTokenPath)); n != 1 {
		t.Errorf("a malformed user id reached LINE")
	}
}

func TestReplyIsTriedOnce(t *testing.T) {
	c, srv := newClient(t)
	msgs := []messaging_api.MessageInterface{Text("ありがとうございます")}
	if err := c.Reply(context.Background(), "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", msgs); err != nil {
		t.Fatal(err)
	}
	srv.Script(lineapi.ReplyPath, lineapi.Answer{Status: 500})
	if err := c.Reply(context.Background(), "b60d432864f44d079f6d8efe86cf404b", msgs); err == nil || errors.Is(err, ErrRejected) {
		t.Errorf("Reply on 500 = %v, want a retryable error", err)
	}
	srv.Script(lineapi.ReplyPath, lineapi.Answer{Status: 400, Body: `{"message":"Invalid reply token"}`})
	if err := c.Reply(context.Background(), "expired", msgs); !errors.Is(err, ErrRejected) {
		t.Errorf("Reply with an expired token = %v, want ErrRejected", err)
	}
	if n := len(srv.Requests(lineapi.ReplyPath)); n != 3 {
		t.Errorf("%d reply requests, want 3 (no retries)", n)
	}
}

func TestDryRun(t *testing.T) {
	var out bytes.Buffer
	d := NewDryRun(&out)
	ctx := context.Background()
	res, err := d.Push(ctx, userID, mustMessages(t, Content{Text: "高橋 美咲様、椿茶園です。", Shop: shop, Location: tokyo, Coupon: &coupon}), RetryKey(messageKey))
	if err != nil || !res.DryRun {
		t.Fatalf("Push = %+v, %v", res, err)
	}
	if err := d.Reply(ctx, "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", []messaging_api.MessageInterface{Text("ありがとうございます")}); err != nil {
		t.Fatal(err)
	}
	token, err := d.IssueLinkToken(ctx, userID)
	if err != nil || !regexp.MustCompile(`^dryrun[0-9a-f]{26}$`).MatchString(token) {
		t.Fatalf("IssueLinkToken = %q, %v", token, err)
	}
	if again, _ := d.IssueLinkToken(ctx, userID); again != token {
		t.Error("dry-run link tokens should be stable per user")
	}
	if limit, used, err := d.Quota(ctx); limit != Unlimited || used != 0 || err != nil {
		t.Errorf("Quota = %d, %d, %v", limit, used, err)
	}
	if strings.Contains(out.String(), userID) || strings.Contains(out.String(), userID[1:]) {
		t.Errorf("the dry run shows the user id:\n%s", out.String())
	}
	golden.Check(t, "dry-run.jsonl", out.String())
}

// TestDryRunHidingContent: a deployed function without a channel token
// prints what it would have pushed without the rendered content (names,
// coupon codes), only the message types.
func TestDryRunHidingContent(t *testing.T) {
	var out bytes.Buffer
	d := NewDryRun(&out).HideContent()
	msgs := mustMessages(t, Content{Text: "高橋 美咲様、椿茶園です。", Shop: shop, Location: tokyo, Coupon: &coupon})
	if _, err := d.Push(context.Background(), userID, msgs, RetryKey(messageKey)); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"高橋", coupon.Code, userID[1:]} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the dry run shows %q:\n%s", secret, out.String())
		}
	}
	if want := `"message_types":["text","flex"]`; !strings.Contains(out.String(), want) {
		t.Errorf("dry run %s, want the message types %s", out.String(), want)
	}
}

func TestRetryKey(t *testing.T) {
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, key := range []string{messageKey, "5f2c0a9e8b7d6c5a4f3e2d1c0b9a8f7f", "", "winback:0:order:1001:c-1"} {
		k := RetryKey(key)
		if !uuidV4.MatchString(k) || k != RetryKey(key) || seen[k] {
			t.Errorf("RetryKey(%q) = %q: want a stable, distinct v4-shaped UUID", key, k)
		}
		seen[k] = true
	}
}

func TestNewLinkNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewLinkNonce()
		if len(n) < 10 || len(n) > 255 || seen[n] || !regexp.MustCompile(`^[A-Z2-7]+$`).MatchString(n) {
			t.Fatalf("nonce %q: want 10 to 255 URL-safe characters, never repeated", n)
		}
		seen[n] = true
	}
}

func TestAccountLinkURL(t *testing.T) {
	got := AccountLinkURL("NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY", "7XQ2M4ZBNC3V5K6J7H8G9F0D1S")
	want := "https://access.line.me/dialog/bot/accountLink?linkToken=NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY&nonce=7XQ2M4ZBNC3V5K6J7H8G9F0D1S"
	if got != want {
		t.Errorf("AccountLinkURL = %s", got)
	}
}
