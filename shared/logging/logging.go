// Package logging sets up the functions' structured logs: JSON through
// aws-lambda-go's Lambda logger (which adds the request id), with a last
// line of defence that masks email addresses and LINE user ids, should one
// ever reach a log line inside an error message.
package logging

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLambdaLogger returns the logger functions install with slog.SetDefault.
func NewLambdaLogger() *slog.Logger {
	return slog.New(Redact(lambdacontext.NewLogHandler()))
}

var lineUserID = regexp.MustCompile(`\bU[0-9a-f]{32}\b`)

// Mask replaces email addresses (every form tsunagu can receive, also
// inside JSON strings and quoted values) with "[email]" and LINE user ids
// with "[line-user]".
func Mask(s string) string {
	return lineUserID.ReplaceAllString(maskAddresses(s), "[line-user]")
}

// Redact wraps a handler so that messages and string values (errors
// included) are masked before they are written.
func Redact(h slog.Handler) slog.Handler { return redactor{h} }

type redactor struct{ next slog.Handler }

func (r redactor) Enabled(ctx context.Context, l slog.Level) bool { return r.next.Enabled(ctx, l) }

func (r redactor) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, Mask(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return r.next.Handle(ctx, out)
}

func (r redactor) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return redactor{r.next.WithAttrs(masked)}
}

func (r redactor) WithGroup(name string) slog.Handler { return redactor{r.next.WithGroup(name)} }

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Mask(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		masked := make([]any, len(attrs))
		for i, g := range attrs {
			masked[i] = maskAttr(g)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Mask(x.Error()))
		case json.RawMessage:
			return slog.String(a.Key, Mask(string(x)))
		case []byte:
			return slog.String(a.Key, Mask(string(x)))
		}
		return slog.String(a.Key, Mask(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
