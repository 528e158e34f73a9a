package rules

import (
	"sort"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
)

// TestShippedTemplatesGolden renders every shipped template, each part it
// has, with the sample recipient, against golden files (-update rewrites),
// as it is sent: its links tracked (the sample unsubscribe link, under the
// same base URL, stays direct).
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
	links, err := clicks.NewSealer("https://example.invalid", "dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	for _, name := range names {
		tpl := set.Templates[name]
		t.Run(name, func(t *testing.T) {
			// A message of each channel, each with its own links.
			data := SampleData(set.Settings).WithLinks(links.Tracker(clicks.Message{Key: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", CampaignID: name, CustomerID: "c-1001", SentAt: sent}))
			lineData := SampleData(set.Settings).WithLinks(links.Tracker(clicks.Message{Key: "f0e1d2c3b4a5968778695a4b3c2d1e0f", CampaignID: name, CustomerID: "c-1001", SentAt: sent}))
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
				line, err := tpl.RenderLine(lineData)
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, name+".line.txt", line)
			}
		})
	}
}
