package rules

import (
	"fmt"
	"slices"

	"github.com/agnivade/levenshtein"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/tsunagu-dev/tsunagu/shared/validation"
)

// describeSchemaError turns one failing schema leaf into Problems at the
// nodes they are about: an unknown field at its key, a missing one at the
// mapping that lacks it, anything else at the offending value.
func describeSchemaError(d *document, e *jsonschema.ValidationError) []Problem {
	loc := e.InstanceLocation
	field := fieldLabel(loc)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		var out []Problem
		for _, name := range k.Properties {
			p := append(slices.Clone(loc), name)
			out = append(out, d.problemAt(d.lookup(p, true), "unknown field %q%s", fieldLabel(p), suggest(name, knownProperties(e))))
		}
		return out
	case *kind.Required:
		var out []Problem
		for _, name := range k.Missing {
			out = append(out, d.problemAt(d.lookup(loc, false), "missing required field %q", fieldLabel(append(slices.Clone(loc), name))))
		}
		return out
	}
	return []Problem{d.problemAt(d.lookup(loc, false), "%s %s", field, validation.Message(e.ErrorKind))}
}

func fieldLabel(loc []string) string {
	if len(loc) == 0 {
		return "the file"
	}
	return validation.Field(loc)
}

// knownProperties returns the property names the schema at the failing
// location allows, for "did you mean" hints.
func knownProperties(e *jsonschema.ValidationError) []string {
	sch := schemaAt(e.SchemaURL)
	if sch == nil {
		return nil
	}
	names := make([]string, 0, len(sch.Properties))
	for n := range sch.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// suggest returns `; did you mean "x"?` for the closest known name within
// two edits, or "".
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := levenshtein.ComputeDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}
