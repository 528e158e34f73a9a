package rules

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
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

// Trigger names what starts a campaign for a customer.
type Trigger string

// Triggers. Order and thank-you triggers come from the shop's events;
// lifecycle triggers come from the scheduler.
const (
	TriggerOrderCreated   Trigger = "order.created"
	TriggerOrderFulfilled Trigger = "order.fulfilled"
	TriggerOrderDelivered Trigger = "order.delivered"
	TriggerOrderCancelled Trigger = "order.cancelled"
	TriggerThankyouViewed Trigger = "thankyou.viewed"
	TriggerBirthday       Trigger = "lifecycle.birthday"
	TriggerReplenishment  Trigger = "lifecycle.replenishment"
	// TriggerPointsExpiring is run by the scheduler before a customer's
	// approved points expire (loyalty.yaml expiry.warn_before), with the
	// days left.
	TriggerPointsExpiring Trigger = "loyalty.points_expiring"
	// TriggerFriendOrdered is run for the friend whose first order carried
	// a referral code that passed the fraud checks.
	TriggerFriendOrdered Trigger = "referral.friend_ordered"
	// TriggerReferralRewarded is run for the advocate once a referred
	// order passed its return window and the reward was issued.
	TriggerReferralRewarded Trigger = "referral.reward_approved"
	// TriggerRankUp and TriggerRankDown are run when a customer's member
	// rank changes (loyalty.yaml ranks:): by an order, or by the nightly
	// job when old orders leave the window.
	TriggerRankUp   Trigger = "loyalty.rank_up"
	TriggerRankDown Trigger = "loyalty.rank_down"
)

// ActionType names what an action does.
type ActionType string

// Action types.
const (
	ActionEmail         ActionType = "email"
	ActionLine          ActionType = "line"
	ActionCoupon        ActionType = "coupon"
	ActionReviewRequest ActionType = "review_request"
	// ActionSurvey asks how satisfied the customer is (Scale), with
	// one-tap score links.
	ActionSurvey ActionType = "survey"
	// ActionPoints gives bonus points (Points, with a Reason) once per
	// trigger occurrence; it needs a points programme (loyalty.yaml).
	ActionPoints ActionType = "points"
)

// Survey scales.
const (
	// ScaleNPS is 0-10, "how likely are you to recommend us".
	ScaleNPS = "nps"
	// ScaleCSAT is 1-5, "how satisfied are you".
	ScaleCSAT = "csat"
)

// Campaign is one compiled campaign file.
type Campaign struct {
	ID       string
	Name     string
	File     string
	Enabled  bool
	Kind     Kind
	Trigger  Trigger
	Priority int
	// ActiveFrom and ActiveUntil bound when the campaign runs; zero means
	// open. ActiveUntil is exclusive (the day after the last active day).
	ActiveFrom, ActiveUntil time.Time
	Delay                   Delay
	// Holdout is the percentage of the audience deliberately left out.
	Holdout int
	// Caps are this campaign's own caps per customer.
	Caps []Cap
	// Audience is the compiled audience expression; nil means everyone.
	Audience       *vm.Program
	AudienceSource string
	// audienceParts are the conjuncts of a top-level "a && b && c"
	// audience, compiled one by one to explain which part failed.
	audienceParts []audiencePart
	// Variants are the A/B arms; a campaign without variants has one,
	// named "", with all the weight.
	Variants []Variant
	// LineOrEmail makes the LINE and email actions alternatives: LINE when
	// the customer can be reached there, email otherwise.
	LineOrEmail bool
	// LineBudget caps the campaign's LINE pushes per calendar month (shop
	// time); zero means no budget of its own.
	LineBudget int
}

// Variant is one arm of an A/B test.
type Variant struct {
	Name    string
	Weight  int
	Actions []Action
}

// Action is one thing a campaign does for a customer.
type Action struct {
	Type     ActionType
	Template string
	Coupon   *CouponSpec
	// Scale is a survey's scale (ScaleNPS, ScaleCSAT).
	Scale string
	// Channel is where a survey asks: "email" (score links) or "line"
	// (quick-reply buttons).
	Channel string
	// Points and Reason are a points action's bonus and why it is given.
	Points int64
	Reason string
}

// OnLine reports whether the action sends on LINE: a line action, or a
// survey asked there.
func (a Action) OnLine() bool {
	return a.Type == ActionLine || a.Type == ActionSurvey && a.Channel == "line"
}

// CouponSpec describes the coupon a coupon action issues.
type CouponSpec struct {
	Name       string
	PercentOff int
	AmountOff  int64
	MinOrder   int64
	ExpiresIn  time.Duration
}

