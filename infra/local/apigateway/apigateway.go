// Package apigateway serves a SAM template's HTTP API routes on this machine
// the way API Gateway HTTP APIs do with Lambda proxy integrations, payload
// format 2.0: each request becomes an events.APIGatewayV2HTTPRequest for
// the route's function, the function's events.APIGatewayV2HTTPResponse
// becomes the HTTP answer, and unknown routes, oversized bodies and failed
// invocations get API Gateway's own answers.
package apigateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

const (
	// MaxBody is API Gateway's limit on a request body.
	MaxBody = 10 << 20
	// IntegrationTimeout is how long API Gateway waits for a function.
	IntegrationTimeout = 30 * time.Second
	// accountID and apiID fill requestContext.
	accountID = "123456789012"
	apiID     = "local"
)

// Invoker runs one function with an event and returns its answer.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Gateway is an http.Handler serving HTTP API routes and GET /healthz.
type Gateway struct {
	mux *http.ServeMux
	log *slog.Logger
}

// New returns a Gateway serving routes, each by the Invoker of its function
// (by logical id). It fails when a route's function has no Invoker or a
// route cannot be served.
func New(routes []sam.Route, functions map[string]Invoker, logger *slog.Logger) (*Gateway, error) {
	if logger == nil {
		logger = slog.Default()
	}
	g := &Gateway{mux: http.NewServeMux(), log: logger}
	type healthRoute struct {
		RouteKey string `json:"routeKey"`
		Function string `json:"function"`
	}
	health := []healthRoute{}
	for _, rt := range routes {
		fn, ok := functions[rt.Function]
		if !ok {
			return nil, fmt.Errorf("new gateway: route %s: no function %s", rt.RouteKey(), rt.Function)
		}
		pattern, params := muxPattern(rt)
		if err := handle(g.mux, pattern, g.route(rt, params, fn)); err != nil {
			return nil, fmt.Errorf("new gateway: route %s: %w", rt.RouteKey(), err)
		}
		health = append(health, healthRoute{RouteKey: rt.RouteKey(), Function: rt.Function})
	}
	healthz, err := json.Marshal(map[string]any{"ok": true, "routes": health})
	if err != nil {
		return nil, fmt.Errorf("new gateway: %w", err)
	}
	if err := handle(g.mux, "GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(healthz)
	})); err != nil {
		return nil, fmt.Errorf("new gateway: GET /healthz: %w", err)
	}
	g.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		message(w, http.StatusNotFound, "Not Found")
	}))
	return g, nil
}

// ServeHTTP routes a request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mux.ServeHTTP(w, r)
}

// handle registers a pattern, reporting ServeMux's panic on a bad or
// conflicting pattern as an error.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// muxPattern turns a route into a ServeMux pattern and lists its path
// parameters: /thankyou/{orderId} is already one, {proxy+} becomes
// {proxy...}, and ANY matches every method.
func muxPattern(rt sam.Route) (pattern string, params []string) {
	segs := strings.Split(rt.Path, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
			continue
		}
		name := s[1 : len(s)-1]
		if greedy, ok := strings.CutSuffix(name, "+"); ok {
			name, segs[i] = greedy, "{"+greedy+"...}"
		}
		params = append(params, name)
	}
	path := strings.Join(segs, "/")
	if strings.HasSuffix(path, "/") { // API Gateway matches it exactly; ServeMux would match the subtree
		path += "{$}"
	}
	if rt.Method == "ANY" {
		return path, params
	}
	return rt.Method + " " + path, params
}

// route serves one route by its function.
func (g *Gateway) route(rt sam.Route, params []string, fn Invoker) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		id := newRequestID()
		w.Header().Set("Apigw-Requestid", id)
		status := g.serve(w, r, rt, params, fn, id, at)
		// The query string is left out: it may carry tokens and signatures.
		g.log.Info("request", "request_id", id, "route_key", rt.RouteKey(), "path", r.URL.Path,
			"status", status, "duration_ms", float64(time.Since(at).Microseconds())/1000)
	}
}

