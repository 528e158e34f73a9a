// Package config reads a function's settings from its environment. Every
// problem names the variable, and all of them are reported at once, so a
// misconfigured deploy fails at cold start with one clear message.
package config

import (
	"errors"
	"net/url"
	"strings"
)

// Env reads variables through lookup (os.LookupEnv in functions) and
// collects problems.
type Env struct {
	lookup   func(string) (string, bool)
	problems []string
}

// New returns an Env reading through lookup.
func New(lookup func(string) (string, bool)) *Env {
	return &Env{lookup: lookup}
}

// Required returns a variable that must be set and non-empty.
func (e *Env) Required(name string) string {
	v, _ := e.lookup(name)
	if strings.TrimSpace(v) == "" {
		e.problems = append(e.problems, name+" is required")
	}
	return v
}

// Optional returns a variable, or def when it is unset or empty.
func (e *Env) Optional(name, def string) string {
	if v, _ := e.lookup(name); v != "" {
		return v
	}
	return def
}

// BaseURL returns a required absolute http(s) URL without a trailing slash.
func (e *Env) BaseURL(name string) string {
	v := e.Required(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		e.problems = append(e.problems, name+" must be an absolute http(s) URL such as https://hooks.example.jp")
	}
	return strings.TrimRight(v, "/")
}

// StageVariable names the variable that tells a function where it runs;
// the local stack sets it to StageLocal. Unset means AWS, so a deployed
// function is held to the stricter rules (real secrets, a configured shop)
// unless it is explicitly told otherwise.
const StageVariable = "TSUNAGU_STAGE"

// StageLocal is StageVariable's value on the local stack (make run).
const StageLocal = "local"

// Local reports whether the function runs on the local stack.
func (e *Env) Local() bool {
	v, _ := e.lookup(StageVariable)
	return v == StageLocal
}

// Err returns every problem found so far as one error, or nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return errors.New("configuration: " + strings.Join(e.problems, "; "))
}