type audiencePart struct {
	source  string
	program *vm.Program
}

type actionSpec struct {
	Type       string `yaml:"type"`
	Template   string `yaml:"template"`
	Name       string `yaml:"name"`
	PercentOff int    `yaml:"percent_off"`
	AmountOff  int64  `yaml:"amount_off"`
	MinOrder   int64  `yaml:"min_order"`
	ExpiresIn  string `yaml:"expires_in"`
	Scale      string `yaml:"scale"`
	Channel    string `yaml:"channel"`
	Points     int64  `yaml:"points"`
	Reason     string `yaml:"reason"`
}

type campaignSpec struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Enabled     *bool  `yaml:"enabled"`
	Active      struct {
		From  string `yaml:"from"`
		Until string `yaml:"until"`
	} `yaml:"active"`
	Kind       string       `yaml:"kind"`
	Trigger    string       `yaml:"trigger"`
	Delay      string       `yaml:"delay"`
	Priority   *int         `yaml:"priority"`
	Holdout    int          `yaml:"holdout"`
	Caps       []capSpec    `yaml:"caps"`
	Audience   string       `yaml:"audience"`
	Channel    string       `yaml:"channel"`
	LineBudget int          `yaml:"line_budget"`
	Actions    []actionSpec `yaml:"actions"`
	Variants   []struct {
		Name    string       `yaml:"name"`
		Weight  int          `yaml:"weight"`
		Actions []actionSpec `yaml:"actions"`
	} `yaml:"variants"`
}

// IsActive reports whether the campaign runs at t.
func (c *Campaign) IsActive(t time.Time) bool {
	return c.Enabled && (c.ActiveFrom.IsZero() || !t.Before(c.ActiveFrom)) && (c.ActiveUntil.IsZero() || t.Before(c.ActiveUntil))
}

// InAudience evaluates the campaign's audience for env on machine (a VM
// reused across evaluations; not safe for concurrent use).
func (c *Campaign) InAudience(machine *vm.VM, env *Env) (bool, error) {
	if c.Audience == nil {
		return true, nil
	}
	out, err := machine.Run(c.Audience, env)
	if err != nil {
		return false, fmt.Errorf("campaign %s: evaluate audience: %w", c.ID, err)
	}
	return out.(bool), nil
}

// FailingPart names the part of the audience that is false for env: the
// first false conjunct of "a && b && c", or the whole expression.
func (c *Campaign) FailingPart(env *Env) string {
	for _, p := range c.audienceParts {
		if out, err := expr.Run(p.program, env); err != nil || out != true {
			return p.source
		}
	}
	return c.AudienceSource
}

// Actions returns every action of every variant.
func (c *Campaign) Actions() []Action {
	var out []Action
	for _, v := range c.Variants {
		out = append(out, v.Actions...)
	}
	return out
}

