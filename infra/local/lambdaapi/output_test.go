package lambdaapi

import (
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"hello\n"}, "F | hello\n"},
		{"lines in one write", []string{"a\nb\n"}, "F | a\nF | b\n"},
		{"line across writes", []string{"he", "llo\nwor", "ld\n"}, "F | hello\nF | world\n"},
		{"last line without newline", []string{"a\nb"}, "F | a\nF | b\n"},
		{"overlong line is cut", []string{strings.Repeat("x", maxLine), "y\n"}, "F | " + strings.Repeat("x", maxLine) + "\nF | y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			w := newLineWriter(&out, "F | ")
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			w.flush()
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}
