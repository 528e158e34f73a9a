package rules

import (
	"sort"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
)

// TestShippedTemplatesGolden renders every shipped template, each part it
// has, with the sample recipient, against golden files (-update rewrites).
func TestShippedTemplatesGolden(t *testing.T) {
	set, err := Load(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(set.Templates))
	for n := range set.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	data := SampleData(set.Settings)
	for _, name := range names {
		tpl := set.Templates[name]
		t.Run(name, func(t *testing.T) {
			if tpl.HasEmail() {
				r, err := tpl.Render(data)
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, name+".subject.txt", r.Subject)
				golden.Check(t, name+".html", r.HTML)
				golden.Check(t, name+".txt", r.Text)
			}
			if tpl.HasLine() {
				line, err := tpl.RenderLine(data)
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, name+".line.txt", line)
			}
		})
	}
}
