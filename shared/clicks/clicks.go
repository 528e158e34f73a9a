// Package clicks makes and opens the tracked links of campaign messages:
// every link of an email and every LINE URI action goes through
// GET /r/{token}, whose token is sealed (package seal: encrypted and
// authenticated, naming its key so CLICK_SECRET can rotate). It carries
// the message, its campaign and variant, the customer, the link's index
// and the target URL, so the redirect records the click without reading
// anything and redirects only to the URL sealed in it, never to anything
// the request says. scanners.go says which requests are not clicks.
package clicks

import (
	"encoding/binary"
	"net/url"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/seal"
)

// ErrInvalid means a token was not sealed with one of the keys, was
// altered, or does not hold a link.
var ErrInvalid = seal.ErrInvalid

// RoutePrefix is the path under the public base URL that click links
// start with; the token follows.
const RoutePrefix = "/r/"

// Message is the campaign message a link belongs to.
type Message struct {
	Key        string
	CampaignID string
	Variant    string
	CustomerID string
	// SentAt is when the runner sent it (the claim's time), for telling
	// a scanner's prefetch on delivery from a person's click.
	SentAt time.Time
}

// Link is what one tracked link says: its message, which link of the
// message it is (the first distinct target is 0) and where it goes.
type Link struct {
	Message
	Index int
	URL   string
}

// Sealer seals links with the current key of CLICK_SECRET and opens them
// with any of its keys.
type Sealer struct {
	keys seal.Keys
	base string // the HTTP API's public base URL, without a trailing slash
}

// NewSealer derives the link keys from a secret's keys (CLICK_SECRET; the
// first seals, every one opens). Links are made under baseURL, the HTTP
// API's public base URL.
func NewSealer(baseURL string, secrets ...string) (*Sealer, error) {
	keys, err := seal.New("click redirect", secrets...)
	if err != nil {
		return nil, err
	}
	return &Sealer{keys: keys, base: strings.TrimRight(baseURL, "/")}, nil
}

// linkVersion starts every sealed link, so that the format can change and
// the links already sent still open.
const linkVersion = 1

// URL is the tracked link of l: the redirect route with l sealed in it.
func (s *Sealer) URL(l Link) string {
	b := []byte{linkVersion}
	for _, f := range []string{l.Key, l.CampaignID, l.Variant, l.CustomerID, l.URL} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(l.Index))
	b = binary.AppendVarint(b, l.SentAt.Unix())
	return s.base + RoutePrefix + s.keys.Seal(b)
}

// Open returns the link a token was sealed for, by any of the keys. A
// click link always names its key (seal accepts tokens without a key id
// only for links made before key ids, and there are no such click links).
func (s *Sealer) Open(token string) (Link, error) {
	if !strings.Contains(token, ".") {
		return Link{}, ErrInvalid
	}
	plain, err := s.keys.Open(token)
	if err != nil {
		return Link{}, err
	}
	if len(plain) == 0 || plain[0] != linkVersion {
		return Link{}, ErrInvalid
	}
	rest := plain[1:]
	var fields [5]string
	for i := range fields {
		n, size := binary.Uvarint(rest)
		if size <= 0 || n > uint64(len(rest)-size) {
			return Link{}, ErrInvalid
		}
		fields[i], rest = string(rest[size:size+int(n)]), rest[size+int(n):]
	}
	index, size := binary.Uvarint(rest)
	if size <= 0 || index > 1<<16 {
		return Link{}, ErrInvalid
	}
	rest = rest[size:]
	sent, size := binary.Varint(rest)
	if size <= 0 || size != len(rest) {
		return Link{}, ErrInvalid
	}
	return Link{
		Message: Message{Key: fields[0], CampaignID: fields[1], Variant: fields[2], CustomerID: fields[3], SentAt: time.Unix(sent, 0).UTC()},
		Index:   int(index), URL: fields[4],
	}, nil
}

// Tracker returns what rewrites the links of one message as it is
// rendered: each http(s) link becomes its tracked link, numbered by
// distinct target in the order first met (the HTML part, then the text
// part, which therefore share numbers). Other links stay as they are:
// mailto: and tel:, anything not http(s), and links to tsunagu's own API
// (the unsubscribe link, which RFC 8058 and the law want direct, and
// links already tracked).
func (s *Sealer) Tracker(m Message) func(rawURL string) string {
	index := map[string]int{}
	return func(raw string) string {
		if !s.trackable(raw) {
			return raw
		}
		i, seen := index[raw]
		if !seen {
			i = len(index)
			index[raw] = i
		}
		return s.URL(Link{Message: m, Index: i, URL: raw})
	}
}

// trackable reports whether raw is an absolute http(s) URL outside the
// HTTP API's own routes.
func (s *Sealer) trackable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return false
	}
	return raw != s.base && !strings.HasPrefix(raw, s.base+"/")
}
