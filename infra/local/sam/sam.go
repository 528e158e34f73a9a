// Package sam reads the parts of template.yaml that the local stack needs:
// the functions with their routes, schedules, queues, timeouts and
// environment, and the DynamoDB table definition. Keeping template.yaml the
// only place these are written is what keeps the local stack honest.
package sam

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.yaml.in/yaml/v3"
)

// Template is a parsed SAM template.
type Template struct {
	resources map[string]*yaml.Node
	order     []string
	globals   *yaml.Node // Globals.Function, or nil
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID string
	Timeout   time.Duration
	MemoryMB  int
	Env       []EnvVar
	Routes    []Route
	Schedules []Schedule
	Queues    []QueueEvent
}

// EnvVar is one environment variable. Literal is false when the template
// computes the value (!Ref, !GetAtt, !Sub); Value then holds the expression.
type EnvVar struct {
	Name    string
	Value   string
	Literal bool
}

// Route is one HttpApi event: an HTTP method and path served by a function.
type Route struct {
	Function string
	Event    string
	Method   string
	Path     string // API Gateway syntax: /thankyou/{orderId}
}

// RouteKey is the API Gateway route key, "POST /webhooks/orders".
func (r Route) RouteKey() string { return r.Method + " " + r.Path }

// Schedule is one Schedule or ScheduleV2 event.
type Schedule struct {
	Function   string
	Event      string
	Expression string // rate(5 minutes) or cron(...)
	// Input is the event the schedule sends, as written.
	Input string
}

// QueueEvent is one SQS event: the queue (its logical id) feeding a function.
type QueueEvent struct {
	Function  string
	Event     string
	Queue     string
	BatchSize int
	// ReportBatchItemFailures is set when the function reports partial
	// batch failures.
	ReportBatchItemFailures bool
}

// Load reads and parses a SAM template.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("load template %s: empty document", path)
	}
	root := doc.Content[0]
	t := &Template{resources: map[string]*yaml.Node{}}
	res := child(root, "Resources")
	if res == nil {
		return nil, fmt.Errorf("load template %s: no Resources", path)
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		t.resources[res.Content[i].Value] = res.Content[i+1]
		t.order = append(t.order, res.Content[i].Value)
	}
	t.globals = child(child(root, "Globals"), "Function")
	return t, nil
}

// Functions returns every AWS::Serverless::Function in template order.
func (t *Template) Functions() ([]Function, error) {
	var out []Function
	for _, id := range t.order {
		res := t.resources[id]
		if scalar(child(res, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		props := child(res, "Properties")
		fn := Function{LogicalID: id, Timeout: 3 * time.Second, MemoryMB: 128} // Lambda's defaults
		for _, n := range []*yaml.Node{t.globals, props} {
			if v := scalar(child(n, "Timeout")); v != "" {
				secs, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("function %s: Timeout %q: %w", id, v, err)
				}
				fn.Timeout = time.Duration(secs) * time.Second
			}
			if v := scalar(child(n, "MemorySize")); v != "" {
				mb, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("function %s: MemorySize %q: %w", id, v, err)
				}
				fn.MemoryMB = mb
			}
		}
		env := map[string]EnvVar{}
		for _, n := range []*yaml.Node{t.globals, props} {
			vars := child(child(child(n, "Environment"), "Variables"), "")
			for i := 0; vars != nil && i+1 < len(vars.Content); i += 2 {
				k, v := vars.Content[i].Value, vars.Content[i+1]
				env[k] = EnvVar{Name: k, Value: expression(v), Literal: v.Kind == yaml.ScalarNode && !isIntrinsic(v)}
			}
		}
		for _, v := range env {
			fn.Env = append(fn.Env, v)
		}
		sort.Slice(fn.Env, func(i, j int) bool { return fn.Env[i].Name < fn.Env[j].Name })
		events := child(props, "Events")
		for i := 0; events != nil && i+1 < len(events.Content); i += 2 {
			name, ev := events.Content[i].Value, events.Content[i+1]
			p := child(ev, "Properties")
			switch typ := scalar(child(ev, "Type")); typ {
			case "HttpApi":
				fn.Routes = append(fn.Routes, Route{Function: id, Event: name, Method: strings.ToUpper(scalar(child(p, "Method"))), Path: scalar(child(p, "Path"))})
			case "Schedule", "ScheduleV2":
				expr := scalar(child(p, "ScheduleExpression"))
				if expr == "" {
					expr = scalar(child(p, "Schedule"))
				}
				fn.Schedules = append(fn.Schedules, Schedule{Function: id, Event: name, Expression: expr, Input: scalar(child(p, "Input"))})
			case "SQS":
				q := QueueEvent{Function: id, Event: name, BatchSize: 10}
				if ref := child(p, "Queue"); ref != nil {
					q.Queue = strings.TrimSuffix(strings.TrimSpace(ref.Value), ".Arn")
				}
				if v := scalar(child(p, "BatchSize")); v != "" {
					q.BatchSize, _ = strconv.Atoi(v)
				}
				if types := child(p, "FunctionResponseTypes"); types != nil {
					for _, t := range types.Content {
						q.ReportBatchItemFailures = q.ReportBatchItemFailures || t.Value == "ReportBatchItemFailures"
					}
				}
				fn.Queues = append(fn.Queues, q)
			}
		}
		out = append(out, fn)
	}
	return out, nil
}

// Routes returns every HttpApi route of every function.
func (t *Template) Routes() ([]Route, error) {
	fns, err := t.Functions()
	if err != nil {
		return nil, err
	}
	var out []Route
	for _, f := range fns {
		out = append(out, f.Routes...)
	}
	return out, nil
}

