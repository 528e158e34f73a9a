package rules

import (
	"sort"
)

// CrossSellFile holds the marketer's cross-sell relations.
const CrossSellFile = "crosssell.yaml"

// CrossSellRelation says: customers who bought From may like To.
type CrossSellRelation struct {
	FromCategory string
	To           []Recommendation
	toCategories []string
}

type crossSellSpec struct {
	Relations []struct {
		From struct {
			Category string `yaml:"category"`
		} `yaml:"from"`
		To []struct {
			Category string `yaml:"category"`
			Title    string `yaml:"title"`
			URL      string `yaml:"url"`
			ImageURL string `yaml:"image_url"`
		} `yaml:"to"`
	} `yaml:"relations"`
}

func (l *loader) loadCrossSell() []CrossSellRelation {
	doc := l.readDoc(CrossSellFile, compiledSchemas["crosssell"])
	if doc == nil {
		return nil
	}
	var spec crossSellSpec
	if err := doc.root.Decode(&spec); err != nil {
		l.report(doc.problemAt(doc.root, "%v", err))
		return nil
	}
	var out []CrossSellRelation
	for _, r := range spec.Relations {
		rel := CrossSellRelation{FromCategory: r.From.Category}
		for _, t := range r.To {
			rel.To = append(rel.To, Recommendation{Title: t.Title, URL: t.URL, ImageURL: t.ImageURL})
			rel.toCategories = append(rel.toCategories, t.Category)
		}
		out = append(out, rel)
	}
	return out
}

// Recommend suggests up to limit recommendations for a customer who has
// bought categoryCounts (all time) and just bought justBought: categories the
// customer buys most come first, and nothing in a category they just bought
// is suggested.
func (s *Set) Recommend(categoryCounts map[string]int, justBought []string, limit int) []Recommendation {
	skip := map[string]bool{}
	for _, c := range justBought {
		skip[c] = true
	}
	cats := make([]string, 0, len(categoryCounts))
	for c := range categoryCounts {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		if categoryCounts[cats[i]] != categoryCounts[cats[j]] {
			return categoryCounts[cats[i]] > categoryCounts[cats[j]]
		}
		return cats[i] < cats[j]
	})
	var out []Recommendation
	seen := map[string]bool{}
	for _, c := range cats {
		for _, rel := range s.CrossSell {
			if rel.FromCategory != c {
				continue
			}
			for i, rec := range rel.To {
				to := rel.toCategories[i]
				if skip[to] || seen[rec.URL] {
					continue
				}
				seen[rec.URL] = true
				out = append(out, rec)
				if len(out) == limit {
					return out
				}
			}
		}
	}
	return out
}
