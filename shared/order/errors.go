package order

import (
	"fmt"
	"strings"
)

// FieldError names one bad field of a request and why it is bad.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InvalidError lists every bad field of a request at once. Handlers answer
// it with 400 and the list as the body.
type InvalidError struct {
	Fields []FieldError
}

// Error joins the field errors into one line.
func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Add records one bad field.
func (e *InvalidError) Add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// OrNil returns e when it holds any field error and nil otherwise, so callers
// can collect problems and return the result unconditionally.
func (e *InvalidError) OrNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}
