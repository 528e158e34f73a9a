package rules

import (
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// fuzzCampaign is where the fuzzed campaign file sits among the shipped rules.
const fuzzCampaign = CampaignsDir + "/fuzzed.yaml"

// FuzzLoadCampaign puts arbitrary bytes as one campaign file among the
// shipped rules (settings, segments, templates) and loads the set. It must
// never panic; it either loads, with that campaign in it, or returns
// Problems, every one in that file at a line and column inside it (or at
// its end).
func FuzzLoadCampaign(f *testing.F) {
	base := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(shippedRules), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(shippedRules + "/" + p)
		if strings.HasPrefix(p, CampaignsDir+"/") {
			// Each shipped campaign is a seed, renamed to the fuzzed file.
			f.Add(shippedID.ReplaceAll(b, []byte("id: fuzzed")))
			return err
		}
		base[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "\n", "id: fuzzed\n", "- a\n- b\n", "id: [x\n", "\t", "\xff\xfe",
		"id: fuzzed\nname: x\ntrigger: order.created\naudience: |\n  customer.accepts_marketing &&\n    customer.ordr_count > 1\nactions: [{type: email, template: post-purchase-thanks}]\n",
		"id: fuzzed\nname: x\ntrigger: order.created\naudience: \"in_segment(\\\"nope\\\") && order.total >\"\nactions: [{type: email, template: nope}]\n",
		"id: fuzzed\nname: x\ntrigger: order.created\nvariants:\n  - {name: a, weight: 60, actions: [{type: coupon, percent_off: 10, amount_off: 5}]}\n  - {name: b, weight: 60, actions: [{type: line, template: winback}]}\n",
		"id: &i fuzzed\nname: *i\ntrigger: order.created\nactions: &a [{type: email, template: post-purchase-thanks}]\nvariants: [{name: a, weight: 100, actions: *a}]\n",
		"id: &a [*a]\n",
		"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
		"id: fuzzed\nname: x\ntrigger: order.created\ndelay: next day 25:00\nactive: {from: 2026-13-01, until: 2026-02-30}\ncaps: [{max: -1, per: 0d}]\nactions: []\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, campaign []byte) {
		fsys := fstest.MapFS{fuzzCampaign: &fstest.MapFile{Data: campaign}}
		for p, file := range base {
			fsys[p] = file
		}
		set, err := LoadFS(fsys, "rules")
		if err == nil {
			if set.Campaign("fuzzed") == nil {
				t.Fatalf("the set loaded without the campaign %s", fuzzCampaign)
			}
			return
		}
		var problems Problems
		if !errors.As(err, &problems) || len(problems) == 0 {
			t.Fatalf("LoadFS error = %v (%T), want Problems", err, err)
		}
		lines := lineBreak.Split(string(campaign), -1)
		for _, p := range problems {
			if p.File != "rules/"+fuzzCampaign {
				t.Errorf("problem in another file than the campaign: %s", p)
				continue
			}
			if p.Line < 1 || p.Line > len(lines) {
				t.Errorf("problem at line %d of a %d-line file: %s", p.Line, len(lines), p)
				continue
			}
			if width := utf8.RuneCountInString(lines[p.Line-1]); p.Col < 1 || p.Col > width+1 {
				t.Errorf("problem at column %d of a %d-character line %q: %s", p.Col, width, lines[p.Line-1], p)
			}
		}
	})
}

var (
	// shippedID matches a shipped campaign's id line.
	shippedID = regexp.MustCompile(`(?m)^id: .*$`)
)

// FuzzLoadLoyalty puts arbitrary bytes as loyalty.yaml among the shipped
// rules and loads the set. It must never panic; it either loads, with a
// programme whose rate and return window are positive, or returns
// Problems, every one in loyalty.yaml at a line and column inside it.
func FuzzLoadLoyalty(f *testing.F) {
	base := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(shippedRules), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(shippedRules + "/" + p)
		if p == LoyaltyFile {
			f.Add(b)
			return err
		}
		base[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "earn: {amount_per_point: 100}\n", "earn: {amount_per_point: -1}\nreturn_window: 0d\n",
		"earn: {amount_per_point: 9223372036854775808}\n", "earn: &a {amount_per_point: *a}\n",
		"earn:\n  amount_per_point: 100\nexpiry: {months_without_order: 121}\nreturn_window: 1d12h\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, loyalty []byte) {
		fsys := fstest.MapFS{LoyaltyFile: &fstest.MapFile{Data: loyalty}}
		for p, file := range base {
			fsys[p] = file
		}
		set, err := LoadFS(fsys, "rules")
		if err == nil {
			if y := set.Loyalty; y == nil || y.AmountPerPoint < 1 || y.ReturnWindow <= 0 || y.ExpiryMonths < 0 {
				t.Fatalf("loaded programme %+v", set.Loyalty)
			}
			return
		}
		var problems Problems
		if !errors.As(err, &problems) || len(problems) == 0 {
			t.Fatalf("LoadFS error = %v (%T), want Problems", err, err)
		}
		lines := lineBreak.Split(string(loyalty), -1)
		for _, p := range problems {
			if p.File != "rules/"+LoyaltyFile {
				if strings.HasSuffix(p.Message, "in "+LoyaltyFile) || strings.Contains(p.Message, "in "+LoyaltyFile+" (") {
					continue // a campaign needing a section this loyalty.yaml lacks
				}
				t.Errorf("problem in another file than loyalty.yaml: %s", p)
				continue
			}
			if p.Line < 1 || p.Line > len(lines) {
				t.Errorf("problem at line %d of a %d-line file: %s", p.Line, len(lines), p)
				continue
			}
			if width := utf8.RuneCountInString(lines[p.Line-1]); p.Col < 1 || p.Col > width+1 {
				t.Errorf("problem at column %d of a %d-character line %q: %s", p.Col, width, lines[p.Line-1], p)
			}
		}
	})
}
