package sam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"

	"github.com/tsunagu-dev/tsunagu/shared/validation"
)

// TestTemplateMatchesSAMSchema validates template.yaml against AWS's own
// SAM JSON schema (testdata/sam.schema.json, see PROVENANCE), so a
// misspelled property or a wrong type fails make test instead of sam
// deploy. Every problem is reported as template.yaml:line:col.
func TestTemplateMatchesSAMSchema(t *testing.T) {
	s := loadSAMSchema(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range s.check(t, "template.yaml", raw) {
		t.Error(problem)
	}
}

// TestSAMSchemaCatchesMistakes: template.yaml with one mistake each fails
// the check, at the mistake's line.
func TestSAMSchemaCatchesMistakes(t *testing.T) {
	s := loadSAMSchema(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		old, new  string // the edit (the first occurrence of old)
		wantField string // what the report names
	}{
		{name: "a misspelled function property", old: "      Timeout: 60\n", new: "      Timeuot: 60\n", wantField: "Resources.SchedulerFunction.Properties.Timeuot"},
		{name: "a misspelled global", old: "    MemorySize: 256\n", new: "    MemorySise: 256\n", wantField: "Globals.Function.MemorySise"},
		{name: "a misspelled event property", old: "            BatchSize: 10\n", new: "            BatchSise: 10\n", wantField: "Resources.SenderFunction.Properties.Events.Queue.Properties.BatchSise"},
		{name: "an unknown event type", old: "          Type: ScheduleV2\n", new: "          Type: ScheduleV3\n", wantField: "Resources.SchedulerFunction.Properties.Events.Tick.Type"},
		{name: "a misspelled HTTP API property", old: "      DefaultRouteSettings:\n", new: "      DefaultRouteSetting:\n", wantField: "Resources.HttpApi.Properties.DefaultRouteSetting"},
		{name: "a list for a text", old: "      Description: Webhooks, thank-you page, unsubscribe and click-redirect routes.\n", new: "      Description: [Webhooks, thank-you page, unsubscribe routes]\n", wantField: "Resources.HttpApi.Properties.Description"},
		{name: "a misspelled table property", old: "      BillingMode: PAY_PER_REQUEST\n", new: "      BilingMode: PAY_PER_REQUEST\n", wantField: "Resources.Table.Properties.BilingMode"},
		{name: "a queue setting out of range", old: "      VisibilityTimeout: 180", new: "      VisibilityTimeout: 86400", wantField: "Resources.SenderQueue.Properties.VisibilityTimeout"},
		{name: "a misspelled resource attribute", old: "    DeletionPolicy: Retain\n", new: "    DeletionPolcy: Retain\n", wantField: "Resources.Table.DeletionPolcy"},
		{name: "an event bus that is not an ARN", old: "          EventBusArn: !Sub arn:", new: "          EventBusArn: !Sub arm:", wantField: "Resources.EmailEventDestination.Properties.EventDestination.EventBridgeDestination.EventBusArn"},
		{name: "a serverless type that does not exist", old: "    Type: AWS::Serverless::HttpApi\n", new: "    Type: AWS::Serverless::HttpAPI\n", wantField: "Resources.HttpApi.Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(raw, []byte(tt.old)) {
				t.Fatalf("template.yaml no longer has %q", tt.old)
			}
			edited := bytes.Replace(raw, []byte(tt.old), []byte(tt.new), 1)
			line := bytes.Count(edited[:bytes.Index(edited, []byte(tt.new))], []byte("\n")) + 1
			problems := s.check(t, "template.yaml", edited)
			if len(problems) == 0 {
				t.Fatal("no problem found")
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, " "+tt.wantField+":")
				if !strings.HasPrefix(p, "template.yaml:") {
					t.Errorf("problem without its position: %s", p)
				}
			}
			if !found {
				t.Errorf("no problem names %s: %q", tt.wantField, problems)
			}
			if !strings.Contains(strings.Join(problems, "\n"), fmt.Sprintf("template.yaml:%d:", line)) {
				t.Errorf("no problem at line %d: %q", line, problems)
			}
			t.Logf("%s", strings.Join(problems, "\n"))
		})
	}
}

// samSchema is what a template is checked against: the SAM schema,
// compiled whole and in the parts a report can be precise about (Globals,
// each resource by its Type), and CloudFormation's own resource schemas.
type samSchema struct {
	whole, globals, otherResource *jsonschema.Schema
	byType                        map[string]*jsonschema.Schema
	// cfnResource checks a CloudFormation resource's own keys (its
	// attributes); cfn holds, by type, the CloudFormation registry schema
	// of its Properties (testdata/cfn, see PROVENANCE).
	cfnResource *jsonschema.Schema
	cfn         map[string]*jsonschema.Schema
}