func (l *loader) loadCampaigns(s Settings, templates map[string]*Template, broken map[string]bool, segments map[string]*Segment) []*Campaign {
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
		at := func(path ...string) *yaml.Node { return doc.lookup(path, false) }
		c := &Campaign{ID: spec.ID, Name: spec.Name, File: doc.file, Enabled: true, Kind: Marketing, Trigger: Trigger(spec.Trigger),
			Priority: 100, Holdout: spec.Holdout, AudienceSource: spec.Audience, LineOrEmail: spec.Channel == "line_or_email", LineBudget: spec.LineBudget}
		if spec.Enabled != nil {
			c.Enabled = *spec.Enabled
		}
		if spec.Kind != "" {
			c.Kind = Kind(spec.Kind)
		}
		if spec.Priority != nil {
			c.Priority = *spec.Priority
		}
		if spec.Delay != "" {
			c.Delay, _ = ParseDelay(spec.Delay) // checked by the schema format
		}
		for _, cp := range spec.Caps {
			c.Caps = append(c.Caps, cp.compile())
		}
		if first, dup := seen[c.ID]; dup {
			l.report(doc.problemAt(at("id"), "campaign id %q is already used by %s", c.ID, first))
		}
		seen[c.ID] = doc.file
		if want := strings.TrimSuffix(path.Base(rel), path.Ext(rel)); want != c.ID {
			l.report(doc.problemAt(at("id"), "campaign id %q must match its file name %q", c.ID, want))
		}
		if spec.Active.From != "" {
			c.ActiveFrom, _ = time.ParseInLocation(time.DateOnly, spec.Active.From, s.Location)
		}
		if spec.Active.Until != "" {
			until, _ := time.ParseInLocation(time.DateOnly, spec.Active.Until, s.Location)
			c.ActiveUntil = until.AddDate(0, 0, 1)
			if !c.ActiveFrom.IsZero() && !c.ActiveUntil.After(c.ActiveFrom) {
				l.report(doc.problemAt(at("active", "until"), "active.until is before active.from"))
			}
		}
		if spec.Audience != "" {
			l.compileAudience(doc, c, segments)
		}
		if msg := l.triggerProblem(c.Trigger); msg != "" {
			l.report(doc.problemAt(at("trigger"), "%s", msg))
		}
		switch {
		case len(spec.Actions) > 0 && len(spec.Variants) > 0:
			l.report(doc.problemAt(at("variants"), "a campaign has either actions or variants, not both"))
		case len(spec.Actions) == 0 && len(spec.Variants) == 0:
			l.report(doc.problemAt(doc.root, "a campaign needs actions (or variants, for an A/B test)"))
		case len(spec.Actions) > 0:
			c.Variants = []Variant{{Weight: 100, Actions: l.compileActions(doc, c, []string{"actions"}, spec.Actions, templates, broken)}}
		default:
			total := 0
			for i, v := range spec.Variants {
				total += v.Weight
				c.Variants = append(c.Variants, Variant{Name: v.Name, Weight: v.Weight,
					Actions: l.compileActions(doc, c, []string{"variants", fmt.Sprint(i), "actions"}, v.Actions, templates, broken)})
			}
			if total != 100 {
				l.report(doc.problemAt(at("variants"), "variant weights add up to %d; they must add up to 100", total))
			}
		}
		if c.LineOrEmail && !hasBoth(c) {
			l.report(doc.problemAt(at("channel"), "channel line_or_email needs a line and an email action in every variant"))
		}
		out = append(out, c)
	}
	return out
}

// hasBoth reports whether every variant has a LINE and an email action.
func hasBoth(c *Campaign) bool {
	for _, v := range c.Variants {
		var line, email bool
		for _, a := range v.Actions {
			line = line || a.Type == ActionLine
			email = email || a.Type == ActionEmail
		}
		if !line || !email {
			return false
		}
	}
	return len(c.Variants) > 0
}

// compileAudience compiles the audience, checks the segments it names, and
// compiles its top-level conjuncts for explanations.
func (l *loader) compileAudience(doc *document, c *Campaign, segments map[string]*Segment) {
	n := doc.lookup([]string{"audience"}, false)
	prog, err := expr.Compile(c.AudienceSource, expr.Env(&Env{}), expr.AsBool())
	if err != nil {
		l.report(expressionProblem(doc, n, "audience", err))
		return
	}
	for _, call := range segmentCalls(c.AudienceSource) {
		if _, ok := segments[call.name]; !ok {
			l.report(expressionProblem(doc, n, "audience", &file.Error{Location: call.loc, Message: fmt.Sprintf("unknown segment %q; segments are defined in %s", call.name, SegmentsFile)}))
		}
	}
	c.Audience = prog
	tree, err := parser.Parse(c.AudienceSource)
	if err != nil {
		return
	}
	for _, part := range conjuncts(tree.Node) {
		src := part.String()
		if p, err := expr.Compile(src, expr.Env(&Env{}), expr.AsBool()); err == nil {
			c.audienceParts = append(c.audienceParts, audiencePart{source: src, program: p})
		}
	}
}

// conjuncts splits "a && b && c" into its parts.
func conjuncts(n ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []ast.Node{n}
}

type segmentCall struct {
	name string
	loc  file.Location
}

// segmentCalls finds in_segment("name") calls in an expression.
func segmentCalls(src string) []segmentCall {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	v := &segmentVisitor{}
	ast.Walk(&tree.Node, v)
	return v.calls
}

type segmentVisitor struct{ calls []segmentCall }

func (v *segmentVisitor) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); ok && id.Value == "in_segment" {
		if s, ok := call.Arguments[0].(*ast.StringNode); ok {
			v.calls = append(v.calls, segmentCall{name: s.Value, loc: s.Location()})
		}
	}
}

