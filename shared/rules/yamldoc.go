package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

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
		return nil, p
	}
	if len(doc.Content) == 0 {
		return nil, &Problem{File: file, Line: 1, Col: 1, Message: "file is empty"}
	}
	return &document{file: file, root: doc.Content[0], lines: strings.Split(string(src), "\n")}, nil
}

// problemAt returns a Problem positioned at a node.
func (d *document) problemAt(n *yaml.Node, format string, args ...any) Problem {
	if n == nil {
		n = d.root
	}
	return Problem{File: d.file, Line: n.Line, Col: n.Column, Message: fmt.Sprintf(format, args...)}
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
func toJSONValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toJSONValue(n.Content[0])
	case yaml.AliasNode:
		return toJSONValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("key %q appears twice", k)
			}
			v, err := toJSONValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := toJSONValue(c)
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
