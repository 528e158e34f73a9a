package lambdaapi

import (
	"bytes"
	"io"
)

// maxLine is where an overlong line is cut.
const maxLine = 256 << 10

// lineWriter copies a process's output to out line by line, each line
// prefixed and written in one call so that lines from concurrent processes
// never interleave.
type lineWriter struct {
	out     io.Writer
	prefix  []byte
	partial []byte
}

func newLineWriter(out io.Writer, prefix string) *lineWriter {
	return &lineWriter{out: out, prefix: []byte(prefix)}
}

// Write is called by one goroutine at a time (os/exec copies stdout and
// stderr through one pipe when both are this writer).
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 && len(w.partial)+len(p) < maxLine {
			w.partial = append(w.partial, p...)
			return n, nil
		}
		if i < 0 { // an endless line: cut it
			p = append(p[:len(p):len(p)], '\n')
			i = len(p) - 1
		}
		line := append(append(append([]byte{}, w.prefix...), w.partial...), p[:i+1]...)
		w.partial = w.partial[:0]
		p = p[i+1:]
		if _, err := w.out.Write(line); err != nil {
			return n, err
		}
	}
}

// flush writes a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		_, _ = w.Write([]byte{'\n'})
	}
}
