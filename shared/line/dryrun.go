package line

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// DryRun stands in for Client when no channel access token is configured
// (the local stack): it sends nothing to LINE, writes each request it would
// have made to w as one JSON line (the messages as they would go on the
// wire, never the user id), and reports success.
type DryRun struct {
	mu   sync.Mutex
	w    io.Writer
	hide bool
}

// NewDryRun returns a DryRun writing to w.
func NewDryRun(w io.Writer) *DryRun { return &DryRun{w: w} }

// HideContent makes d write only each message's type, not its content:
// rendered messages carry names and coupon codes, which must not reach a
// deployed function's logs. It returns d.
func (d *DryRun) HideContent() *DryRun {
	d.hide = true
	return d
}

// dryRunRecord is one line DryRun writes.
type dryRunRecord struct {
	DryRun   string                           `json:"line_dry_run"`
	RetryKey string                           `json:"retry_key,omitempty"`
	Messages []messaging_api.MessageInterface `json:"messages,omitempty"`
	// Types replaces Messages when the content is hidden.
	Types []string `json:"message_types,omitempty"`
}

func (d *DryRun) record(r dryRunRecord) error {
	if d.hide {
		for _, m := range r.Messages {
			// The SDK fills in the type when it encodes a message.
			var typed struct {
				Type string `json:"type"`
			}
			raw, err := json.Marshal(m)
			if err != nil {
				return fmt.Errorf("record line dry run: %w", err)
			}
			if err := json.Unmarshal(raw, &typed); err != nil {
				return fmt.Errorf("record line dry run: %w", err)
			}
			r.Types = append(r.Types, typed.Type)
		}
		r.Messages = nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("record line dry run: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("record line dry run: %w", err)
	}
	return nil
}

// Push checks the push as Client does and records it.
func (d *DryRun) Push(_ context.Context, userID string, messages []messaging_api.MessageInterface, retryKey string) (Result, error) {
	if err := checkPush(userID, messages, retryKey); err != nil {
		return Result{}, fmt.Errorf("push message: %w: %w", ErrRejected, err)
	}
	return Result{DryRun: true}, d.record(dryRunRecord{DryRun: "push", RetryKey: retryKey, Messages: messages})
}

// Reply records the reply.
func (d *DryRun) Reply(_ context.Context, replyToken string, messages []messaging_api.MessageInterface) error {
	if replyToken == "" || len(messages) == 0 || len(messages) > MaxMessages {
		return fmt.Errorf("reply message: %w: a reply token and 1 to %d messages are required", ErrRejected, MaxMessages)
	}
	return d.record(dryRunRecord{DryRun: "reply", Messages: messages})
}

// Quota reports no limit: a dry run consumes nothing.
func (d *DryRun) Quota(context.Context) (limit, used int, err error) { return Unlimited, 0, nil }

// IssueLinkToken records the request and returns a stand-in token derived
// from the user id (but not showing it), so the account-link pages can be
// tried locally.
func (d *DryRun) IssueLinkToken(_ context.Context, userID string) (string, error) {
	if !userIDPattern.MatchString(userID) {
		return "", fmt.Errorf("issue link token: %w: malformed LINE user id", ErrRejected)
	}
	sum := sha256.Sum256([]byte("tsunagu dry-run link token\x00" + userID))
	return "dryrun" + hex.EncodeToString(sum[:13]), d.record(dryRunRecord{DryRun: "link_token"})
}
