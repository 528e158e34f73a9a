package support

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// ErrSlackRejected marks a post the webhook refused for good (a 4xx other
// than 429: the hook removed, the channel archived): its claim is kept
// until stale, so it is tried again every few ticks, not every tick.
var ErrSlackRejected = errors.New("slack webhook refused the post")

// SlackGiveUp is how long after its case a Slack post that keeps failing
// is given up: the case then closes once its email went, so a broken hook
// does not keep cases open for ever.
const SlackGiveUp = 48 * time.Hour

// Slack posts to a Slack-compatible incoming webhook
// (settings.yaml support.slack_webhook_url).
type Slack struct {
	// URL is the webhook; it is a secret and never appears in an error.
	URL    string
	Client *http.Client
}

// NewSlack is a poster to the webhook at u with a bounded wait.
func NewSlack(u string) *Slack {
	return &Slack{URL: u, Client: &http.Client{Timeout: 10 * time.Second}}
}

// Post sends text as an incoming webhook message ({"text": ...}). A 2xx
// answer is success; a 4xx other than 429 wraps ErrSlackRejected.
func (s *Slack) Post(ctx context.Context, text string) error {
	body, err := json.Marshal(struct {
		Text string `json:"text"`
	}{text})
	if err != nil {
		return fmt.Errorf("encode slack post: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("make slack post: bad webhook url") // the URL is a secret
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return fmt.Errorf("post to slack: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("post to slack: %w: status %d", ErrSlackRejected, resp.StatusCode)
	default:
		return fmt.Errorf("post to slack: status %d", resp.StatusCode)
	}
}

// slackEscaper escapes the three characters Slack's message text treats
// as markup, so what a customer wrote can neither mention @channel nor
// make a link.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackText is the Slack message about c: its cause, the order, the
// campaign and what the customer said, never the customer's email
// address, name or LINE id (the customer is named by id only).
func (d *Desk) slackText(c store.Case) string {
	label := causeLabels[c.Cause]
	if label == "" {
		label = c.Cause
	}
	var b strings.Builder
	fmt.Fprintf(&b, "【要対応】%s: %s\n", slackEscaper.Replace(d.Shop), label)
	if c.About != "" {
		fmt.Fprintf(&b, "内容: %s\n", slackEscaper.Replace(c.About))
	}
	if c.OrderID != "" {
		fmt.Fprintf(&b, "ご注文: %s\n", slackEscaper.Replace(c.OrderID))
	}
	if c.CampaignID != "" {
		fmt.Fprintf(&b, "施策: %s\n", slackEscaper.Replace(c.CampaignID))
	}
	fmt.Fprintf(&b, "日時: %s\n", c.At.In(d.Location).Format("2006-01-02 15:04"))
	if c.Said != "" {
		b.WriteString("お客様の言葉:\n")
		for _, line := range strings.Split(slackEscaper.Replace(c.Said), "\n") {
			b.WriteString("> " + line + "\n")
		}
	}
	fmt.Fprintf(&b, "マーケティング配信は %s まで停止中。詳細: go run ./cmd/tsunagu customer show %s",
		c.At.Add(d.Support.CoolingOff).In(d.Location).Format(time.DateOnly), slackEscaper.Replace(c.CustomerID))
	return b.String()
}
