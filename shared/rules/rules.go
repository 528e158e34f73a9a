// Package rules loads the marketer's rule files (rules/): shop settings,
// campaigns with their audience expressions, message templates,
// cross-sell relations and the points programme. Load checks everything at once and returns every
// mistake as file:line:col: message; a Set that loads is safe to run.
//
// Each file goes through the same steps: YAML nodes (kept for positions),
// its JSON Schema (the one editors use), a typed spec, and finally the
// compiled rule (expressions compiled once, templates parsed once).
package rules

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas holds the JSON Schemas of the rule files, by file name. The same
// files are shipped in rules/schema/ for editors.
//
//go:embed schema/*.schema.json
var Schemas embed.FS

// Set is a loaded, checked rule set.
type Set struct {
	Settings  Settings
	Campaigns []*Campaign // highest priority first, then by id
	Templates map[string]*Template
	CrossSell []CrossSellRelation
	Segments  map[string]*Segment
	// Deciles are the configured bounds of total spent for deciles 2-10.
	Deciles [9]int64
	// Loyalty is the points programme (loyalty.yaml), nil when the shop
	// runs none.
	Loyalty *Loyalty
}

// Campaign returns the campaign with the given id, or nil.
func (s *Set) Campaign(id string) *Campaign {
	for _, c := range s.Campaigns {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// Listens reports whether any campaign active at t is triggered by trigger.
func (s *Set) Listens(trigger Trigger, t time.Time) bool {
	for _, c := range s.Campaigns {
		if c.Trigger == trigger && c.IsActive(t) {
			return true
		}
	}
	return false
}

// Load reads the rule set in dir. On any mistake it returns Problems listing
// all of them.
func Load(dir string) (*Set, error) {
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS reads a rule set from fsys; problems name files as display/<path>.
func LoadFS(fsys fs.FS, display string) (*Set, error) {
	l := &loader{fsys: fsys, display: display}
	set := l.load()
	if len(l.problems) > 0 {
		return nil, l.problems.sorted()
	}
	return set, nil
}

type loader struct {
	fsys     fs.FS
	display  string
	problems Problems
	// hasLoyalty is set once loyalty.yaml is found, broken or not, so
	// campaigns that need the programme are not told it is missing.
	hasLoyalty bool
	// loyalty is the programme loaded, nil when absent or broken.
	loyalty *Loyalty
}

func (l *loader) report(p ...Problem) { l.problems = append(l.problems, p...) }

func (l *loader) name(rel string) string { return filepath.ToSlash(filepath.Join(l.display, rel)) }

func (l *loader) load() *Set {
	set := &Set{Templates: map[string]*Template{}}
	settings, ok := l.loadSettings()
	if !ok {
		return nil // everything else depends on the shop settings
	}
	set.Settings = settings
	set.Segments, set.Deciles = l.loadSegments()
	var broken map[string]bool
	set.Templates, broken = l.loadTemplates(settings)
	set.CrossSell = l.loadCrossSell()
	set.Loyalty = l.loadLoyalty()
	l.loyalty = set.Loyalty
	set.Campaigns = l.loadCampaigns(settings, set.Templates, broken, set.Segments)
	sort.SliceStable(set.Campaigns, func(i, j int) bool {
		a, b := set.Campaigns[i], set.Campaigns[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.ID < b.ID
	})
	return set
}

// readDoc reads, parses and schema-checks one YAML rule file. It returns nil
// when the file has problems that stop further checks.
func (l *loader) readDoc(rel string, schema *jsonschema.Schema) *document {
	src, err := fs.ReadFile(l.fsys, rel)
	if err != nil {
		l.report(Problem{File: l.name(rel), Line: 1, Col: 1, Message: fmt.Sprintf("cannot read: %v", errors.Unwrap(err))})
		return nil
	}
	doc, perr := parseYAML(l.name(rel), src)
	if perr != nil {
		l.report(*perr)
		return nil
	}
	if ps := doc.schemaProblems(schema); len(ps) > 0 {
		l.report(ps...)
		return nil
	}
	return doc
}

// yamlFiles lists the .yaml and .yml files directly in dir, sorted.
func (l *loader) yamlFiles(dir string) []string {
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if ext := path.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out
}

var compiledSchemas = compileSchemas()

func compileSchemas() map[string]*jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range customFormats {
		c.RegisterFormat(f)
	}
	out := map[string]*jsonschema.Schema{}
	entries, _ := fs.ReadDir(Schemas, "schema")
	for _, e := range entries {
		raw, _ := fs.ReadFile(Schemas, "schema/"+e.Name())
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			panic(fmt.Sprintf("embedded schema %s: %v", e.Name(), err))
		}
		url := "mem://" + e.Name()
		if err := c.AddResource(url, doc); err != nil {
			panic(fmt.Sprintf("embedded schema %s: %v", e.Name(), err))
		}
		out[strings.TrimSuffix(e.Name(), ".schema.json")] = c.MustCompile(url)
	}
	return out
}

// schemaAt finds the compiled schema a validation error points at, for
// listing the fields it allows.
func schemaAt(url string) *jsonschema.Schema {
	for name, s := range compiledSchemas {
		if strings.HasPrefix(url, "mem://"+name+".schema.json") {
			return findSchema(s, url, map[*jsonschema.Schema]bool{})
		}
	}
	return nil
}

func findSchema(s *jsonschema.Schema, url string, seen map[*jsonschema.Schema]bool) *jsonschema.Schema {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	if s.Location == url || s.Location+"/additionalProperties" == url {
		return s
	}
	for _, p := range s.Properties {
		if f := findSchema(p, url, seen); f != nil {
			return f
		}
	}
	if f := findSchema(s.Ref, url, seen); f != nil {
		return f
	}
	if f := findSchema(s.Items2020, url, seen); f != nil {
		return f
	}
	return nil
}
