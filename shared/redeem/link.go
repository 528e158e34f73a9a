package redeem

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/seal"
)

// RoutePrefix is where the points page's links lead (GET|POST
// /points/{token}).
const RoutePrefix = "/points/"

// LinkValidFor is how long after its email a points link opens the page.
const LinkValidFor = 60 * 24 * time.Hour

// ErrInvalidLink means a points link was not made by tsunagu or was
// altered.
var ErrInvalidLink = errors.New("points link invalid")

// Link is what a points link carries: whose points, and when the email
// was sent.
type Link struct {
	CustomerID string    `json:"u"`
	SentAt     time.Time `json:"t"`
}

// Links seals points links with the current key and opens them with any.
type Links struct {
	keys seal.Keys
	base string
}

// NewLinks derives the points-link keys from a secret's keys
// (CLICK_SECRET) for the HTTP API's public base URL.
func NewLinks(baseURL string, secrets ...string) (*Links, error) {
	keys, err := seal.New("points", secrets...)
	if err != nil {
		return nil, err
	}
	return &Links{keys: keys, base: strings.TrimRight(baseURL, "/")}, nil
}

// URL is the points page of a customer, for an email sent at.
func (l *Links) URL(customerID string, at time.Time) string {
	plain, _ := json.Marshal(Link{CustomerID: customerID, SentAt: at.UTC()}) // a string and a time: cannot fail
	return l.base + RoutePrefix + l.keys.Seal(plain)
}

// Open returns what a link's token was sealed with.
func (l *Links) Open(token string) (Link, error) {
	plain, err := l.keys.Open(token)
	if err != nil {
		return Link{}, ErrInvalidLink
	}
	var k Link
	if err := json.Unmarshal(plain, &k); err != nil || k.CustomerID == "" || k.SentAt.IsZero() {
		return Link{}, ErrInvalidLink
	}
	return k, nil
}

// NewNonce is a fresh random name for one exchange form: sent twice, it
// exchanges once.
func NewNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
