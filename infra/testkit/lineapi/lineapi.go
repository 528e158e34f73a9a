// Package lineapi is a stand-in for the LINE Messaging API for tests: an
// httptest server that the real line-bot-sdk-go client talks to. It checks
// every request as LINE would (method, path, bearer token, retry key, and
// the JSON body against the shapes and limits LINE documents, in
// messaging-api.schema.json), answers as LINE documents (409 for a retry
// key already accepted), and records what it received. A request LINE
// would refuse fails the test.
package lineapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Token is the channel access token the server accepts.
const Token = "test-channel-access-token"

// LINE's endpoints the server serves.
const (
	PushPath        = "/v2/bot/message/push"
	ReplyPath       = "/v2/bot/message/reply"
	QuotaPath       = "/v2/bot/message/quota"
	ConsumptionPath = "/v2/bot/message/quota/consumption"
	// LinkTokenPath is the link-token endpoint, as a pattern.
	LinkTokenPath = "/v2/bot/user/{userId}/linkToken"
)

//go:embed messaging-api.schema.json
var schemaJSON []byte

const schemaURL = "https://tsunagu.invalid/line/messaging-api.schema.json"

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

// compiled returns the body schema of each endpoint that takes one.
func compiled() (map[string]*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if schemaErr = c.AddResource(schemaURL, doc); schemaErr != nil {
			return
		}
		schemas = map[string]*jsonschema.Schema{}
		for path, def := range map[string]string{PushPath: "pushRequest", ReplyPath: "replyRequest"} {
			if schemas[path], schemaErr = c.Compile(schemaURL + "#/$defs/" + def); schemaErr != nil {
				return
			}
		}
	})
	return schemas, schemaErr
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Answer is a scripted answer to the next request on a path.
type Answer struct {
	Status int
	// Body is the JSON answered; LINE's error shape {"message": ...} when empty.
	Body   string
	Header map[string]string
	// Accept makes the server accept a push before answering Status: the
	// message went out but the answer was lost, so a retry with the same
	// retry key gets 409.
	Accept bool
}

// Server is the stand-in for the LINE Messaging API.
type Server struct {
	// URL is the base URL to give the SDK (line.WithEndpoint).
	URL string

	tb       testing.TB
	mu       sync.Mutex
	requests []Request
	script   map[string][]Answer
	accepted map[string]string // retry key -> request id
	limit    int
	used     int
	seq      int
}

// NewServer starts a server, closed when the test ends. The channel has
// the free plan's quota: 200 messages a month, none used.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	if _, err := compiled(); err != nil {
		tb.Fatalf("lineapi: compile the Messaging API schema: %v", err)
	}
	s := &Server{tb: tb, script: map[string][]Answer{}, accepted: map[string]string{}, limit: 200}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Script queues answers for the next requests on a path (for the link
// token endpoint, LinkTokenPath), before the server answers normally again.
func (s *Server) Script(path string, answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[path] = append(s.script[path], answers...)
}

// SetQuota sets the monthly limit (-1: none) and the messages used.
func (s *Server) SetQuota(limit, used int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.used = limit, used
}

// Requests returns the requests received on a path (LinkTokenPath for any
// user's link token), in order.
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if route(r.Path) == path {
			out = append(out, r)
		}
	}
	return out
}

var (
	linkTokenPath = regexp.MustCompile(`^/v2/bot/user/([^/]+)/linkToken$`)
	userIDPattern = regexp.MustCompile(`^U[0-9a-f]{32}$`)
	uuidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func route(path string) string {
	if linkTokenPath.MatchString(path) {
		return LinkTokenPath
	}
	return path
}

// endpoints are the method each path takes and whether it takes a body.
var endpoints = map[string]struct {
	method string
	body   bool
}{
	PushPath: {http.MethodPost, true}, ReplyPath: {http.MethodPost, true},
	QuotaPath: {http.MethodGet, false}, ConsumptionPath: {http.MethodGet, false},
	LinkTokenPath: {http.MethodPost, false},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := route(r.URL.Path)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()

	ep, known := endpoints[path]
	switch {
	case !known:
		s.refuse(w, http.StatusNotFound, "Not found", "unknown endpoint %s %s", r.Method, r.URL.Path)
		return
	case r.Method != ep.method:
		s.refuse(w, http.StatusMethodNotAllowed, "Method not allowed", "%s %s: LINE takes %s", r.Method, r.URL.Path, ep.method)
		return
	case r.Header.Get("Authorization") != "Bearer "+Token:
		s.refuse(w, http.StatusUnauthorized, "Authentication failed. Confirm that the access token in the authorization header is valid.", "%s: Authorization %q", path, r.Header.Get("Authorization"))
		return
	case path != PushPath && r.Header.Get("X-Line-Retry-Key") != "":
		// LINE answers 400 to a retry key on an endpoint that takes none.
		s.refuse(w, http.StatusBadRequest, "X-Line-Retry-Key is not supported", "%s: a retry key sent where LINE takes none", path)
		return
	case path == PushPath && !uuidPattern.MatchString(r.Header.Get("X-Line-Retry-Key")):
		s.refuse(w, http.StatusBadRequest, "The retry key must be a UUID", "push: X-Line-Retry-Key %q is not a UUID", r.Header.Get("X-Line-Retry-Key"))
		return
	}
	if ep.body {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			s.refuse(w, http.StatusUnsupportedMediaType, "Unsupported media type", "%s: Content-Type %q", path, ct)
			return
		}
		if problem := validate(path, body); problem != "" {
			s.refuse(w, http.StatusBadRequest, "The request body has 1 error(s)", "%s: the body is not what LINE documents: %s\n%s", path, problem, body)
			return
		}
	} else if len(bytes.TrimSpace(body)) > 0 {
		s.refuse(w, http.StatusBadRequest, "The request body must be empty", "%s: unexpected body %s", path, body)
		return
	}
	if path == LinkTokenPath && !userIDPattern.MatchString(linkTokenPath.FindStringSubmatch(r.URL.Path)[1]) {
		s.refuse(w, http.StatusBadRequest, "The value for the 'userId' parameter is invalid", "link token: malformed user id in %s", r.URL.Path)
		return
	}
	s.answer(w, path, r, body)
}

