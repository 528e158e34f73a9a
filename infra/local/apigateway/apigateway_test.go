package apigateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

// fakeFunction records the events it gets and answers as told.
type fakeFunction struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	answer string
	err    error
	block  bool // wait for the context to end
}

func (f *fakeFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return []byte(f.answer), f.err
}

func (f *fakeFunction) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("function was not invoked")
	}
	return f.events[len(f.events)-1]
}

var routes = []sam.Route{
	{Function: "PurchaseFunction", Method: "POST", Path: "/webhooks/orders"},
	{Function: "ThankYouFunction", Method: "GET", Path: "/thankyou/{orderId}"},
	{Function: "FilesFunction", Method: "ANY", Path: "/files/{proxy+}"},
}

func newGateway(t *testing.T, fn *fakeFunction) *Gateway {
	t.Helper()
	g, err := New(routes, map[string]Invoker{"PurchaseFunction": fn, "ThankYouFunction": fn, "FilesFunction": fn},
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRequestTranslation(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		target  string
		headers [][2]string
		body    string
		check   func(t *testing.T, ev events.APIGatewayV2HTTPRequest)
	}{
		{
			name:    "json webhook",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"Content-Type", "application/json"}, {"X-Tsunagu-Signature", "t=1,v1=ab"}, {"User-Agent", "shop/1.0"}},
			body:    `{"id":"evt-1","name":"高橋"}`,
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "version", ev.Version, "2.0")
				want(t, "routeKey", ev.RouteKey, "POST /webhooks/orders")
				want(t, "rawPath", ev.RawPath, "/webhooks/orders")
				want(t, "rawQueryString", ev.RawQueryString, "")
				want(t, "body", ev.Body, `{"id":"evt-1","name":"高橋"}`)
				want(t, "isBase64Encoded", ev.IsBase64Encoded, false)
				want(t, "signature header", ev.Headers["x-tsunagu-signature"], "t=1,v1=ab")
				want(t, "content-type header", ev.Headers["content-type"], "application/json")
				want(t, "host header", ev.Headers["host"], "example.com")
				want(t, "x-forwarded-for", ev.Headers["x-forwarded-for"], "192.0.2.1")
				want(t, "queryStringParameters", ev.QueryStringParameters, map[string]string(nil))
				want(t, "pathParameters", ev.PathParameters, map[string]string(nil))
				want(t, "cookies", ev.Cookies, []string(nil))
				rc := ev.RequestContext
				want(t, "requestContext.routeKey", rc.RouteKey, "POST /webhooks/orders")
				want(t, "stage", rc.Stage, "$default")
				want(t, "accountId", rc.AccountID, accountID)
				want(t, "apiId", rc.APIID, apiID)
				want(t, "domainName", rc.DomainName, "example.com")
				want(t, "domainPrefix", rc.DomainPrefix, "example")
				want(t, "http", rc.HTTP, events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/orders", Protocol: "HTTP/1.1", SourceIP: "192.0.2.1", UserAgent: "shop/1.0"})
				at, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.Time)
				if err != nil {
					t.Errorf("time %q: %v", rc.Time, err)
				}
				want(t, "timeEpoch matches time", at.Unix(), rc.TimeEpoch/1000)
				if rc.RequestID == "" {
					t.Error("no requestId")
				}
			},
		},
		{
			name:    "headers lower-cased and repeated values comma-joined",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"X-Multi", "a"}, {"x-multi", "b"}, {"X-Forwarded-For", "203.0.113.9"}},
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "x-multi", ev.Headers["x-multi"], "a,b")
				want(t, "x-forwarded-for appended", ev.Headers["x-forwarded-for"], "203.0.113.9, 192.0.2.1")
				for k := range ev.Headers {
					if k != strings.ToLower(k) {
						t.Errorf("header %q not lower-case", k)
					}
				}
			},
		},
		{
			name:   "path parameter and query",
			method: "GET",
			target: "/thankyou/1001?sig=abc&x=1&x=2&e=%E6%A4%BF",
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "routeKey", ev.RouteKey, "GET /thankyou/{orderId}")
				want(t, "pathParameters", ev.PathParameters, map[string]string{"orderId": "1001"})
				want(t, "rawQueryString", ev.RawQueryString, "sig=abc&x=1&x=2&e=%E6%A4%BF")
				want(t, "queryStringParameters", ev.QueryStringParameters, map[string]string{"sig": "abc", "x": "1,2", "e": "椿"})
				want(t, "no body", ev.Body, "")
				want(t, "isBase64Encoded", ev.IsBase64Encoded, false)
			},
		},
		{
			name:   "path decoded",
			method: "GET",
			target: "/thankyou/a%20b",
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "pathParameters", ev.PathParameters, map[string]string{"orderId": "a b"})
				want(t, "rawPath", ev.RawPath, "/thankyou/a b")
			},
		},
		{
			name:   "greedy path parameter, any method",
			method: "DELETE",
			target: "/files/a/b/c.txt",
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "routeKey", ev.RouteKey, "ANY /files/{proxy+}")
				want(t, "pathParameters", ev.PathParameters, map[string]string{"proxy": "a/b/c.txt"})
				want(t, "method", ev.RequestContext.HTTP.Method, "DELETE")
			},
		},
		{
			name:    "cookies moved out of headers",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"Cookie", "a=1; b=2"}, {"Cookie", "c=3"}},
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "cookies", ev.Cookies, []string{"a=1", "b=2", "c=3"})
				if _, ok := ev.Headers["cookie"]; ok {
					t.Error("cookie header still in headers")
				}
			},
		},
		{
			name:    "binary content type is base64",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"Content-Type", "application/octet-stream"}},
			body:    "hello",
			check:   wantBase64("hello"),
		},
		{
			name:   "no content type is base64",
			method: "POST",
			target: "/webhooks/orders",
			body:   `{"id":"evt-1"}`,
			check:  wantBase64(`{"id":"evt-1"}`),
		},
		{
			name:    "form is base64",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}},
			body:    "a=1",
			check:   wantBase64("a=1"),
		},
		{
			name:    "text that is not UTF-8 is base64",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"Content-Type", "text/plain; charset=shift_jis"}},
			body:    "\x93\xfa\x96\x7b",
			check:   wantBase64("\x93\xfa\x96\x7b"),
		},
		{
			name:    "json with charset is text",
			method:  "POST",
			target:  "/webhooks/orders",
			headers: [][2]string{{"Content-Type", "application/json; charset=utf-8"}},
			body:    `{}`,
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				want(t, "body", ev.Body, `{}`)
				want(t, "isBase64Encoded", ev.IsBase64Encoded, false)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &fakeFunction{answer: `{"statusCode":204}`}
			g := newGateway(t, fn)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for _, h := range tt.headers {
				req.Header.Add(h[0], h[1])
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			ev := fn.last(t)
			want(t, "apigw-requestid answers requestId", rec.Header().Get("Apigw-Requestid"), ev.RequestContext.RequestID)
			tt.check(t, ev)
		})
	}
}

