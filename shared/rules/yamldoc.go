package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/tsunagu-dev/tsunagu/shared/validation"
)

// document is one parsed rule file: its YAML node tree, kept for positions,
// and the path it is reported under.
type document struct {
	file  string
	root  *yaml.Node
	lines []string
}

// indent returns the number of leading spaces of a 1-based source line.
func (d *document) indent(line int) int {
	if line < 1 || line > len(d.lines) {
		return 0
	}
	l := d.lines[line-1]
	return len(l) - len(strings.TrimLeft(l, " "))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// lineBreak is what YAML counts lines by.
var lineBreak = regexp.MustCompile(`\r\n|\r|\n`)

// parseYAML parses one rule file. A syntax error becomes a Problem at its line.
func parseYAML(file string, src []byte) (*document, *Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		p := &Problem{File: file, Line: 1, Col: 1, Message: "YAML syntax: " + err.Error()}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = "YAML syntax: " + m[2]
			// yaml.v3 counts parser (as opposed to scanner) error lines
			// from zero; its parser errors are the "did not find
			// expected ..." family.
			if strings.HasPrefix(m[2], "did not find expected") {
				p.Line++
			}
		}
		// An error found at the end of the file is reported on its last
		// line, after the last character.
		if lines := lineBreak.Split(string(src), -1); p.Line > len(lines) {
			p.Line, p.Col = len(lines), utf8.RuneCountInString(lines[len(lines)-1])+1
		}
		return nil, p
	}
	if len(doc.Content) == 0 {
		return nil, &Problem{File: file, Line: 1, Col: 1, Message: "file is empty"}
	}
	return &document{file: file, root: doc.Content[0], lines: lineBreak.Split(string(src), -1)}, nil
}

// scalarPosition finds where the rune at offset of a scalar's value is
// written in the file. The value is walked against the source, because
// YAML folds a plain or quoted scalar's line breaks (with the indentation
// around them) into one space and drops a block scalar's indentation. An
// escape sequence in a double-quoted scalar may shift the column by its
// length; the position always stays inside the file.
func (d *document) scalarPosition(n *yaml.Node, offset int) (line, col int) {
	block := n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle
	li, ci := n.Line-1, n.Column-1
	switch {
	case block: // the content starts on the next line, at its indentation
		li, ci = n.Line, d.indent(n.Line+1)
	case n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle:
		ci++ // the opening quote
	}
	src := func(li int) []rune {
		if li < 0 || li >= len(d.lines) {
			return nil
		}
		return []rune(d.lines[li])
	}
	blank := func(r rune) bool { return r == ' ' || r == '\t' }
	cur := src(li)
	for i, r := range []rune(n.Value) {
		if i >= offset {
			break
		}
		switch {
		case ci < len(cur) && cur[ci] == r:
			ci++
		case r == ' ' || r == '\n':
			// A fold or a line break: the rest of this source line is
			// blanks; the value goes on at the next line's content.
			for ci < len(cur) && blank(cur[ci]) {
				ci++
			}
			if ci < len(cur) || li+1 >= len(d.lines) {
				continue
			}
			li, cur = li+1, src(li+1)
			if block {
				ci = min(d.indent(n.Line+1), len(cur))
				continue
			}
			for ci = 0; ci < len(cur) && blank(cur[ci]); ci++ {
			}
			for ci >= len(cur) && li+1 < len(d.lines) { // empty lines fold too
				li, cur = li+1, src(li+1)
				for ci = 0; ci < len(cur) && blank(cur[ci]); ci++ {
				}
			}
		default:
			ci++ // an escape sequence, or anything unexpected
		}
	}
	li = min(max(li, 0), len(d.lines)-1)
	return li + 1, min(ci, len(src(li))) + 1
}

// problemAt returns a Problem positioned at a node.
func (d *document) problemAt(n *yaml.Node, format string, args ...any) Problem {
	if n == nil {
		n = d.root
	}
	line, col := d.within(n.Line, n.Column)
	return Problem{File: d.file, Line: line, Col: col, Message: fmt.Sprintf(format, args...)}
}

// within keeps a position inside the file: YAML puts an empty value (a
// file that is only "---") on the line after the last.
func (d *document) within(line, col int) (int, int) {
	line = min(max(line, 1), len(d.lines))
	return line, min(max(col, 1), utf8.RuneCountInString(d.lines[line-1])+1)
}

// lookup follows a JSON-pointer-like path (keys and list indexes) through
// the node tree. For a missing key it returns the deepest node it reached.
// keyNode asks for the key of the last mapping entry rather than its value,
// which is where an unknown field should be reported.
func (d *document) lookup(path []string, keyNode bool) *yaml.Node {
	n := d.root
	for i, p := range path {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == p {
					if keyNode && i == len(path)-1 {
						return n.Content[j]
					}
					n, found = n.Content[j+1], true
					break
				}
			}
			if !found {
				return n
			}
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(p)
			if err != nil || idx >= len(n.Content) {
				return n
			}
			n = n.Content[idx]
		default:
			return n
		}
	}
	return n
}

// toJSONValue converts the YAML tree into the plain values JSON Schema
// validation expects (objects, arrays, strings, json.Number, bools, nil).
// Scalars keep their written text unless YAML types them as numbers,
// booleans or null, so an unquoted date (2026-12-01) stays a string.
//
// Aliases are expanded at most maxAliasExpansions times, and an alias
// inside what it refers to is an error: a small file cannot expand into a
// huge or an endless document.
func toJSONValue(n *yaml.Node) (any, error) {
	return (&jsonConverter{expanding: map[*yaml.Node]bool{}}).convert(n)
}

// maxAliasExpansions bounds alias expansion in one rule file.
const maxAliasExpansions = 1000

// jsonConverter converts one document, counting alias expansions.
type jsonConverter struct {
	aliases   int
	expanding map[*yaml.Node]bool
}

func (c *jsonConverter) convert(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0])
	case yaml.AliasNode:
		c.aliases++
		switch {
		case c.expanding[n.Alias]:
			return nil, fmt.Errorf("alias *%s is inside the anchor it refers to", n.Value)
		case c.aliases > maxAliasExpansions:
			return nil, fmt.Errorf("more than %d aliases expanded", maxAliasExpansions)
		}
		c.expanding[n.Alias] = true
		defer delete(c.expanding, n.Alias)
		return c.convert(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("key %q appears twice", k)
			}
			v, err := c.convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, item := range n.Content {
			v, err := c.convert(item)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int", "!!float":
		var f any
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		return json.Number(fmt.Sprint(f)), nil
	}
	return n.Value, nil
}

// schemaProblems validates a document against a schema and returns one
// Problem per failing leaf, each at the node it is about.
func (d *document) schemaProblems(s *jsonschema.Schema) []Problem {
	v, err := toJSONValue(d.root)
	if err != nil {
		return []Problem{d.problemAt(d.root, "%v", err)}
	}
	err = s.Validate(v)
	var verr *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &verr) {
		return []Problem{d.problemAt(d.root, "%v", err)}
	}
	var out []Problem
	seen := map[string]bool{}
	for _, e := range validation.Leaves(verr) {
		for _, p := range describeSchemaError(d, e) {
			if k := p.String(); !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out
}
