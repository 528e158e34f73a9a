package sam

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Statement is one statement of a function's inline policies with its
// intrinsic functions resolved: what IAM would evaluate once deployed.
type Statement struct {
	Effect string
	// Actions are as written ("sqs:SendMessage", "ses:Send*").
	Actions []string
	// NotAction and NotResource are set when the statement uses them.
	NotAction, NotResource bool
	Resources              []string
	// Conditions maps each operator ("StringEquals") to its keys and
	// their values.
	Conditions map[string]map[string][]string
}

// Statements returns every statement of a function's inline policies, with
// !Ref, !Sub and !GetAtt (short or long form) resolved from values: the
// stack's parameters and pseudo parameters ("AWS::Region") by name, the
// resources' Ref values by logical id, and their attributes as
// "LogicalId.Attribute". A value it needs and values lacks is an error, so
// a statement is never read as something else than what it says.
func (t *Template) Statements(function string, values map[string]string) ([]Statement, error) {
	res := t.resources[function]
	if res == nil {
		return nil, fmt.Errorf("statements: no resource %s in the template", function)
	}
	var out []Statement
	for _, policy := range seq(child(child(res, "Properties"), "Policies")) {
		if policy.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("statements of %s: managed or SAM policy template %q is not understood here", function, expression(policy))
		}
		for _, st := range seq(child(policy, "Statement")) {
			s := Statement{Effect: scalar(child(st, "Effect")), NotAction: child(st, "NotAction") != nil, NotResource: child(st, "NotResource") != nil}
			var err error
			if s.Actions, err = resolveAll(child(st, "Action"), values); err != nil {
				return nil, fmt.Errorf("statements of %s: %w", function, err)
			}
			if s.Resources, err = resolveAll(child(st, "Resource"), values); err != nil {
				return nil, fmt.Errorf("statements of %s: %w", function, err)
			}
			if cond := child(st, "Condition"); cond != nil {
				s.Conditions = map[string]map[string][]string{}
				for i := 0; i+1 < len(cond.Content); i += 2 {
					op, keys := cond.Content[i].Value, cond.Content[i+1]
					s.Conditions[op] = map[string][]string{}
					for j := 0; j+1 < len(keys.Content); j += 2 {
						vals, err := resolveAll(keys.Content[j+1], values)
						if err != nil {
							return nil, fmt.Errorf("statements of %s: condition %s: %w", function, op, err)
						}
						s.Conditions[op][keys.Content[j].Value] = vals
					}
				}
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// ResourceTypes maps every resource's logical id to its type.
func (t *Template) ResourceTypes() map[string]string {
	out := make(map[string]string, len(t.resources))
	for id, res := range t.resources {
		out[id] = scalar(child(res, "Type"))
	}
	return out
}

func resolveAll(n *yaml.Node, values map[string]string) ([]string, error) {
	var out []string
	for _, item := range seq(n) {
		v, err := resolve(item, values)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// subVariable is one ${Name} or ${Logical.Attribute} of a !Sub string;
// ${!Literal} stands for "${Literal}".
var subVariable = regexp.MustCompile(`\$\{(!?)([^}]*)\}`)

// resolve evaluates a scalar or an intrinsic function to a string.
func resolve(n *yaml.Node, values map[string]string) (string, error) {
	lookup := func(name string) (string, error) {
		v, ok := values[name]
		if !ok {
			return "", fmt.Errorf("no value for %s", name)
		}
		return v, nil
	}
	sub := func(s string) (string, error) {
		var err error
		out := subVariable.ReplaceAllStringFunc(s, func(m string) string {
			parts := subVariable.FindStringSubmatch(m)
			if parts[1] == "!" {
				return "${" + parts[2] + "}"
			}
			v, e := lookup(parts[2])
			if err == nil {
				err = e
			}
			return v
		})
		return out, err
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!Ref":
		return lookup(n.Value)
	case n.Kind == yaml.ScalarNode && n.Tag == "!GetAtt":
		return lookup(n.Value)
	case n.Kind == yaml.ScalarNode && n.Tag == "!Sub":
		return sub(n.Value)
	case n.Kind == yaml.ScalarNode && !isIntrinsic(n):
		return n.Value, nil
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		key, arg := n.Content[0].Value, n.Content[1]
		switch {
		case key == "Ref" && arg.Kind == yaml.ScalarNode:
			return lookup(arg.Value)
		case key == "Fn::GetAtt" && arg.Kind == yaml.ScalarNode:
			return lookup(arg.Value)
		case key == "Fn::GetAtt" && arg.Kind == yaml.SequenceNode && len(arg.Content) == 2:
			return lookup(arg.Content[0].Value + "." + arg.Content[1].Value)
		case key == "Fn::Sub" && arg.Kind == yaml.ScalarNode:
			return sub(arg.Value)
		}
	}
	return "", fmt.Errorf("%s is not understood here", strings.TrimSpace(expression(n)))
}