func TestGatewayAnswers(t *testing.T) {
	tests := []struct {
		name       string
		fn         *fakeFunction
		method     string
		target     string
		body       string
		unknownLen bool // sent without Content-Length
		ctx        func() (context.Context, context.CancelFunc)
		wantStatus int
		wantHeader http.Header
		wantBody   string
		invoked    bool
	}{
		{
			name:       "function response",
			fn:         &fakeFunction{answer: `{"statusCode":201,"headers":{"Content-Type":"application/json","X-One":"1"},"multiValueHeaders":{"X-Many":["a","b"]},"cookies":["s=1; HttpOnly","t=2"],"body":"{\"ok\":true}"}`},
			method:     "POST",
			target:     "/webhooks/orders",
			wantStatus: 201,
			wantHeader: http.Header{"Content-Type": {"application/json"}, "X-One": {"1"}, "X-Many": {"a", "b"}, "Set-Cookie": {"s=1; HttpOnly", "t=2"}},
			wantBody:   `{"ok":true}`,
			invoked:    true,
		},
		{
			name:       "base64 body decoded",
			fn:         &fakeFunction{answer: `{"statusCode":200,"headers":{"content-type":"image/gif"},"isBase64Encoded":true,"body":"` + base64.StdEncoding.EncodeToString([]byte("GIF89a\x00\xff")) + `"}`},
			method:     "GET",
			target:     "/thankyou/1",
			wantStatus: 200,
			wantHeader: http.Header{"Content-Type": {"image/gif"}},
			wantBody:   "GIF89a\x00\xff",
			invoked:    true,
		},
		{
			name:       "no content type stays absent",
			fn:         &fakeFunction{answer: `{"statusCode":200,"body":"<p>hi</p>"}`},
			method:     "GET",
			target:     "/thankyou/1",
			wantStatus: 200,
			wantHeader: http.Header{"Content-Type": nil},
			wantBody:   "<p>hi</p>",
			invoked:    true,
		},
		{
			name:       "answer without statusCode is a 200 json body",
			fn:         &fakeFunction{answer: `{"hello":"world"}`},
			method:     "GET",
			target:     "/thankyou/1",
			wantStatus: 200,
			wantHeader: http.Header{"Content-Type": {"application/json"}},
			wantBody:   `{"hello":"world"}`,
			invoked:    true,
		},
		{
			name:       "answer that is not JSON",
			fn:         &fakeFunction{answer: `oops`},
			method:     "GET",
			target:     "/thankyou/1",
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}` + "\n",
			invoked: true,
		},
		{
			name:       "function error",
			fn:         &fakeFunction{err: errors.New("function error: errorString: boom")},
			method:     "POST",
			target:     "/webhooks/orders",
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}` + "\n",
			invoked: true,
		},
		{
			name:   "integration timeout",
			fn:     &fakeFunction{block: true},
			method: "POST",
			target: "/webhooks/orders",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Millisecond)
			},
			wantStatus: 503, wantBody: `{"message":"Service Unavailable"}` + "\n",
			invoked: true,
		},
		{
			name:       "unknown route",
			fn:         &fakeFunction{},
			method:     "GET",
			target:     "/nope",
			wantStatus: 404, wantBody: `{"message":"Not Found"}` + "\n",
			wantHeader: http.Header{"Content-Type": {"application/json"}},
		},
		{
			name:       "known path, other method",
			fn:         &fakeFunction{},
			method:     "GET",
			target:     "/webhooks/orders",
			wantStatus: 404, wantBody: `{"message":"Not Found"}` + "\n",
		},
		{
			name:       "trailing slash is another route",
			fn:         &fakeFunction{},
			method:     "POST",
			target:     "/webhooks/orders/",
			wantStatus: 404, wantBody: `{"message":"Not Found"}` + "\n",
		},
		{
			name:       "body over 10 MB",
			fn:         &fakeFunction{},
			method:     "POST",
			target:     "/webhooks/orders",
			body:       strings.Repeat("x", MaxBody+1),
			wantStatus: 413, wantBody: `{"message":"Request Entity Too Large"}` + "\n",
		},
		{
			name:       "body of 10 MB",
			fn:         &fakeFunction{answer: `{"statusCode":202}`},
			method:     "POST",
			target:     "/webhooks/orders",
			body:       strings.Repeat("x", MaxBody),
			wantStatus: 202,
			invoked:    true,
		},
		{
			name:       "healthz",
			fn:         &fakeFunction{},
			method:     "GET",
			target:     "/healthz",
			wantStatus: 200,
			wantHeader: http.Header{"Content-Type": {"application/json"}},
			wantBody:   `{"ok":true,"routes":[{"routeKey":"POST /webhooks/orders","function":"PurchaseFunction"},{"routeKey":"GET /thankyou/{orderId}","function":"ThankYouFunction"},{"routeKey":"ANY /files/{proxy+}","function":"FilesFunction"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, tt.fn)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.unknownLen {
				req.ContentLength = -1
			}
			if tt.ctx != nil {
				ctx, cancel := tt.ctx()
				defer cancel()
				req = req.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			want(t, "status", rec.Code, tt.wantStatus)
			if tt.wantBody != "" || tt.wantStatus == 202 {
				want(t, "body", rec.Body.String(), tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				want(t, "header "+k, rec.Result().Header[k], []string(v))
			}
			want(t, "invoked", len(tt.fn.events) > 0, tt.invoked)
		})
	}
}

func TestNew(t *testing.T) {
	fn := &fakeFunction{}
	tests := []struct {
		name    string
		routes  []sam.Route
		wantErr string
	}{
		{"ok", routes[:1], ""},
		{"function missing", []sam.Route{{Function: "Nope", Method: "GET", Path: "/x"}}, "no function Nope"},
		{"same route twice", []sam.Route{routes[0], routes[0]}, "conflicts"},
		{"healthz taken", []sam.Route{{Function: "PurchaseFunction", Method: "GET", Path: "/healthz"}}, "GET /healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.routes, map[string]Invoker{"PurchaseFunction": fn}, nil)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestMuxPattern(t *testing.T) {
	tests := []struct {
		name        string
		route       sam.Route
		wantPattern string
		wantParams  []string
	}{
		{"plain", sam.Route{Method: "POST", Path: "/webhooks/orders"}, "POST /webhooks/orders", nil},
		{"parameter", sam.Route{Method: "GET", Path: "/thankyou/{orderId}"}, "GET /thankyou/{orderId}", []string{"orderId"}},
		{"greedy", sam.Route{Method: "ANY", Path: "/files/{proxy+}"}, "/files/{proxy...}", []string{"proxy"}},
		{"root", sam.Route{Method: "GET", Path: "/"}, "GET /{$}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pattern, params := muxPattern(tt.route)
			want(t, "pattern", pattern, tt.wantPattern)
			want(t, "params", params, tt.wantParams)
		})
	}
}

func want(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func wantBase64(body string) func(*testing.T, events.APIGatewayV2HTTPRequest) {
	return func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
		t.Helper()
		want(t, "isBase64Encoded", ev.IsBase64Encoded, true)
		got, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			t.Fatalf("body %q: %v", ev.Body, err)
		}
		want(t, "decoded body", string(got), body)
	}
}
