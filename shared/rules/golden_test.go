package rules

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

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
				golden(t, name+".subject.txt", r.Subject)
				golden(t, name+".html", r.HTML)
				golden(t, name+".txt", r.Text)
			}
			if tpl.HasLine() {
				line, err := tpl.RenderLine(data)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, name+".line.txt", line)
			}
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from its golden file; got:\n%s", name, got)
	}
}