func (l *loader) compileActions(doc *document, c *Campaign, base []string, specs []actionSpec, templates map[string]*Template, broken map[string]bool) []Action {
	var out []Action
	for i, a := range specs {
		at := func(field string) *yaml.Node {
			return doc.lookup(append(append([]string{}, base...), fmt.Sprint(i), field), false)
		}
		act := Action{Type: ActionType(a.Type), Template: a.Template, Scale: a.Scale, Channel: a.Channel, Points: a.Points, Reason: a.Reason}
		if act.Type == ActionSurvey && act.Channel == "" {
			act.Channel = "email"
		}
		switch act.Type {
		case ActionPoints:
			if !l.hasLoyalty {
				l.report(doc.problemAt(at("type"), "a points action needs a points programme: add %s", LoyaltyFile))
			}
		case ActionCoupon:
			cs := &CouponSpec{Name: a.Name, PercentOff: a.PercentOff, AmountOff: a.AmountOff, MinOrder: a.MinOrder}
			switch {
			case a.PercentOff > 0 && a.AmountOff > 0:
				l.report(doc.problemAt(at("amount_off"), "a coupon takes percent_off or amount_off, not both"))
			case a.PercentOff == 0 && a.AmountOff == 0:
				l.report(doc.problemAt(at("type"), "a coupon needs percent_off or amount_off"))
			}
			if a.ExpiresIn == "" {
				l.report(doc.problemAt(at("type"), "a coupon needs an expiry: add expires_in, such as 30d"))
			} else {
				cs.ExpiresIn, _ = ParseDuration(a.ExpiresIn) // checked by the schema format
			}
			act.Coupon = cs
		default:
			l.checkTemplate(doc, c, act, at("template"), templates, broken)
		}
		out = append(out, act)
	}
	return out
}

// triggerProblem says what a programme trigger lacks in loyalty.yaml; ""
// when nothing. A broken loyalty.yaml is reported at its own lines.
func (l *loader) triggerProblem(t Trigger) string {
	if l.hasLoyalty && l.loyalty == nil {
		return ""
	}
	switch t {
	case TriggerPointsExpiring:
		if l.loyalty == nil || len(l.loyalty.ExpiryWarnings) == 0 {
			return fmt.Sprintf("trigger %s needs expiry.warn_before in %s (when to warn)", t, LoyaltyFile)
		}
	case TriggerFriendOrdered, TriggerReferralRewarded:
		if l.loyalty == nil || l.loyalty.Referral == nil {
			return fmt.Sprintf("trigger %s needs a referral: section in %s", t, LoyaltyFile)
		}
	case TriggerRankUp, TriggerRankDown:
		if l.loyalty == nil || l.loyalty.Ranks == nil {
			return fmt.Sprintf("trigger %s needs a ranks: section in %s", t, LoyaltyFile)
		}
	}
	return ""
}

// checkTemplate checks that an action's template exists with the parts its
// channel needs, and that marketing emails carry the legal footer.
func (l *loader) checkTemplate(doc *document, c *Campaign, a Action, at *yaml.Node, templates map[string]*Template, broken map[string]bool) {
	tpl, ok := templates[a.Template]
	switch {
	case broken[a.Template]:
		// Its own problems are reported at the template's files.
	case !ok:
		l.report(doc.problemAt(at, "unknown template %q: no directory %s/%s", a.Template, TemplatesDir, a.Template))
	case a.OnLine() && !tpl.HasLine():
		l.report(doc.problemAt(at, "template %q has no %s for a LINE message", a.Template, LineFile))
	case a.OnLine():
	case !tpl.HasEmail():
		l.report(doc.problemAt(at, "template %q has no email parts (%s, %s, %s)", a.Template, SubjectFile, HTMLFile, TextFile))
	case c.Kind == Marketing && !tpl.HasLegalFooter:
		l.report(doc.problemAt(at, "template %q is used for marketing but does not show the sender's name, postal address, contact and unsubscribe link (特定電子メール法); keep the _layout footer", a.Template))
	case a.Type == ActionReviewRequest && l.loyalty != nil && l.loyalty.ReviewPoints > 0 && !tpl.ShowsReviewPoints:
		l.report(doc.problemAt(at, "template %q asks for reviews that earn points (%s reviews:) but does not show {{.ReviewPoints}} in both bodies: the incentive must be disclosed (景品表示法・ステマ規制)", a.Template, LoyaltyFile))
	}
}

// expressionProblem positions an expression error inside the YAML file, at
// the character of the scalar where the expression went wrong.
func expressionProblem(doc *document, n *yaml.Node, label string, err error) Problem {
	var ferr *file.Error
	if !errors.As(err, &ferr) {
		return doc.problemAt(n, "%s: %v", label, err)
	}
	line, col := doc.scalarPosition(n, ferr.From)
	return Problem{File: doc.file, Line: line, Col: col, Message: label + ": " + ferr.Message}
}
