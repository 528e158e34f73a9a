package rules

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// CampaignsDir holds one YAML file per campaign.
const CampaignsDir = "campaigns"

// Kind tells marketing messages (consent required) from transactional ones.
type Kind string

// Campaign kinds.
const (
	Marketing     Kind = "marketing"
	Transactional Kind = "transactional"
)

// Campaign is one compiled campaign file.
type Campaign struct {
	ID       string
	Name     string
	File     string
	Enabled  bool
	Kind     Kind
	Trigger  order.EventType
	Priority int
	// Audience is the compiled audience expression; nil means everyone.
	Audience       *vm.Program
	AudienceSource string
	Actions        []Action
}

// Action is one thing a campaign does for each customer in its audience.
type Action struct {
	Type     string // "email"
	Template string
}

type campaignSpec struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Enabled     *bool  `yaml:"enabled"`
	Kind        string `yaml:"kind"`
	Trigger     string `yaml:"trigger"`
	Priority    *int   `yaml:"priority"`
	Audience    string `yaml:"audience"`
	Actions     []struct {
		Type     string `yaml:"type"`
		Template string `yaml:"template"`
	} `yaml:"actions"`
}

// InAudience evaluates the campaign's audience for env.
func (c *Campaign) InAudience(env Env) (bool, error) {
	if c.Audience == nil {
		return true, nil
	}
	out, err := expr.Run(c.Audience, env)
	if err != nil {
		return false, fmt.Errorf("campaign %s: evaluate audience: %w", c.ID, err)
	}
	return out.(bool), nil
}

func (l *loader) loadCampaigns(templates map[string]*Template, broken map[string]bool) []*Campaign {
	var out []*Campaign
	seen := map[string]string{}
	for _, rel := range l.yamlFiles(CampaignsDir) {
		doc := l.readDoc(rel, compiledSchemas["campaign"])
		if doc == nil {
			continue
		}
		var spec campaignSpec
		if err := doc.root.Decode(&spec); err != nil {
			l.report(doc.problemAt(doc.root, "%v", err))
			continue
		}
		c := &Campaign{ID: spec.ID, Name: spec.Name, File: doc.file, Enabled: true, Kind: Marketing, Trigger: order.EventType(spec.Trigger), Priority: 100, AudienceSource: spec.Audience}
		if spec.Enabled != nil {
			c.Enabled = *spec.Enabled
		}
		if spec.Kind != "" {
			c.Kind = Kind(spec.Kind)
		}
		if spec.Priority != nil {
			c.Priority = *spec.Priority
		}
		if first, dup := seen[c.ID]; dup {
			l.report(doc.problemAt(doc.lookup([]string{"id"}, false), "campaign id %q is already used by %s", c.ID, first))
		}
		seen[c.ID] = doc.file
		if want := strings.TrimSuffix(path.Base(rel), path.Ext(rel)); want != c.ID {
			l.report(doc.problemAt(doc.lookup([]string{"id"}, false), "campaign id %q must match its file name %q", c.ID, want))
		}
		if spec.Audience != "" {
			prog, err := expr.Compile(spec.Audience, expr.Env(Env{}), expr.AsBool())
			if err != nil {
				l.report(expressionProblem(doc, doc.lookup([]string{"audience"}, false), err))
			}
			c.Audience = prog
		}
		for i, a := range spec.Actions {
			c.Actions = append(c.Actions, Action{Type: a.Type, Template: a.Template})
			tpl, ok := templates[a.Template]
			at := doc.lookup([]string{"actions", fmt.Sprint(i), "template"}, false)
			switch {
			case broken[a.Template]:
				// Its own problems are reported at the template's files.
			case !ok:
				l.report(doc.problemAt(at, "unknown template %q: no directory %s/%s", a.Template, TemplatesDir, a.Template))
			case c.Kind == Marketing && !tpl.HasLegalFooter:
				l.report(doc.problemAt(at, "template %q is used for marketing but does not show the sender's name, postal address, contact and unsubscribe link (特定電子メール法); keep the _layout footer", a.Template))
			}
		}
		out = append(out, c)
	}
	return out
}

// expressionProblem positions an expression compile error inside the YAML
// file: the expression's own line and column are added to where the scalar
// starts, allowing for quotes and block scalars.
func expressionProblem(doc *document, n *yaml.Node, err error) Problem {
	var ferr *file.Error
	if !errors.As(err, &ferr) {
		return doc.problemAt(n, "audience: %v", err)
	}
	line, col := n.Line, n.Column+ferr.Column
	switch n.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// Block content is indented as its first line is.
		line = n.Line + ferr.Line
		col = doc.indent(n.Line+1) + ferr.Column + 1
	default:
		line += ferr.Line - 1
		if ferr.Line > 1 {
			col = ferr.Column + 1
		}
	}
	return Problem{File: doc.file, Line: line, Col: col, Message: "audience: " + ferr.Message}
}
