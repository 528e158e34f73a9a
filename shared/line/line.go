// Package line is tsunagu's LINE transport: it pushes campaign messages,
// replies in the chat, issues account-link tokens and reads the monthly
// message quota through the LINE Messaging API (line-bot-sdk-go v8), and
// builds the messages it sends (text, a product carousel, a coupon card).
//
// Pushes are safe to retry: each carries an X-Line-Retry-Key derived from
// tsunagu's deterministic message key, so LINE accepts a message once and
// answers 409 to any retry (reported as already accepted, not an error).
// Without a channel access token, DryRun stands in for Client and sends
// nothing.
package line

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// Errors a request can end with, besides a retryable failure.
var (
	// ErrRejected wraps a request LINE refused for good (a 4xx other than
	// 409 and 429: a malformed message, an unknown user, a bad token):
	// retrying cannot help.
	ErrRejected = errors.New("line rejected the request")
	// ErrQuotaExceeded wraps a push refused because the channel has sent
	// its messages for this month (429 "You have reached your monthly
	// limit."): nothing more goes out on LINE until the month turns or
	// the plan changes.
	ErrQuotaExceeded = errors.New("line monthly message limit reached")
)

// Unlimited is the message limit Quota reports for a plan without one.
const Unlimited = -1

// Result is what a push did.
type Result struct {
	// RequestID is LINE's id of the request that was accepted: this one,
	// or on AlreadyAccepted the earlier one, when LINE says which.
	RequestID string
	// AlreadyAccepted reports that LINE had accepted this retry key
	// before (409): an earlier attempt delivered the message and this one
	// sent nothing. It counts as delivered.
	AlreadyAccepted bool
	// DryRun reports that nothing was sent: no channel token is configured.
	DryRun bool
}

// Backoff bounds the retries of a request that LINE answered with 429
// (rate limit) or 5xx, or that failed in transit: waits grow
// exponentially from Base up to Max, with full jitter.
type Backoff struct {
	// Attempts is the most requests made, the first included.
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

// DefaultBackoff keeps a push well inside a Lambda's timeout.
var DefaultBackoff = Backoff{Attempts: 4, Base: 250 * time.Millisecond, Max: 2 * time.Second}

// Client talks to the LINE Messaging API with a channel access token. It
// is safe for concurrent use.
type Client struct {
	token    string
	endpoint string
	http     *http.Client
	backoff  Backoff

	// quota caches whether this month's quota was spent when last read.
	quota struct {
		sync.Mutex
		readAt time.Time
		spent  bool
	}
}

// QuotaCheckInterval is how long Push trusts its last reading of the
// month's quota and consumption before reading them again.
const QuotaCheckInterval = time.Minute

// Option configures a Client.
type Option func(*Client)

// WithEndpoint sends requests to another base URL than
// https://api.line.me (tests use an httptest server).
func WithEndpoint(u string) Option { return func(c *Client) { c.endpoint = u } }

// WithHTTPClient sends requests through hc.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithBackoff replaces DefaultBackoff.
func WithBackoff(b Backoff) Option { return func(c *Client) { c.backoff = b } }

// New returns a Client with a channel access token.
func New(token string, opts ...Option) (*Client, error) {
	c := &Client{token: token, http: &http.Client{Timeout: 5 * time.Second}, backoff: DefaultBackoff}
	for _, o := range opts {
		o(c)
	}
	if c.backoff.Attempts < 1 {
		c.backoff.Attempts = 1
	}
	if _, err := c.api(context.Background()); err != nil {
		return nil, fmt.Errorf("new line client: %w", err)
	}
	return c, nil
}

// api returns an SDK client bound to ctx. The SDK keeps the context on
// the client itself, so each call gets its own (they are cheap).
func (c *Client) api(ctx context.Context) (*messaging_api.MessagingApiAPI, error) {
	opts := []messaging_api.MessagingApiAPIOption{messaging_api.WithHTTPClient(c.http)}
	if c.endpoint != "" {
		opts = append(opts, messaging_api.WithEndpoint(c.endpoint))
	}
	api, err := messaging_api.NewMessagingApiAPI(c.token, opts...)
	if err != nil {
		return nil, err
	}
	return api.WithContext(ctx), nil
}

// Push sends messages to one LINE user. retryKey is the X-Line-Retry-Key,
// a UUID (RetryKey derives it from the message key), so that a retry of
// the same message, by this call or a later one, is never delivered twice.
// A 409 is success with AlreadyAccepted. The error wraps ErrRejected or
// ErrQuotaExceeded when retrying cannot help; any other error is
// retryable with the same key.
func (c *Client) Push(ctx context.Context, userID string, messages []messaging_api.MessageInterface, retryKey string) (Result, error) {
	if err := checkPush(userID, messages, retryKey); err != nil {
		return Result{}, fmt.Errorf("push message: %w: %w", ErrRejected, err)
	}
	if c.quotaSpent(ctx) {
		return Result{}, fmt.Errorf("push message: %w (this month's consumption has reached the plan's limit)", ErrQuotaExceeded)
	}
	req := &messaging_api.PushMessageRequest{To: userID, Messages: messages}
	res, err := c.do(ctx, "push message", true, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.PushMessageWithHttpInfo(req, retryKey)
		return res, err
	})
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusConflict {
		return Result{RequestID: se.header.Get("X-Line-Accepted-Request-Id"), AlreadyAccepted: true}, nil
	}
	if err != nil {
		return Result{}, err
	}
	return Result{RequestID: res.Header.Get("X-Line-Request-Id")}, nil
}

