package rules

import (
	"fmt"
	"sort"
)

// CrossSellFile holds the marketer's cross-sell relations.
const CrossSellFile = "crosssell.yaml"

// CrossSellRelation says: customers who bought From (a category or a
// product) may like To (categories, shown in emails with a title and link,
// and products, shown on the thank-you page).
type CrossSellRelation struct {
	FromCategory string
	FromSKU      string
	To           []CrossSellTarget
}

// CrossSellTarget is one suggestion: a category page or a product.
type CrossSellTarget struct {
	Category string
	SKU      string
	// Link is what emails show for a category target.
	Link Recommendation
}

type crossSellSpec struct {
	Relations []struct {
		From struct {
			Category string `yaml:"category"`
			SKU      string `yaml:"sku"`
		} `yaml:"from"`
		To []struct {
			Category  string `yaml:"category"`
			SKU       string `yaml:"sku"`
			Title     string `yaml:"title"`
			URL       string `yaml:"url"`
			ImageURL  string `yaml:"image_url"`
			ReviewsOf string `yaml:"reviews_of"`
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
	for i, r := range spec.Relations {
		rel := CrossSellRelation{FromCategory: r.From.Category, FromSKU: r.From.SKU}
		for j, t := range r.To {
			at := doc.lookup([]string{"relations", fmt.Sprint(i), "to", fmt.Sprint(j)}, false)
			switch {
			case (t.Category == "") == (t.SKU == ""):
				l.report(doc.problemAt(at, "a cross-sell target names a category or a sku (one of them)"))
				continue
			case t.Category != "" && (t.Title == "" || t.URL == ""):
				l.report(doc.problemAt(at, "a category target needs a title and a url, for emails"))
				continue
			case t.SKU != "" && t.ReviewsOf != "":
				l.report(doc.problemAt(at, "reviews_of belongs to a category target (a product target's reviews are its own)"))
				continue
			}
			rel.To = append(rel.To, CrossSellTarget{Category: t.Category, SKU: t.SKU, Link: Recommendation{Title: t.Title, URL: t.URL, ImageURL: t.ImageURL, SKU: t.ReviewsOf}})
		}
		out = append(out, rel)
	}
	return out
}

// Recommend suggests up to limit category links for emails, for a customer
// who has bought categoryCounts (all time) and just bought justBought:
// categories the customer buys most come first, and nothing in a category
// they just bought is suggested.
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
			for _, t := range rel.To {
				if t.Category == "" || skip[t.Category] || seen[t.Link.URL] {
					continue
				}
				seen[t.Link.URL] = true
				out = append(out, t.Link)
				if len(out) == limit {
					return out
				}
			}
		}
	}
	return out
}

// ProductTargets returns, for an order's products and categories, the
// products and categories the marketer's relations point to, in the order
// the relations list them: first those from the products, then those from
// the categories.
func (s *Set) ProductTargets(skus, categories []string) (targetSKUs, targetCategories []string) {
	inSKUs, inCats := set(skus), set(categories)
	seenSKU, seenCat := map[string]bool{}, map[string]bool{}
	collect := func(match func(CrossSellRelation) bool) {
		for _, rel := range s.CrossSell {
			if !match(rel) {
				continue
			}
			for _, t := range rel.To {
				switch {
				case t.SKU != "" && !seenSKU[t.SKU]:
					seenSKU[t.SKU] = true
					targetSKUs = append(targetSKUs, t.SKU)
				case t.Category != "" && !seenCat[t.Category]:
					seenCat[t.Category] = true
					targetCategories = append(targetCategories, t.Category)
				}
			}
		}
	}
	collect(func(r CrossSellRelation) bool { return r.FromSKU != "" && inSKUs[r.FromSKU] })
	collect(func(r CrossSellRelation) bool { return r.FromCategory != "" && inCats[r.FromCategory] })
	return targetSKUs, targetCategories
}

func set(values []string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}
