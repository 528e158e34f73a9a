package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

func TestFunctionEnv(t *testing.T) {
	tests := []struct {
		name    string
		setenv  map[string]string
		vars    []sam.EnvVar
		want    []string // must be present
		wantErr string
	}{
		{
			name: "literal as written",
			vars: []sam.EnvVar{{Name: "LOG_LEVEL", Value: "debug", Literal: true}},
			want: []string{"LOG_LEVEL=debug"},
		},
		{
			name: "rules from the build",
			vars: []sam.EnvVar{{Name: "TSUNAGU_RULES_DIR", Value: "/var/task/rules", Literal: true}},
			want: []string{"TSUNAGU_RULES_DIR=/build/PurchaseFunction/rules"},
		},
		{
			name: "references get local values",
			vars: []sam.EnvVar{
				{Name: "TABLE_NAME", Value: "!Ref Table"},
				{Name: "TSUNAGU_PUBLIC_URL", Value: "!Ref PublicBaseUrl"},
				{Name: "TSUNAGU_WEBHOOK_SECRET", Value: "!Ref TsunaguWebhookSecret"},
				{Name: "MAIL_FROM", Value: "!Ref SenderEmail"},
				{Name: "SES_CONFIGURATION_SET", Value: "!Ref EmailConfigurationSet"},
			},
			want: []string{"TABLE_NAME=tsunagu", "TSUNAGU_PUBLIC_URL=http://127.0.0.1:3999", "TSUNAGU_WEBHOOK_SECRET=dev-secret",
				"MAIL_FROM=shop@tsubaki-chaen.example.jp", "SES_CONFIGURATION_SET="},
		},
		{
			name:   "environment overrides",
			setenv: map[string]string{"TABLE_NAME": "other", "SHOPIFY_WEBHOOK_SECRET": "shpss_local", "MAIL_FROM": "me@example.jp"},
			vars: []sam.EnvVar{
				{Name: "TABLE_NAME", Value: "!Ref Table"},
				{Name: "SHOPIFY_WEBHOOK_SECRET", Value: "!Ref ShopifyWebhookSecret"},
				{Name: "MAIL_FROM", Value: "!Ref SenderEmail"},
			},
			want: []string{"TABLE_NAME=other", "SHOPIFY_WEBHOOK_SECRET=shpss_local", "MAIL_FROM=me@example.jp"},
		},
		{
			name: "secrets' SSM parameters become their local values",
			vars: []sam.EnvVar{
				{Name: "TSUNAGU_WEBHOOK_SECRET_PARAMETER", Value: "!Sub ${SecretsPath}/TSUNAGU_WEBHOOK_SECRET"},
				{Name: "PSEUDONYM_SECRET_PARAMETER", Value: "!Sub ${SecretsPath}/PSEUDONYM_SECRET"},
				{Name: "LINE_CHANNEL_ACCESS_TOKEN_PARAMETER", Value: "!Sub ${SecretsPath}/LINE_CHANNEL_ACCESS_TOKEN"},
			},
			want: []string{"TSUNAGU_WEBHOOK_SECRET=dev-secret", "PSEUDONYM_SECRET=dev-secret", "LINE_CHANNEL_ACCESS_TOKEN="},
		},
		{
			name:    "a parameter of a secret without a local value",
			vars:    []sam.EnvVar{{Name: "PAYMENT_SECRET_PARAMETER", Value: "!Sub ${SecretsPath}/PAYMENT_SECRET"}},
			wantErr: "PAYMENT_SECRET_PARAMETER to !Sub ${SecretsPath}/PAYMENT_SECRET, but PAYMENT_SECRET has no local value",
		},
		{
			name: "endpoints and dummy credentials",
			want: []string{"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4567", "AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:8005",
				"AWS_REGION=ap-northeast-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"},
		},
		{
			name:    "reference without a local value",
			vars:    []sam.EnvVar{{Name: "PAYMENT_WEBHOOK_SECRET", Value: "!Ref PaymentSecret"}},
			wantErr: "PAYMENT_WEBHOOK_SECRET to !Ref PaymentSecret, which has no local value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range append([]string{"TABLE_NAME", "MAIL_FROM", "LINE_CHANNEL_ACCESS_TOKEN"}, secretNames...) {
				t.Setenv(name, tt.setenv[name])
			}
			fn := sam.Function{LogicalID: "PurchaseFunction", Env: tt.vars}
			env, err := functionEnv(fn, "/build/PurchaseFunction", newLocalValues(3999))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !slices.Contains(env, w) {
					t.Errorf("%s missing from %q", w, env)
				}
			}
		})
	}
}

func TestLocalSecrets(t *testing.T) {
	tests := []struct {
		name       string
		set        string
		wantValue  string
		wantSource string
	}{
		{"default", "", "dev-secret", "default"},
		{"from environment", "s3cret-from-env", "s3cret-from-env", "environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LINE_CHANNEL_SECRET", tt.set)
			l := newLocalValues(3000)
			if got := l.vars["LINE_CHANNEL_SECRET"]; got != tt.wantValue {
				t.Errorf("value = %q, want %q", got, tt.wantValue)
			}
			if got := l.secrets["LINE_CHANNEL_SECRET"]; got != tt.wantSource {
				t.Errorf("source = %q, want %q", got, tt.wantSource)
			}
		})
	}
}

// TestTemplateFunctionsRunLocally: every function of template.yaml gets a
// local environment, with its secrets as plain dev-secret values where
// AWS reads SSM parameters, and no parameter name left to look up.
func TestTemplateFunctionsRunLocally(t *testing.T) {
	for _, name := range append([]string{"TABLE_NAME", "MAIL_FROM", "LINE_CHANNEL_ACCESS_TOKEN"}, secretNames...) {
		t.Setenv(name, "")
	}
	tmpl, err := sam.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		t.Run(fn.LogicalID, func(t *testing.T) {
			env, err := functionEnv(fn, "/build/"+fn.LogicalID, newLocalValues(3000))
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range env {
				if name, _, _ := strings.Cut(kv, "="); strings.HasSuffix(name, "_PARAMETER") {
					t.Errorf("%s reaches the local function", kv)
				}
			}
			if fn.LogicalID == "PurchaseFunction" {
				for _, want := range []string{"TSUNAGU_WEBHOOK_SECRET=dev-secret", "PSEUDONYM_SECRET=dev-secret", "UNSUBSCRIBE_SECRET=dev-secret"} {
					if !slices.Contains(env, want) {
						t.Errorf("%s missing from %q", want, env)
					}
				}
			}
		})
	}
}