// Reply answers a webhook event in the chat with its reply token. Replies
// cost nothing against the monthly quota. LINE takes no retry key for
// replies, so a reply is tried once: a retry could show it twice.
func (c *Client) Reply(ctx context.Context, replyToken string, messages []messaging_api.MessageInterface) error {
	if replyToken == "" || len(messages) == 0 || len(messages) > MaxMessages {
		return fmt.Errorf("reply message: %w: a reply token and 1 to %d messages are required", ErrRejected, MaxMessages)
	}
	req := &messaging_api.ReplyMessageRequest{ReplyToken: replyToken, Messages: messages}
	_, err := c.do(ctx, "reply message", false, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.ReplyMessageWithHttpInfo(req)
		return res, err
	})
	return err
}

// Quota reads this month's message limit (Unlimited when the plan has
// none) and how many messages were sent so far. LINE updates the count
// with a delay, so it trails what was just sent.
func (c *Client) Quota(ctx context.Context) (limit, used int, err error) {
	var quota *messaging_api.MessageQuotaResponse
	if _, err := c.do(ctx, "get message quota", true, func(api *messaging_api.MessagingApiAPI) (res *http.Response, err error) {
		res, quota, err = api.GetMessageQuotaWithHttpInfo()
		return res, err
	}); err != nil {
		return 0, 0, err
	}
	var consumption *messaging_api.QuotaConsumptionResponse
	if _, err := c.do(ctx, "get message quota consumption", true, func(api *messaging_api.MessagingApiAPI) (res *http.Response, err error) {
		res, consumption, err = api.GetMessageQuotaConsumptionWithHttpInfo()
		return res, err
	}); err != nil {
		return 0, 0, err
	}
	limit = Unlimited
	if quota.Type == messaging_api.QuotaType_LIMITED {
		limit = int(quota.Value)
	}
	return limit, int(consumption.TotalUsage), nil
}

// quotaSpent reports whether this month's quota was spent when last read,
// reading the quota and consumption again when the reading is older than
// QuotaCheckInterval. LINE's count trails what was just sent, so this
// spares pushes LINE would refuse rather than guaranteeing none is; LINE's
// own 429 stays the final word. When the quota cannot be read, the push is
// tried and LINE answers for itself.
func (c *Client) quotaSpent(ctx context.Context) bool {
	c.quota.Lock()
	defer c.quota.Unlock()
	if time.Since(c.quota.readAt) < QuotaCheckInterval {
		return c.quota.spent
	}
	limit, used, err := c.Quota(ctx)
	// A failed reading is kept for the interval too, as "not spent": while
	// the quota endpoint fails, pushes go on without waiting for its
	// retries each time.
	c.quota.readAt, c.quota.spent = time.Now(), err == nil && limit != Unlimited && used >= limit
	return c.quota.spent
}

// IssueLinkToken issues a link token for a LINE user, the first step of
// LINE's account link. A token is valid for 10 minutes and can be used
// once.
func (c *Client) IssueLinkToken(ctx context.Context, userID string) (string, error) {
	if !userIDPattern.MatchString(userID) {
		return "", fmt.Errorf("issue link token: %w: malformed LINE user id", ErrRejected)
	}
	var out *messaging_api.IssueLinkTokenResponse
	if _, err := c.do(ctx, "issue link token", true, func(api *messaging_api.MessagingApiAPI) (res *http.Response, err error) {
		res, out, err = api.IssueLinkTokenWithHttpInfo(userID)
		return res, err
	}); err != nil {
		return "", err
	}
	if out.LinkToken == "" {
		return "", fmt.Errorf("issue link token: LINE answered without a link token")
	}
	return out.LinkToken, nil
}

// statusError is an answer LINE gave with a status that is not 2xx.
type statusError struct {
	op      string
	status  int
	message string
	header  http.Header
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: LINE answered %d: %s", e.op, e.status, e.message)
}

