package config

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Secret values of the tests: what a deploy would store.
const (
	strong      = "8c1f0e6b2a9d4c7e5f3a1b0d9e8c7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"
	strongOld   = "0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d"
	shortSecret = "too-short-a-secret"
)

// parameterStore stands in for SSM Parameter Store: it answers
// GetParameters as the service does and checks that each request is one
// the real service would take (the action, SigV4 for ssm, the JSON 1.1
// protocol, at most 10 names, decryption asked for).
type parameterStore struct {
	t      *testing.T
	params map[string]parameter
	fail   bool

	mu    sync.Mutex
	calls [][]string
}

type parameter struct{ Type, Value string }

func (s *parameterStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.t
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		t.Errorf("SSM request %s %s, want POST /", r.Method, r.URL.Path)
	case r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters":
		t.Errorf("X-Amz-Target %q, want AmazonSSM.GetParameters", r.Header.Get("X-Amz-Target"))
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		t.Errorf("Content-Type %q, want application/x-amz-json-1.1", r.Header.Get("Content-Type"))
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || !strings.Contains(r.Header.Get("Authorization"), "/ap-northeast-1/ssm/aws4_request"):
		t.Errorf("Authorization %q is not SigV4 for ssm", r.Header.Get("Authorization"))
	}
	var in struct {
		Names          []string
		WithDecryption *bool
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || len(in.Names) == 0 || len(in.Names) > 10 || in.WithDecryption == nil || !*in.WithDecryption {
		t.Errorf("GetParameters body %s: want 1 to 10 Names and WithDecryption true (%v)", body, err)
	}
	s.mu.Lock()
	s.calls = append(s.calls, in.Names)
	s.mu.Unlock()
	if s.fail {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"AccessDeniedException","message":"not authorized to perform: ssm:GetParameters"}`)
		return
	}
	type outParam struct{ Name, Type, Value, ARN string }
	out := struct {
		Parameters        []outParam
		InvalidParameters []string
	}{Parameters: []outParam{}, InvalidParameters: []string{}}
	for _, n := range in.Names {
		if p, ok := s.params[n]; ok {
			out.Parameters = append(out.Parameters, outParam{Name: n, Type: p.Type, Value: p.Value, ARN: "arn:aws:ssm:ap-northeast-1:123456789012:parameter" + n})
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

// client is the real SDK's SSM client, pointed at the stand-in.
func (s *parameterStore) client(url string) func() Parameters {
	return func() Parameters {
		return ssm.NewFromConfig(aws.Config{Region: "ap-northeast-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
			func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
	}
}

func TestSecrets(t *testing.T) {
	stored := map[string]parameter{
		"/tsunagu/TSUNAGU_WEBHOOK_SECRET":  {"SecureString", strong},
		"/tsunagu/SHOPIFY_WEBHOOK_SECRET":  {"SecureString", strong + "\n" + strongOld},
		"/tsunagu/DEV":                     {"SecureString", DevSecret},
		"/tsunagu/SHORT":                   {"SecureString", shortSecret},
		"/tsunagu/ROTATING_TO_SHORT":       {"SecureString", strong + " " + shortSecret},
		"/tsunagu/PLAIN_STRING":            {"String", strong},
		"/aws/reference/secretsmanager/sm": {"SecureString", strongOld},
	}
	inAWS := map[string]string{}
	param := func(vars map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range vars {
			out[k+ParameterSuffix] = v
		}
		return out
	}
	local := map[string]string{StageVariable: StageLocal}
	with := func(maps ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range maps {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name     string
		vars     map[string]string
		secrets  []Secret
		fail     bool
		want     SecretValues
		wantErr  string // configuration problems, "" for none
		callErr  bool   // the SSM call itself fails
		wantCall [][]string
	}{
		{name: "AWS: every secret from SSM in one call",
			vars:     with(inAWS, param(map[string]string{"TSUNAGU_WEBHOOK_SECRET": "/tsunagu/TSUNAGU_WEBHOOK_SECRET", "SHOPIFY_WEBHOOK_SECRET": "/tsunagu/SHOPIFY_WEBHOOK_SECRET", "FROM_SECRETS_MANAGER": "/aws/reference/secretsmanager/sm"})),
			secrets:  []Secret{{Name: "TSUNAGU_WEBHOOK_SECRET"}, {Name: "SHOPIFY_WEBHOOK_SECRET"}, {Name: "FROM_SECRETS_MANAGER"}},
			want:     SecretValues{"TSUNAGU_WEBHOOK_SECRET": strong, "SHOPIFY_WEBHOOK_SECRET": strong + "\n" + strongOld, "FROM_SECRETS_MANAGER": strongOld},
			wantCall: [][]string{{"/aws/reference/secretsmanager/sm", "/tsunagu/SHOPIFY_WEBHOOK_SECRET", "/tsunagu/TSUNAGU_WEBHOOK_SECRET"}}},
		{name: "AWS: a plain variable is refused",
			vars:    with(inAWS, map[string]string{"TSUNAGU_WEBHOOK_SECRET": strong}),
			secrets: []Secret{{Name: "TSUNAGU_WEBHOOK_SECRET"}},
			want:    SecretValues{},
			wantErr: "configuration: TSUNAGU_WEBHOOK_SECRET: outside the local stack secrets come from SSM Parameter Store; set TSUNAGU_WEBHOOK_SECRET_PARAMETER to the name of the SecureString parameter holding it and unset TSUNAGU_WEBHOOK_SECRET"},
		{name: "AWS: the local default, short keys and a String parameter refused, each named",
			vars:    with(inAWS, param(map[string]string{"A": "/tsunagu/DEV", "B": "/tsunagu/SHORT", "C": "/tsunagu/ROTATING_TO_SHORT", "D": "/tsunagu/PLAIN_STRING"})),
			secrets: []Secret{{Name: "A"}, {Name: "B"}, {Name: "C"}, {Name: "D"}},
			want:    SecretValues{"A": DevSecret, "B": shortSecret, "C": strong + " " + shortSecret},
			wantErr: "configuration: D_PARAMETER: parameter /tsunagu/PLAIN_STRING is a String; store secrets as SecureString; " +
				"A: its key is the local stack's dev-secret; set a real secret (at least 32 random bytes, such as `openssl rand -hex 32`); " +
				"B: its key has 18 bytes; at least 32 outside the local stack (such as `openssl rand -hex 32`); " +
				"C: its key 2 of 2 has 18 bytes; at least 32 outside the local stack (such as `openssl rand -hex 32`)",
			wantCall: [][]string{{"/tsunagu/DEV", "/tsunagu/PLAIN_STRING", "/tsunagu/ROTATING_TO_SHORT", "/tsunagu/SHORT"}}},
		{name: "AWS: a vendor's short key is taken, its local default is not",
			vars:     with(inAWS, param(map[string]string{"A": "/tsunagu/SHORT", "B": "/tsunagu/DEV"})),
			secrets:  []Secret{{Name: "A", Vendor: true}, {Name: "B", Vendor: true, Optional: true}},
			want:     SecretValues{"A": shortSecret, "B": DevSecret},
			wantErr:  "configuration: B: its key is the local stack's dev-secret; set a real secret (at least 32 random bytes, such as `openssl rand -hex 32`)",
			wantCall: [][]string{{"/tsunagu/DEV", "/tsunagu/SHORT"}}},
		{name: "AWS: missing parameters and variables",
			vars:     with(inAWS, param(map[string]string{"GONE": "/tsunagu/GONE", "OPTIONAL_GONE": "/tsunagu/OPTIONAL_GONE"})),
			secrets:  []Secret{{Name: "GONE"}, {Name: "OPTIONAL_GONE", Optional: true}, {Name: "UNSET"}, {Name: "OPTIONAL_UNSET", Optional: true}},
			want:     SecretValues{},
			wantErr:  "configuration: UNSET_PARAMETER is required (the SSM parameter holding UNSET); GONE_PARAMETER: no parameter /tsunagu/GONE",
			wantCall: [][]string{{"/tsunagu/GONE", "/tsunagu/OPTIONAL_GONE"}}},
		{name: "AWS: SSM refuses",
			vars:    with(inAWS, param(map[string]string{"A": "/tsunagu/TSUNAGU_WEBHOOK_SECRET"})),
			secrets: []Secret{{Name: "A"}}, fail: true, callErr: true,
			wantCall: [][]string{{"/tsunagu/TSUNAGU_WEBHOOK_SECRET"}}},
		{name: "local: plain variables and the local default work, no call to SSM",
			vars:    with(local, map[string]string{"TSUNAGU_WEBHOOK_SECRET": DevSecret, "LINE_CHANNEL_SECRET": "short"}),
			secrets: []Secret{{Name: "TSUNAGU_WEBHOOK_SECRET"}, {Name: "LINE_CHANNEL_SECRET"}, {Name: "LINE_CHANNEL_ACCESS_TOKEN", Optional: true}},
			want:    SecretValues{"TSUNAGU_WEBHOOK_SECRET": DevSecret, "LINE_CHANNEL_SECRET": "short"}},
		{name: "local: a missing secret",
			vars:    local,
			secrets: []Secret{{Name: "UNSUBSCRIBE_SECRET"}},
			want:    SecretValues{},
			wantErr: "configuration: UNSUBSCRIBE_SECRET is required"},
		{name: "local: a parameter is read too, without the AWS checks",
			vars:     with(local, param(map[string]string{"A": "/tsunagu/PLAIN_STRING", "B": "/tsunagu/DEV"})),
			secrets:  []Secret{{Name: "A"}, {Name: "B"}},
			want:     SecretValues{"A": strong, "B": DevSecret},
			wantCall: [][]string{{"/tsunagu/DEV", "/tsunagu/PLAIN_STRING"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := &parameterStore{t: t, params: stored, fail: tt.fail}
			srv := httptest.NewServer(ps)
			defer srv.Close()
			e := New(func(k string) (string, bool) { v, ok := tt.vars[k]; return v, ok })
			got, err := e.Secrets(context.Background(), ps.client(srv.URL), tt.secrets...)
			if (err != nil) != tt.callErr {
				t.Fatalf("Secrets error = %v, want one: %v", err, tt.callErr)
			}
			if tt.callErr {
				if !strings.Contains(err.Error(), "read secrets from SSM Parameter Store") || !strings.Contains(err.Error(), "AccessDenied") {
					t.Errorf("error %q does not say what failed", err)
				}
				return
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("values = %q, want %q", got, tt.want)
			}
			problems := ""
			if err := e.Err(); err != nil {
				problems = err.Error()
			}
			if problems != tt.wantErr {
				t.Errorf("problems:\n%s\nwant:\n%s", problems, tt.wantErr)
			}
			for _, v := range []string{strong, strongOld, shortSecret} {
				if strings.Contains(problems, v) {
					t.Errorf("a problem shows a secret's value: %s", problems)
				}
			}
			if len(ps.calls) != len(tt.wantCall) || len(tt.wantCall) > 0 && !slices.Equal(ps.calls[0], tt.wantCall[0]) {
				t.Errorf("SSM calls %q, want %q", ps.calls, tt.wantCall)
			}
		})
	}
}

// TestSecretsBatches: more than ten parameters are asked for ten at a
// time, the most one GetParameters call takes.
func TestSecretsBatches(t *testing.T) {
	stored := map[string]parameter{}
	vars := map[string]string{}
	var secrets []Secret
	for i := range 12 {
		name := "SECRET_" + string(rune('A'+i))
		stored["/tsunagu/"+name] = parameter{"SecureString", strong}
		vars[name+ParameterSuffix] = "/tsunagu/" + name
		secrets = append(secrets, Secret{Name: name})
	}
	ps := &parameterStore{t: t, params: stored}
	srv := httptest.NewServer(ps)
	defer srv.Close()
	e := New(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	got, err := e.Secrets(context.Background(), ps.client(srv.URL), secrets...)
	if err != nil || e.Err() != nil || len(got) != 12 {
		t.Fatalf("Secrets = %d values, %v, %v", len(got), err, e.Err())
	}
	if len(ps.calls) != 2 || len(ps.calls[0]) != 10 || len(ps.calls[1]) != 2 {
		t.Errorf("calls %q, want 10 names then 2", ps.calls)
	}
}

func TestSecretValuesKeys(t *testing.T) {
	v := SecretValues{"ROTATING": " new-key\n old-key  ", "ONE": "only"}
	tests := []struct {
		name string
		want []string
	}{
		{"ROTATING", []string{"new-key", "old-key"}},
		{"ONE", []string{"only"}},
		{"ABSENT", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := v.Keys(tt.name); !slices.Equal(got, tt.want) {
				t.Errorf("Keys(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