// cfnResourceAttributes is a resource's shape in a template, with the
// resource attributes CloudFormation knows ("Resource attribute reference"
// in the CloudFormation User Guide) and their values.
const cfnResourceAttributes = `{
  "type": "object",
  "required": ["Type"],
  "additionalProperties": false,
  "properties": {
    "Type": {"type": "string"},
    "Properties": {"type": "object"},
    "Condition": {"type": "string"},
    "DependsOn": {"type": ["string", "array"], "items": {"type": "string"}},
    "Metadata": {"type": "object"},
    "CreationPolicy": {"type": "object"},
    "UpdatePolicy": {"type": "object"},
    "DeletionPolicy": {"enum": ["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"]},
    "UpdateReplacePolicy": {"enum": ["Delete", "Retain", "Snapshot"]}
  }
}`

func loadSAMSchema(t *testing.T) *samSchema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sam.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(ecmaRegexp)
	const url = "mem://sam.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	compile := func(ref string) *jsonschema.Schema { return compileURL(t, c, url+ref) }
	s := &samSchema{whole: compile(""), globals: compile("#/properties/Globals"), byType: map[string]*jsonschema.Schema{}}
	// Each alternative of Resources names its Type in an enum, but for
	// the one for any other type.
	var spec struct {
		Properties struct {
			Resources struct {
				AdditionalProperties struct {
					AnyOf []struct {
						Ref string `json:"$ref"`
					} `json:"anyOf"`
				} `json:"additionalProperties"`
			} `json:"Resources"`
		} `json:"properties"`
		Definitions map[string]struct {
			Properties struct {
				Type struct {
					Enum []string `json:"enum"`
				} `json:"Type"`
			} `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	for _, alt := range spec.Properties.Resources.AdditionalProperties.AnyOf {
		def := spec.Definitions[strings.TrimPrefix(alt.Ref, "#/definitions/")]
		switch len(def.Properties.Type.Enum) {
		case 0:
			s.otherResource = compile(alt.Ref)
		case 1:
			s.byType[def.Properties.Type.Enum[0]] = compile(alt.Ref)
		}
	}
	if s.otherResource == nil || s.byType["AWS::Serverless::Function"] == nil {
		t.Fatal("the schema's Resources are not shaped as expected")
	}

	attrs, err := jsonschema.UnmarshalJSON(strings.NewReader(cfnResourceAttributes))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("mem://cfn-resource.json", attrs); err != nil {
		t.Fatal(err)
	}
	s.cfnResource = compileURL(t, c, "mem://cfn-resource.json")
	s.cfn = map[string]*jsonschema.Schema{}
	files, err := filepath.Glob(filepath.Join("testdata", "cfn", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("CloudFormation schemas: %v, %d found", err, len(files))
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			TypeName string `json:"typeName"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.TypeName == "" {
			t.Fatalf("%s: no typeName (%v)", path, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		url := "mem://cfn/" + filepath.Base(path)
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		s.cfn[head.TypeName] = compileURL(t, c, url)
	}
	return s
}

// compileURL compiles the schema added to c at url.
func compileURL(t *testing.T, c *jsonschema.Compiler, url string) *jsonschema.Schema {
	t.Helper()
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", url, err)
	}
	return s
}

// check validates a template and returns every problem as
// "file:line:col: field: message".
func (s *samSchema) check(t *testing.T, file string, raw []byte) []string {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	// Through JSON, so the validator sees what CloudFormation reads: for
	// SAM, intrinsic functions in their long form; for CloudFormation's
	// own resources, resolved as deployed.
	asJSON := func(values map[string]string) any {
		doc, err := templateValue(&root, values)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := asJSON(nil)
	deployed, _ := asJSON(deployValues(&root)).(map[string]any)
	deployedResources, _ := deployed["Resources"].(map[string]any)
	var problems []string
	report := func(prefix []string, err error) {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		for _, p := range schemaProblems(ve) {
			loc := append(append([]string(nil), prefix...), p.loc...)
			n, key := nodeAt(root.Content[0], loc)
			if p.key && key != nil {
				n = key
			}
			problems = append(problems, fmt.Sprintf("%s:%d:%d: %s: %s", file, n.Line, n.Column, strings.Join(loc, "."), p.message))
		}
	}
	top, _ := v.(map[string]any)
	if g, ok := top["Globals"]; ok {
		report([]string{"Globals"}, s.globals.Validate(g))
	}
	resources, _ := top["Resources"].(map[string]any)
	for id, r := range resources {
		typ, _ := r.(map[string]any)["Type"].(string)
		schema, ok := s.byType[typ]
		if !ok && strings.HasPrefix(typ, "AWS::Serverless::") {
			loc := []string{"Resources", id, "Type"}
			n, _ := nodeAt(root.Content[0], loc)
			problems = append(problems, fmt.Sprintf("%s:%d:%d: %s: not a SAM resource type; SAM has %s", file, n.Line, n.Column, strings.Join(loc, "."), strings.Join(slices.Sorted(maps.Keys(s.byType)), ", ")))
			continue
		}
		if ok {
			report([]string{"Resources", id}, schema.Validate(r))
			continue
		}
		report([]string{"Resources", id}, s.otherResource.Validate(r))
		report([]string{"Resources", id}, s.cfnResource.Validate(r))
		props, ok := s.cfn[typ]
		if !ok {
			n, _ := nodeAt(root.Content[0], []string{"Resources", id, "Type"})
			problems = append(problems, fmt.Sprintf("%s:%d:%d: Resources.%s.Type: no CloudFormation schema for %s in testdata/cfn (vendor it, see PROVENANCE)", file, n.Line, n.Column, id, typ))
			continue
		}
		if p, ok := deployedResources[id].(map[string]any)["Properties"]; ok {
			report([]string{"Resources", id, "Properties"}, props.Validate(p))
		}
	}
	if len(problems) == 0 {
		report(nil, s.whole.Validate(v))
	}
	slices.SortStableFunc(problems, func(a, b string) int { return position(a) - position(b) })
	return problems
}

// position orders "file:line:col: ..." by line and column.
func position(problem string) int {
	parts := strings.SplitN(problem, ":", 4)
	if len(parts) < 4 {
		return 0
	}
	line, _ := strconv.Atoi(parts[1])
	col, _ := strconv.Atoi(parts[2])
	return line*1000 + col
}

// deployValues are stand-ins for what a deployment resolves intrinsic
// functions to: the stack's pseudo parameters, each parameter's default or
// a placeholder, each resource's name (its logical id) and ARN.
func deployValues(root *yaml.Node) map[string]string {
	v := map[string]string{"AWS::Partition": "aws", "AWS::Region": "ap-northeast-1", "AWS::AccountId": "123456789012",
		"AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "tsunagu", "AWS::NoValue": ""}
	params := child(root.Content[0], "Parameters")
	for i := 0; params != nil && i+1 < len(params.Content); i += 2 {
		name := params.Content[i].Value
		v[name] = "parameter-" + name
		if d := child(params.Content[i+1], "Default"); d != nil {
			v[name] = d.Value
		}
	}
	resources := child(root.Content[0], "Resources")
	for i := 0; resources != nil && i+1 < len(resources.Content); i += 2 {
		id := resources.Content[i].Value
		service, _, _ := strings.Cut(strings.TrimPrefix(scalar(child(resources.Content[i+1], "Type")), "AWS::"), "::")
		v[id] = id
		v[id+".Arn"] = "arn:aws:" + strings.ToLower(service) + ":ap-northeast-1:123456789012:" + id
	}
	return v
}

// problem is one thing wrong at an instance location.
type problem struct {
	loc     []string
	message string
	key     bool // about the last key of loc itself (placed at the key, not its value)
}

// schemaProblems words a validation error as the problems a person acts
// on. Where the schema offers alternatives told apart by a Type (a
// resource, an event), only the alternatives of the Type written are
// reported, or, when none has it, that Type; an unknown property is
// reported at its own key.
func schemaProblems(e *jsonschema.ValidationError) []problem {
	if len(e.Causes) == 0 {
		if k, ok := e.ErrorKind.(*kind.AdditionalProperties); ok {
			var out []problem
			for _, name := range k.Properties {
				out = append(out, problem{loc: append(slices.Clone(e.InstanceLocation), name), message: "unknown property", key: true})
			}
			return out
		}
		return []problem{{loc: e.InstanceLocation, message: validation.Message(e.ErrorKind)}}
	}
	causes := e.Causes
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		typeLoc := append(slices.Clone(e.InstanceLocation), "Type")
		var sameType []*jsonschema.ValidationError
		var types []string
		for _, c := range causes {
			wrong := false
			for _, leaf := range validation.Leaves(c) {
				if slices.Equal(leaf.InstanceLocation, typeLoc) {
					wrong = true
					switch k := leaf.ErrorKind.(type) {
					case *kind.Enum:
						for _, w := range k.Want {
							types = append(types, fmt.Sprint(w))
						}
					case *kind.Const:
						types = append(types, fmt.Sprint(k.Want))
					}
				}
			}
			if !wrong {
				sameType = append(sameType, c)
			}
		}
		switch {
		case len(sameType) > 0 && len(sameType) < len(causes):
			causes = sameType
		case len(sameType) == 0 && len(types) > 0:
			return []problem{{loc: typeLoc, message: "must be one of " + strings.Join(types, ", ")}}
		}
	}
	var out []problem
	for _, c := range causes {
		out = append(out, schemaProblems(c)...)
	}
	return out
}

// templateValue converts a template's YAML into the value CloudFormation
// reads, as cfn-lint does: short-form intrinsic functions become their long
// form (!Ref X is {"Ref": "X"}, !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]},
// !Sub s is {"Fn::Sub": s}, !Condition c is {"Condition": c}, and any other
// !Name is {"Fn::Name": ...}). With values, !Ref, !GetAtt and !Sub are
// resolved instead, to the strings a deployment would give them.
func templateValue(n *yaml.Node, values map[string]string) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return templateValue(n.Content[0], values)
	case yaml.AliasNode:
		return templateValue(n.Alias, values)
	}
	if values != nil && (isIntrinsic(n) || n.Kind == yaml.MappingNode && len(n.Content) == 2 && (n.Content[0].Value == "Ref" || strings.HasPrefix(n.Content[0].Value, "Fn::"))) {
		if v, err := resolve(n, values); err == nil {
			return v, nil
		}
	}
	if isIntrinsic(n) {
		name := strings.TrimPrefix(n.Tag, "!")
		untagged := *n
		untagged.Tag = ""
		if n.Kind == yaml.ScalarNode {
			untagged.Tag = "!!str"
		}
		arg, err := templateValue(&untagged, values)
		if err != nil {
			return nil, err
		}
		switch name {
		case "Ref", "Condition":
			return map[string]any{name: arg}, nil
		case "GetAtt":
			if s, ok := arg.(string); ok {
				resource, attribute, _ := strings.Cut(s, ".")
				arg = []any{resource, attribute}
			}
		}
		return map[string]any{"Fn::" + name: arg}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := templateValue(n.Content[i+1], values)
			if err != nil {
				return nil, err
			}
			out[n.Content[i].Value] = v
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := templateValue(c, values)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return v, nil
}

// nodeAt is the deepest node of the YAML document on an instance location
// (keys and list indexes), and the key it is the value of (nil for a list
// item); a location inside a long-form intrinsic function stops at the
// tagged node.
func nodeAt(n *yaml.Node, loc []string) (value, key *yaml.Node) {
	for _, token := range loc {
		var next, nextKey *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == token {
					next, nextKey = n.Content[i+1], n.Content[i]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(token); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return n, key
		}
		n, key = next, nextKey
	}
	return n, key
}

// ecmaRegexp compiles a schema pattern (ECMA-262) with Go's regexp, plus
// the one construct the SAM schema uses that Go's lacks: a negative
// lookahead right after ^, "^(?!X)Y", which is a prefix test.
func ecmaRegexp(s string) (jsonschema.Regexp, error) {
	rest, ok := strings.CutPrefix(s, "^(?!")
	if !ok {
		return regexp.Compile(s)
	}
	depth, end := 1, -1
	for i := 0; i < len(rest) && end < 0; i++ {
		switch rest[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("pattern %q: unbalanced lookahead", s)
	}
	not, err := regexp.Compile("^(?:" + rest[:end] + ")")
	if err != nil {
		return nil, err
	}
	then, err := regexp.Compile("^" + rest[end+1:])
	if err != nil {
		return nil, err
	}
	return lookahead{pattern: s, not: not, then: then}, nil
}

// lookahead matches what not does not match at the start and then does.
type lookahead struct {
	pattern   string
	not, then *regexp.Regexp
}

func (l lookahead) MatchString(s string) bool { return !l.not.MatchString(s) && l.then.MatchString(s) }
func (l lookahead) String() string            { return l.pattern }