// Is classifies the answer: a monthly-limit 429 is ErrQuotaExceeded,
// other 4xx except a rate-limit 429 are ErrRejected.
func (e *statusError) Is(target error) bool {
	switch target {
	case ErrQuotaExceeded:
		return e.monthlyLimit()
	case ErrRejected:
		return e.status >= 400 && e.status < 500 && e.status != http.StatusTooManyRequests
	}
	return false
}

func (e *statusError) monthlyLimit() bool {
	return e.status == http.StatusTooManyRequests && strings.Contains(strings.ToLower(e.message), "monthly limit")
}

func (e *statusError) retryable() bool {
	return e.status >= 500 || e.status == http.StatusTooManyRequests && !e.monthlyLimit()
}

// do runs one API call, retrying (when retry is set) while LINE answers
// 429 (rate limit) or 5xx or the request fails in transit, within the
// backoff's attempts and ctx. A non-2xx answer becomes a *statusError.
func (c *Client) do(ctx context.Context, op string, retry bool, call func(*messaging_api.MessagingApiAPI) (*http.Response, error)) (*http.Response, error) {
	attempts := 1
	if retry {
		attempts = c.backoff.Attempts
	}
	var last error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			if err := c.wait(ctx, attempt, last); err != nil {
				return nil, fmt.Errorf("%w (no retry: %w)", last, err)
			}
		}
		api, err := c.api(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		res, err := call(api)
		if res == nil { // no answer: the request failed in transit
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err // its URL can name the LINE user
			}
			last = fmt.Errorf("%s: %w", op, err)
			continue
		}
		if res.StatusCode/100 == 2 {
			if err != nil { // an answer the SDK could not read
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			return res, nil
		}
		se := newStatusError(op, res)
		if !se.retryable() {
			return nil, se
		}
		last = se
	}
	return nil, last
}

func newStatusError(op string, res *http.Response) *statusError {
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	var answer struct {
		Message string `json:"message"`
		Details []struct {
			Message  string `json:"message"`
			Property string `json:"property"`
		} `json:"details"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &answer) == nil && answer.Message != "" {
		msg = answer.Message
		for _, d := range answer.Details {
			msg += "; " + d.Property + ": " + d.Message
		}
	}
	return &statusError{op: op, status: res.StatusCode, message: msg, header: res.Header}
}

// wait sleeps before retry number attempt: a random time up to
// Base*2^(attempt-1), capped at Max, or what a Retry-After asks (capped
// too). It gives up early when ctx would end first.
func (c *Client) wait(ctx context.Context, attempt int, last error) error {
	ceiling := min(c.backoff.Base<<(attempt-1), c.backoff.Max)
	d := time.Duration(0)
	if ceiling > 0 {
		d = time.Duration(rand.Int64N(int64(ceiling))) + 1
	}
	var se *statusError
	if errors.As(last, &se) {
		if s, err := strconv.Atoi(se.header.Get("Retry-After")); err == nil && s > 0 {
			d = min(time.Duration(s)*time.Second, c.backoff.Max)
		}
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return context.DeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var (
	userIDPattern   = regexp.MustCompile(`^U[0-9a-f]{32}$`)
	retryKeyPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ValidUserID reports whether s has the shape of a LINE user id.
func ValidUserID(s string) bool { return userIDPattern.MatchString(s) }

func checkPush(userID string, messages []messaging_api.MessageInterface, retryKey string) error {
	switch {
	case !userIDPattern.MatchString(userID):
		return errors.New("malformed LINE user id")
	case len(messages) == 0 || len(messages) > MaxMessages:
		return fmt.Errorf("%d messages; a push takes 1 to %d", len(messages), MaxMessages)
	case !retryKeyPattern.MatchString(retryKey):
		return errors.New("the retry key must be a UUID (see RetryKey)")
	}
	return nil
}

// RetryKey derives the X-Line-Retry-Key of a message from its
// deterministic key: a UUID shaped as version 4 (LINE asks for a UUID)
// made of a hash, so every attempt at the same message carries the same
// key.
func RetryKey(messageKey string) string {
	sum := sha256.Sum256([]byte("tsunagu line retry key\x00" + messageKey))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewLinkNonce returns a nonce for LINE's account link: 26 characters
// (within LINE's 10 to 255) carrying 128 random bits, so it cannot be
// guessed. The store makes it single-use and expiring.
func NewLinkNonce() string { return crand.Text() }

// AccountLinkURL is LINE's account-link endpoint for a link token and a
// nonce: the shop's page redirects the customer there, and LINE, once it
// has checked that the browser belongs to the LINE user the token was
// issued for, sends the accountLink webhook event carrying the nonce.
func AccountLinkURL(linkToken, nonce string) string {
	return "https://access.line.me/dialog/bot/accountLink?linkToken=" + url.QueryEscape(linkToken) + "&nonce=" + url.QueryEscape(nonce)
}
