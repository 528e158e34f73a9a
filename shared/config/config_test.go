package config

import "testing"

func TestEnv(t *testing.T) {
	vars := map[string]string{"TABLE_NAME": "tsunagu", "TSUNAGU_PUBLIC_URL": "https://hooks.example.jp/", "BAD_URL": "hooks.example.jp"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct {
		name    string
		read    func(e *Env) string
		want    string
		wantErr string
	}{
		{name: "required present", read: func(e *Env) string { return e.Required("TABLE_NAME") }, want: "tsunagu"},
		{name: "required missing", read: func(e *Env) string { return e.Required("MAIL_FROM") }, wantErr: "configuration: MAIL_FROM is required"},
		{name: "optional default", read: func(e *Env) string { return e.Optional("SES_CONFIGURATION_SET", "none") }, want: "none"},
		{name: "url trimmed", read: func(e *Env) string { return e.BaseURL("TSUNAGU_PUBLIC_URL") }, want: "https://hooks.example.jp"},
		{name: "url without scheme", read: func(e *Env) string { return e.BaseURL("BAD_URL") }, want: "hooks.example.jp", wantErr: "configuration: BAD_URL must be an absolute http(s) URL such as https://hooks.example.jp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(lookup)
			got := tt.read(e)
			errText := ""
			if err := e.Err(); err != nil {
				errText = err.Error()
			}
			if got != tt.want || errText != tt.wantErr {
				t.Errorf("got %q, error %q; want %q, %q", got, errText, tt.want, tt.wantErr)
			}
		})
	}
	e := New(lookup)
	e.Required("A")
	e.Required("B")
	if got := e.Err().Error(); got != "configuration: A is required; B is required" {
		t.Errorf("every problem at once: %q", got)
	}
}

func TestLocal(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		local bool
	}{
		{"unset means AWS", map[string]string{}, false},
		{"local stack", map[string]string{StageVariable: StageLocal}, true},
		{"anything else means AWS", map[string]string{StageVariable: "prod"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(func(k string) (string, bool) { v, ok := tt.vars[k]; return v, ok })
			if got := e.Local(); got != tt.local {
				t.Errorf("Local() = %v, want %v", got, tt.local)
			}
		})
	}
}
