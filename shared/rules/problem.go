package rules

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one mistake in a rule file, at a position a marketer's editor
// can jump to.
type Problem struct {
	File    string
	Line    int
	Col     int
	Message string
}

// String formats the problem as file:line:col: message.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

// Problems is every mistake found in a rule set; it is the error Load
// returns, so one run reports them all.
type Problems []Problem

// Error lists the problems one per line, in file and position order.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Message < b.Message
	})
	return ps
}