// answer gives the scripted answer, if any, else LINE's normal one.
func (s *Server) answer(w http.ResponseWriter, path string, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	retryKey := r.Header.Get("X-Line-Retry-Key")
	if path == PushPath {
		if id, ok := s.accepted[retryKey]; ok {
			w.Header().Set("X-Line-Accepted-Request-Id", id)
			write(w, http.StatusConflict, `{"message":"The retry key is already accepted"}`)
			return
		}
	}
	if q := s.script[path]; len(q) > 0 {
		a := q[0]
		s.script[path] = q[1:]
		if a.Accept && path == PushPath {
			s.accept(retryKey, body)
		}
		for k, v := range a.Header {
			w.Header().Set(k, v)
		}
		if a.Body == "" {
			a.Body = fmt.Sprintf(`{"message":%q}`, http.StatusText(a.Status))
		}
		write(w, a.Status, a.Body)
		return
	}
	s.seq++
	w.Header().Set("X-Line-Request-Id", fmt.Sprintf("req-%04d", s.seq))
	switch path {
	case PushPath:
		write(w, http.StatusOK, sentMessages(s.accept(retryKey, body)))
	case ReplyPath:
		var req struct{ Messages []json.RawMessage }
		_ = json.Unmarshal(body, &req)
		write(w, http.StatusOK, sentMessages(len(req.Messages)))
	case QuotaPath:
		if s.limit < 0 {
			write(w, http.StatusOK, `{"type":"none"}`)
			return
		}
		write(w, http.StatusOK, fmt.Sprintf(`{"type":"limited","value":%d}`, s.limit))
	case ConsumptionPath:
		write(w, http.StatusOK, fmt.Sprintf(`{"totalUsage":%d}`, s.used))
	case LinkTokenPath:
		write(w, http.StatusOK, fmt.Sprintf(`{"linkToken":"NMZTNuVrPTqlr2IF8Bnymkb7rXfYv%04d"}`, s.seq))
	}
}

// accept records a push as accepted under its retry key and counts it
// against the quota: LINE counts a push to one user as one message,
// whatever number of message objects (up to 5) it carries. It returns
// how many message objects there were.
func (s *Server) accept(retryKey string, body []byte) int {
	var req struct{ Messages []json.RawMessage }
	_ = json.Unmarshal(body, &req)
	s.accepted[retryKey] = fmt.Sprintf("req-%04d", s.seq)
	s.used++
	return len(req.Messages)
}

func sentMessages(n int) string {
	var b strings.Builder
	b.WriteString(`{"sentMessages":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"4617%08d","quoteToken":"q%d"}`, i+1, i+1)
	}
	b.WriteString("]}")
	return b.String()
}

func (s *Server) refuse(w http.ResponseWriter, status int, message, format string, args ...any) {
	s.tb.Errorf("lineapi: LINE would refuse this request: "+format, args...)
	write(w, status, fmt.Sprintf(`{"message":%q}`, message))
}

func write(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Flex containers LINE takes at most this large (bytes of JSON).
const (
	maxBubbleBytes   = 30 << 10
	maxCarouselBytes = 50 << 10
)

// validate checks a body against the endpoint's schema and LINE's size
// limits, returning what is wrong ("" when nothing).
func validate(path string, body []byte) string {
	schemas, _ := compiled()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return "not JSON: " + err.Error()
	}
	if err := schemas[path].Validate(doc); err != nil {
		return err.Error()
	}
	var req struct {
		Messages []struct {
			Type     string          `json:"type"`
			Contents json.RawMessage `json:"contents"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(body, &req)
	for i, m := range req.Messages {
		if m.Type != "flex" {
			continue
		}
		var container struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(m.Contents, &container)
		limit := maxBubbleBytes
		if container.Type == "carousel" {
			limit = maxCarouselBytes
		}
		if len(m.Contents) > limit {
			return fmt.Sprintf("messages[%d]: a Flex container of %d bytes; LINE takes %d", i, len(m.Contents), limit)
		}
	}
	return ""
}
