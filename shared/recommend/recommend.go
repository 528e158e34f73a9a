// Package recommend decides which products to suggest after an order: the
// marketer's cross-sell relations first, then what other customers bought
// together with or after the same products (co-purchase affinity, learnt
// incrementally from orders).
package recommend

import (
	"sort"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// CandidateLimit is how many candidates an order keeps, several times what
// a page shows, so that enough remain once out-of-stock ones are dropped.
const CandidateLimit = 16

// Targets are the catalog entries worth reading for an order: its own
// products (their categories, brands and affinity lists) and the
// categories the marketer's relations point to.
func Targets(set *rules.Set, o order.Order) store.CatalogQuery {
	skus, cats := skusAndCategories(o)
	_, targetCats := set.ProductTargets(skus, cats)
	return store.CatalogQuery{Products: skus, Affinity: skus, Categories: targetCats}
}

// FillFromCatalog sets each item's missing category and brand from the
// catalog, as the shop's own product data says.
func FillFromCatalog(o *order.Order, products map[string]store.Product) {
	for i := range o.Items {
		it := &o.Items[i]
		p, ok := products[it.SKU]
		if !ok {
			continue
		}
		if it.Category == "" {
			it.Category = p.Category
		}
		if it.Brand == "" {
			it.Brand = p.Brand
		}
	}
}

// Candidates lists the SKUs worth suggesting after an order, best first:
// the products the marketer's relations name, the products of the
// categories they name, then what others bought with or after the order's
// products, most often first. None of the order's own products.
func Candidates(set *rules.Set, o order.Order, cat store.Catalog) []string {
	skus, cats := skusAndCategories(o)
	own := map[string]bool{}
	for _, s := range skus {
		own[s] = true
	}
	var out []string
	seen := map[string]bool{}
	add := func(sku string) {
		if !own[sku] && !seen[sku] && len(out) < CandidateLimit {
			seen[sku] = true
			out = append(out, sku)
		}
	}
	targetSKUs, targetCats := set.ProductTargets(skus, cats)
	for _, s := range targetSKUs {
		add(s)
	}
	for _, c := range targetCats {
		for _, s := range cat.Categories[c] {
			add(s)
		}
	}
	type scored struct {
		sku   string
		count int
	}
	var affinity []scored
	totals := map[string]int{}
	for _, s := range skus {
		for other, n := range cat.Affinity[s] {
			totals[other] += n
		}
	}
	for s, n := range totals {
		affinity = append(affinity, scored{s, n})
	}
	sort.Slice(affinity, func(i, j int) bool {
		if affinity[i].count != affinity[j].count {
			return affinity[i].count > affinity[j].count
		}
		return affinity[i].sku < affinity[j].sku
	})
	for _, a := range affinity {
		add(a.sku)
	}
	return out
}

// Pick returns up to n products from candidates that are in the catalog and
// in stock, in candidate order.
func Pick(candidates []string, products map[string]store.Product, n int) []store.Product {
	var out []store.Product
	for _, sku := range candidates {
		if len(out) == n {
			break
		}
		if p, ok := products[sku]; ok && p.InStock {
			out = append(out, p)
		}
	}
	return out
}

// maxLearntProducts bounds how many of an order's products, and of the
// products bought before it, teach co-purchase pairs. The pairs grow with
// the square of the count (a 500-line wholesale order would teach 250,000
// and take minutes to write); the first products of an order say what it
// was bought with as well as all of them would.
const maxLearntProducts = 20

// Pairs are the co-purchase pairs an order teaches: every two of its
// products, both ways ("bought together"), and each product bought before
// (earlier) to each of the order's products ("bought later"); at most the
// first maxLearntProducts of each.
func Pairs(o order.Order, earlier []string) map[string][]string {
	skus, _ := skusAndCategories(o)
	skus = skus[:min(len(skus), maxLearntProducts)]
	earlier = earlier[:min(len(earlier), maxLearntProducts)]
	pairs := map[string][]string{}
	for _, from := range skus {
		for _, to := range skus {
			if from != to {
				pairs[from] = append(pairs[from], to)
			}
		}
	}
	inOrder := map[string]bool{}
	for _, s := range skus {
		inOrder[s] = true
	}
	for _, from := range earlier {
		if inOrder[from] {
			continue
		}
		pairs[from] = append(pairs[from], skus...)
	}
	return pairs
}

func skusAndCategories(o order.Order) (skus, cats []string) {
	seenSKU, seenCat := map[string]bool{}, map[string]bool{}
	for _, it := range o.Products() {
		if !seenSKU[it.SKU] {
			seenSKU[it.SKU] = true
			skus = append(skus, it.SKU)
		}
		if it.Category != "" && !seenCat[it.Category] {
			seenCat[it.Category] = true
			cats = append(cats, it.Category)
		}
	}
	return skus, cats
}