// TableInput builds the CreateTable request for the AWS::DynamoDB::Table
// with the given logical id, named tableName: keys, attribute definitions and
// global secondary indexes exactly as the template declares them.
func (t *Template) TableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	res, ok := t.resources[logicalID]
	if !ok || scalar(child(res, "Type")) != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("table input: no AWS::DynamoDB::Table named %s in the template", logicalID)
	}
	var spec struct {
		AttributeDefinitions []struct {
			AttributeName string `yaml:"AttributeName"`
			AttributeType string `yaml:"AttributeType"`
		} `yaml:"AttributeDefinitions"`
		KeySchema              []keyElement `yaml:"KeySchema"`
		GlobalSecondaryIndexes []struct {
			IndexName  string       `yaml:"IndexName"`
			KeySchema  []keyElement `yaml:"KeySchema"`
			Projection struct {
				ProjectionType   string   `yaml:"ProjectionType"`
				NonKeyAttributes []string `yaml:"NonKeyAttributes"`
			} `yaml:"Projection"`
		} `yaml:"GlobalSecondaryIndexes"`
	}
	if err := child(res, "Properties").Decode(&spec); err != nil {
		return nil, fmt.Errorf("table input %s: %w", logicalID, err)
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest, KeySchema: keySchema(spec.KeySchema)}
	for _, a := range spec.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	for _, g := range spec.GlobalSecondaryIndexes {
		proj := &types.Projection{ProjectionType: types.ProjectionType(g.Projection.ProjectionType)}
		if len(g.Projection.NonKeyAttributes) > 0 {
			proj.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema), Projection: proj})
	}
	return in, nil
}

type keyElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

func keySchema(ks []keyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(ks))
	for i, k := range ks {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

// child returns the value of key in a mapping node; key "" returns the node
// itself when it is a mapping. Missing keys and nil nodes give nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	if key == "" {
		return n
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// isIntrinsic reports a CloudFormation short-form function (!Ref, !Sub...):
// a local tag, as opposed to YAML's own !!str and friends.
func isIntrinsic(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

// expression renders a value node as written: "!Ref Table", or the literal.
func expression(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if isIntrinsic(n) {
			return n.Tag + " " + n.Value
		}
		return n.Value
	}
	out, _ := yaml.Marshal(n)
	return strings.TrimSpace(string(out))
}

// TableGrant is one Allow statement of a function's inline policies on the
// DynamoDB table or one of its indexes.
type TableGrant struct {
	// Actions are the DynamoDB actions without the "dynamodb:" prefix:
	// GetItem, Query...
	Actions []string
	// Index is the index the grant is on ("gsi1"), or "" for the table.
	Index string
	// LeadingKeys are the partition key patterns (IAM StringLike: * and ?)
	// of a dynamodb:LeadingKeys condition; nil when the grant has none.
	LeadingKeys []string
}

// TableGrants returns what a function's inline policies allow on the
// DynamoDB table logicalID and its indexes; tests hold the functions'
// requests to them, so a grant missing from template.yaml fails locally
// and not first in AWS. A policy it cannot emulate faithfully (a Deny,
// NotAction, NotResource or another condition on the table) is an error,
// so a tightened policy is never silently treated as the looser one.
func (t *Template) TableGrants(function, logicalID string) ([]TableGrant, error) {
	res := t.resources[function]
	if res == nil {
		return nil, fmt.Errorf("table grants: no resource %s in the template", function)
	}
	var grants []TableGrant
	for _, policy := range seq(child(child(res, "Properties"), "Policies")) {
		for _, st := range seq(child(policy, "Statement")) {
			if child(st, "NotAction") != nil || child(st, "NotResource") != nil {
				return nil, fmt.Errorf("table grants of %s: NotAction and NotResource are not understood here", function)
			}
			if effect := scalar(child(st, "Effect")); effect != "Allow" {
				for _, a := range seq(child(st, "Action")) {
					if strings.HasPrefix(a.Value, "dynamodb:") {
						return nil, fmt.Errorf("table grants of %s: a %s statement on DynamoDB is not understood here", function, effect)
					}
				}
				continue
			}
			var g TableGrant
			for _, a := range seq(child(st, "Action")) {
				if name, ok := strings.CutPrefix(a.Value, "dynamodb:"); ok {
					g.Actions = append(g.Actions, name)
				}
			}
			if len(g.Actions) == 0 {
				continue
			}
			onTable := false
			for _, r := range seq(child(st, "Resource")) {
				switch {
				case r.Tag == "!GetAtt" && r.Value == logicalID+".Arn":
					onTable = true
				case r.Tag == "!Sub" && strings.HasPrefix(r.Value, "${"+logicalID+".Arn}/index/"):
					onTable, g.Index = true, strings.TrimPrefix(r.Value, "${"+logicalID+".Arn}/index/")
				}
			}
			if !onTable {
				continue
			}
			if cond := child(st, "Condition"); cond != nil {
				like := child(cond, "ForAllValues:StringLike")
				if len(cond.Content) != 2 || like == nil || len(like.Content) != 2 || child(like, "dynamodb:LeadingKeys") == nil {
					return nil, fmt.Errorf("table grants of %s: only a ForAllValues:StringLike dynamodb:LeadingKeys condition is understood here", function)
				}
				for _, k := range seq(child(like, "dynamodb:LeadingKeys")) {
					g.LeadingKeys = append(g.LeadingKeys, k.Value)
				}
			}
			grants = append(grants, g)
		}
	}
	return grants, nil
}

// seq returns a sequence node's items, a lone scalar or mapping as a list
// of one, and nothing for nil.
func seq(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	default:
		return []*yaml.Node{n}
	}
}
