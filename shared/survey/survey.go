// Package survey makes and opens the one-tap score links of satisfaction
// surveys (campaign actions of type survey): GET /survey/{token}?score=N,
// whose token seals which survey message asked whom (package seal, keys
// derived from CLICK_SECRET for this purpose alone), and says what a
// score means on its scale.
package survey

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/seal"
)

// ErrInvalid means a token was not sealed with one of the keys, was
// altered, or is not a survey's.
var ErrInvalid = errors.New("survey token invalid")

// ValidFor is how long after its message a survey takes answers.
const ValidFor = 30 * 24 * time.Hour

// RoutePrefix is the path of the survey page under the public base URL.
const RoutePrefix = "/survey/"

// Ask is one survey message: what its links carry.
type Ask struct {
	MessageKey string    `json:"k"`
	CampaignID string    `json:"c"`
	CustomerID string    `json:"u"`
	OrderID    string    `json:"o,omitempty"`
	Scale      string    `json:"s"`
	SentAt     time.Time `json:"t"`
}

// Sealer seals asks with the current key and opens them with any.
type Sealer struct {
	keys seal.Keys
	base string
}

// NewSealer derives the survey keys from a secret's keys (CLICK_SECRET)
// for the HTTP API's public base URL.
func NewSealer(baseURL string, secrets ...string) (*Sealer, error) {
	keys, err := seal.New("survey", secrets...)
	if err != nil {
		return nil, err
	}
	return &Sealer{keys: keys, base: strings.TrimRight(baseURL, "/")}, nil
}

// Token seals a.
func (s *Sealer) Token(a Ask) string {
	plain, _ := json.Marshal(a) // strings and a time: cannot fail
	return s.keys.Seal(plain)
}

// Link returns the one-tap link of each score of a's survey.
func (s *Sealer) Link(a Ask) func(score int) string {
	url := s.base + RoutePrefix + s.Token(a)
	return func(score int) string { return fmt.Sprintf("%s?score=%d", url, score) }
}

// Open returns the ask a token was sealed for.
func (s *Sealer) Open(token string) (Ask, error) {
	if !strings.Contains(token, ".") {
		return Ask{}, ErrInvalid
	}
	plain, err := s.keys.Open(token)
	if err != nil {
		return Ask{}, ErrInvalid
	}
	var a Ask
	if err := json.Unmarshal(plain, &a); err != nil || a.MessageKey == "" || a.CustomerID == "" {
		return Ask{}, ErrInvalid
	}
	if _, _, ok := Range(a.Scale); !ok {
		return Ask{}, ErrInvalid
	}
	return a, nil
}

// Range is the lowest and highest score of a scale.
func Range(scale string) (lo, hi int, ok bool) {
	switch scale {
	case rules.ScaleNPS:
		return 0, 10, true
	case rules.ScaleCSAT:
		return 1, 5, true
	}
	return 0, 0, false
}

// Unhappy reports whether a score is a problem the shop should hear of
// first: an NPS detractor (0-6) or a CSAT of 1 or 2.
func Unhappy(scale string, score int) bool {
	if scale == rules.ScaleCSAT {
		return score <= 2
	}
	return score <= 6
}

// Counts are the shop's daily survey counters an answer of score moves
// (store.Counts names): on NPS a promoter (9-10), passive (7-8) or
// detractor (0-6); on CSAT an answer and, for 4 or 5, a satisfied one.
// A score of -1 (no answer) moves none.
func Counts(scale string, score int) map[string]int64 {
	switch {
	case score < 0:
		return nil
	case scale == rules.ScaleCSAT && score >= 4:
		return map[string]int64{"csat_answers": 1, "csat_satisfied": 1}
	case scale == rules.ScaleCSAT:
		return map[string]int64{"csat_answers": 1}
	case score >= 9:
		return map[string]int64{"nps_promoters": 1}
	case score >= 7:
		return map[string]int64{"nps_passives": 1}
	}
	return map[string]int64{"nps_detractors": 1}
}

// Change is what the shop's counters move by when an answer goes from
// score previous (-1: none) to score: the new bucket in, the old out.
func Change(scale string, previous, score int) map[string]int64 {
	out := map[string]int64{}
	for k, v := range Counts(scale, score) {
		out[k] += v
	}
	for k, v := range Counts(scale, previous) {
		out[k] -= v
	}
	for k, v := range out {
		if v == 0 {
			delete(out, k)
		}
	}
	return out
}

// StageSeparator joins a survey counter's name and the lifecycle stage
// it counts (nps_promoters@loyal).
const StageSeparator = "@"

// ChangeByStage is Change, and the same again under the customer's
// lifecycle stage (counter names with StageSeparator and the stage),
// for NPS by stage; stage "" counts the shop's only.
func ChangeByStage(scale, stage string, previous, score int) map[string]int64 {
	out := Change(scale, previous, score)
	if stage == "" {
		return out
	}
	for k, v := range Change(scale, previous, score) {
		out[k+StageSeparator+stage] = v
	}
	return out
}

// PostbackAction is the LINE postback action of a survey's quick-reply
// score buttons: action=survey&m=<message key>&s=<score>[&o=<order>].
const PostbackAction = "survey"

// maxPostbackData is the longest postback data LINE takes.
const maxPostbackData = 300

// QuickReply is a LINE survey message's buttons, one per score of scale,
// lowest first: each posts back the survey message's key and the score
// (and the order it is about, when that fits LINE's limit). The LINE
// webhook checks the message is the customer's own before recording.
func QuickReply(scale, messageKey, orderID string) []line.QuickReplyButton {
	lo, hi, _ := Range(scale)
	var out []line.QuickReplyButton
	for n := lo; n <= hi; n++ {
		q := url.Values{"action": {PostbackAction}, "m": {messageKey}, "s": {strconv.Itoa(n)}}
		if orderID != "" {
			q.Set("o", orderID)
			if len(q.Encode()) > maxPostbackData {
				q.Del("o")
			}
		}
		out = append(out, line.QuickReplyButton{Label: strconv.Itoa(n), Data: q.Encode()})
	}
	return out
}
