package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/seal"
)

// SourceForm is tsunagu's own review form: reviews of shops without a
// review app, kept unpublished until the shop approves them.
const SourceForm = "form"

// FormRoutePrefix is the path of the review form under the public base URL.
const FormRoutePrefix = "/review/"

// ErrFormInvalid means a form token was not sealed with one of the keys,
// was altered, or is not a review form's.
var ErrFormInvalid = errors.New("review form token invalid")

// FormAsk is one product a review request asked a customer about: what
// its form links carry.
type FormAsk struct {
	MessageKey string    `json:"k"`
	CustomerID string    `json:"u"`
	OrderID    string    `json:"o,omitempty"`
	SKU        string    `json:"s"`
	Name       string    `json:"n"`
	SentAt     time.Time `json:"t"`
}

// ReviewID is the id of the review the form takes: one per request and
// product, so submitting the form again changes nothing.
func (a FormAsk) ReviewID() string { return a.MessageKey + "#" + a.SKU }

// FormSealer seals form asks with the current key and opens them with any.
type FormSealer struct {
	keys seal.Keys
	base string
}

// NewFormSealer derives the review form's keys from a secret's keys
// (CLICK_SECRET) for the HTTP API's public base URL.
func NewFormSealer(baseURL string, secrets ...string) (*FormSealer, error) {
	keys, err := seal.New("review form", secrets...)
	if err != nil {
		return nil, err
	}
	return &FormSealer{keys: keys, base: strings.TrimRight(baseURL, "/")}, nil
}

// Token seals a.
func (s *FormSealer) Token(a FormAsk) string {
	plain, _ := json.Marshal(a) // strings and a time: cannot fail
	return s.keys.Seal(plain)
}

// Link returns the form's link with a rating chosen (0: none chosen).
func (s *FormSealer) Link(a FormAsk) func(rating int) string {
	url := s.base + FormRoutePrefix + s.Token(a)
	return func(rating int) string {
		if rating <= 0 {
			return url
		}
		return fmt.Sprintf("%s?rating=%d", url, rating)
	}
}

// Open returns the ask a token was sealed for.
func (s *FormSealer) Open(token string) (FormAsk, error) {
	if !strings.Contains(token, ".") {
		return FormAsk{}, ErrFormInvalid
	}
	plain, err := s.keys.Open(token)
	if err != nil {
		return FormAsk{}, ErrFormInvalid
	}
	var a FormAsk
	if err := json.Unmarshal(plain, &a); err != nil || a.MessageKey == "" || a.CustomerID == "" || a.SKU == "" {
		return FormAsk{}, ErrFormInvalid
	}
	return a, nil
}

// FormProblem is one field of a submitted form that cannot be taken, with
// the reason to show the customer.
type FormProblem struct {
	Field, Message string
}

// FromForm is the review a customer submitted on the form of a, or the
// problems that keep it from being taken (a text too long is refused,
// never cut). The review is verified (the request went to a buyer) and
// unpublished until the shop approves it.
func FromForm(a FormAsk, rating, title, text, author string, now time.Time) (Review, []FormProblem) {
	r := Review{Source: SourceForm, ID: a.ReviewID(), OrderID: a.OrderID, CustomerID: a.CustomerID, SKU: a.SKU,
		Title: oneLine(title), Text: cleanText(text), Author: oneLine(author), Verified: true, CreatedAt: now.UTC()}
	var problems []FormProblem
	switch rating {
	case "1", "2", "3", "4", "5":
		r.Rating = int(rating[0] - '0')
	default:
		problems = append(problems, FormProblem{"rating", "星の数（1〜5）を選んでください。"})
	}
	for _, f := range []struct {
		field, label, value string
		max                 int
	}{{"title", "タイトル", r.Title, MaxTitle}, {"text", "本文", r.Text, MaxText}, {"author", "お名前（表示名）", r.Author, MaxAuthor}} {
		if n := len([]rune(f.value)); n > f.max {
			problems = append(problems, FormProblem{f.field, fmt.Sprintf("%sは%d文字までです（いま%d文字）。短くしてもう一度送ってください。", f.label, f.max, n)})
		}
	}
	return r, problems
}

// oneLine is cleanText on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(cleanText(s)), " ") }