// serve answers one request and returns the status it answered.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, rt sam.Route, params []string, fn Invoker, id string, at time.Time) int {
	body, err := readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return message(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		}
		return message(w, http.StatusBadRequest, "Bad Request")
	}
	payload, err := json.Marshal(event(r, rt, params, id, at, body))
	if err != nil {
		g.log.Error("encode event failed", "request_id", id, "error", err)
		return message(w, http.StatusInternalServerError, "Internal Server Error")
	}
	ctx, cancel := context.WithTimeout(r.Context(), IntegrationTimeout)
	defer cancel()
	out, err := fn.Invoke(ctx, payload)
	switch {
	case err != nil && errors.Is(r.Context().Err(), context.Canceled):
		return 499 // for the log (nginx's "client closed request"): nobody is left to answer
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		g.log.Error("integration timed out", "request_id", id, "function", rt.Function, "error", err)
		return message(w, http.StatusServiceUnavailable, "Service Unavailable")
	case err != nil:
		g.log.Error("invoke failed", "request_id", id, "function", rt.Function, "error", err)
		return message(w, http.StatusInternalServerError, "Internal Server Error")
	}
	resp, err := decodeResponse(out)
	if err != nil {
		g.log.Error("invalid function response", "request_id", id, "function", rt.Function, "error", err)
		return message(w, http.StatusInternalServerError, "Internal Server Error")
	}
	if err := writeResponse(w, resp); err != nil {
		g.log.Error("invalid function response", "request_id", id, "function", rt.Function, "error", err)
		return message(w, http.StatusInternalServerError, "Internal Server Error")
	}
	return resp.StatusCode
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, &http.MaxBytesError{Limit: MaxBody}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

// event is the payload 2.0 event API Gateway sends a function for r
// matched by rt, whose path parameters are params.
func event(r *http.Request, rt sam.Route, params []string, requestID string, at time.Time, body []byte) events.APIGatewayV2HTTPRequest {
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" { // payload 2.0 moves cookies out of headers
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(local.String()); err == nil {
			headers["x-forwarded-port"] = port
		}
	}
	headers["x-amzn-trace-id"] = newTraceID(at)

	var query map[string]string
	if values, _ := url.ParseQuery(r.URL.RawQuery); len(values) > 0 { // keeps what parses, as API Gateway does
		query = map[string]string{}
		for k, vs := range values {
			query[k] = strings.Join(vs, ",")
		}
	}
	var pathParams map[string]string
	for _, p := range params {
		if pathParams == nil {
			pathParams = map[string]string{}
		}
		pathParams[p] = r.PathValue(p)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.RouteKey(),
		RawPath:               r.URL.Path, // HTTP APIs pass the path decoded
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.RouteKey(),
			AccountID:    accountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        apiID,
			DomainName:   r.Host,
			DomainPrefix: strings.SplitN(host, ".", 2)[0],
			Time:         at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// isText reports the content types whose bodies HTTP APIs pass as text;
// every other body, including one without a content type, arrives base64
// encoded.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return strings.HasPrefix(mt, "text/")
}

// decodeResponse reads a function's answer. An answer without statusCode
// is, as API Gateway treats it, a 200 application/json body.
func decodeResponse(out []byte) (events.APIGatewayV2HTTPResponse, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(out) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("decode function response: not JSON")
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(out)}, nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return resp, fmt.Errorf("decode function response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return resp, fmt.Errorf("decode function response: statusCode %d", resp.StatusCode)
	}
	return resp, nil
}

// writeResponse writes a function's answer: headers, multiValueHeaders,
// each cookie as a Set-Cookie header, and the body (decoded from base64
// when isBase64Encoded).
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("decode response body: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil // as the function said: no type, and no sniffing
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// message writes one of API Gateway's own answers, {"message": text}.
func message(w http.ResponseWriter, status int, text string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": text})
	return status
}

// newRequestID returns an id shaped like API Gateway's ("LV7fzho-PHcEJPw=").
func newRequestID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// newTraceID returns an X-Ray trace id for the x-amzn-trace-id header.
func newTraceID(at time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s", at.Unix(), hex.EncodeToString(b[:]))
}
