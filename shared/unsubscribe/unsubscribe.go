// Package unsubscribe seals the tokens of tsunagu's subscription links:
// one-click unsubscribe tokens (RFC 8058), which name a customer and a
// channel, and opt-in confirmation tokens (double opt-in). Tokens are
// authenticated, so they cannot be forged, and encrypted, so they reveal
// nothing, not even the customer id. Each carries the id of the key that
// sealed it, so a secret can rotate: the current key seals, and the earlier
// ones still open the links already sent (package seal).
package unsubscribe

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/seal"
)

// ErrInvalid means a token was not made with one of the keys, or was
// altered.
var ErrInvalid = seal.ErrInvalid

// Sealer makes tokens with the current key and opens them with any key.
type Sealer struct {
	unsubscribe seal.Keys
	confirm     seal.Keys
}

// NewSealer derives the token keys from a secret's keys (UNSUBSCRIBE_SECRET):
// the first seals, every one opens.
func NewSealer(secrets ...string) (*Sealer, error) {
	u, err := seal.New("unsubscribe", secrets...)
	if err != nil {
		return nil, err
	}
	c, err := seal.New("opt-in confirmation", secrets...)
	if err != nil {
		return nil, err
	}
	return &Sealer{unsubscribe: u, confirm: c}, nil
}

// Recipient is what an unsubscribe token names: a customer and a channel
// and, in the link of a campaign message, the message (its key, campaign
// and A/B variant), so the unsubscribe can be counted against the
// campaign. Tokens from before messages were named carry none.
type Recipient struct {
	CustomerID string
	Channel    string
	MessageKey string
	CampaignID string
	Variant    string
}

// Token seals customerID and channel with the current key. The same
// customer and channel always give the same token while the key stays:
// links stay stable across emails, and golden files stay golden.
func (s *Sealer) Token(customerID, channel string) string {
	return s.RecipientToken(Recipient{CustomerID: customerID, Channel: channel})
}

// messageMark starts the plaintext of a token that names a message. A
// token without it (every token sealed before messages were named) is
// "<channel>\x00<customer id>"; channels never start with it.
const messageMark = "\x01"

// RecipientToken seals r with the current key; a recipient without a
// message seals as Token does.
func (s *Sealer) RecipientToken(r Recipient) string {
	plain := r.Channel + "\x00" + r.CustomerID
	if r.MessageKey != "" {
		// The customer id goes last: it is the shop's, and may hold anything.
		plain = messageMark + strings.Join([]string{r.Channel, r.MessageKey, r.CampaignID, r.Variant, r.CustomerID}, "\x00")
	}
	return s.unsubscribe.Seal([]byte(plain))
}

// Open returns the recipient a token was sealed for, by any of the keys.
func (s *Sealer) Open(token string) (Recipient, error) {
	plain, err := s.unsubscribe.Open(token)
	if err != nil {
		return Recipient{}, err
	}
	if rest, named := strings.CutPrefix(string(plain), messageMark); named {
		parts := strings.SplitN(rest, "\x00", 5)
		if len(parts) != 5 {
			return Recipient{}, ErrInvalid
		}
		return Recipient{Channel: parts[0], MessageKey: parts[1], CampaignID: parts[2], Variant: parts[3], CustomerID: parts[4]}, nil
	}
	channel, customerID, ok := strings.Cut(string(plain), "\x00")
	if !ok {
		return Recipient{}, ErrInvalid
	}
	return Recipient{Channel: channel, CustomerID: customerID}, nil
}

// URL is the unsubscribe link for a customer and channel under baseURL
// (the public base URL of the HTTP API).
func (s *Sealer) URL(baseURL, customerID, channel string) string {
	return s.RecipientURL(baseURL, Recipient{CustomerID: customerID, Channel: channel})
}

// RecipientURL is the unsubscribe link for r under baseURL: in a campaign
// message, one that names the message.
func (s *Sealer) RecipientURL(baseURL string, r Recipient) string {
	return strings.TrimRight(baseURL, "/") + "/unsubscribe?token=" + url.QueryEscape(s.RecipientToken(r))
}

// ConfirmationValidFor is how long an opt-in confirmation link works
// after the opt-in it confirms.
const ConfirmationValidFor = 7 * 24 * time.Hour

// Confirmation is an opt-in waiting for the customer to confirm it from
// the link emailed to them (double opt-in): who asked for marketing email,
// on which order's thank-you page, and when.
type Confirmation struct {
	CustomerID string
	OrderID    string
	At         time.Time
}

// ConfirmationToken seals a confirmation with the current key.
func (s *Sealer) ConfirmationToken(c Confirmation) string {
	return s.confirm.Seal([]byte(strconv.FormatInt(c.At.Unix(), 10) + "\x00" + c.OrderID + "\x00" + c.CustomerID))
}

// OpenConfirmation returns the confirmation a token was sealed for, by
// any of the keys; whether it is still valid (ConfirmationValidFor) is the
// caller's to check.
func (s *Sealer) OpenConfirmation(token string) (Confirmation, error) {
	plain, err := s.confirm.Open(token)
	if err != nil {
		return Confirmation{}, err
	}
	parts := strings.SplitN(string(plain), "\x00", 3)
	if len(parts) != 3 {
		return Confirmation{}, ErrInvalid
	}
	at, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return Confirmation{}, ErrInvalid
	}
	return Confirmation{At: time.Unix(at, 0).UTC(), OrderID: parts[1], CustomerID: parts[2]}, nil
}

// ConfirmationURL is the link of an opt-in confirmation email under
// baseURL (the public base URL of the HTTP API).
func (s *Sealer) ConfirmationURL(baseURL string, c Confirmation) string {
	return strings.TrimRight(baseURL, "/") + "/optin/confirm?token=" + url.QueryEscape(s.ConfirmationToken(c))
}
