package rules

import (
	"sort"
	"time"

	"github.com/expr-lang/expr"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// Env is everything an audience expression can see. Expressions are
// compiled against it once, at load, so a misspelt field is a lint error.
type Env struct {
	Customer CustomerFacts `expr:"customer"`
	Order    OrderFacts    `expr:"order"`
	// Event is the trigger being evaluated, such as "order.created".
	Event string `expr:"event"`
	// DaysSinceLastOrder counts whole days from the customer's latest
	// standing order to now (-1 for none).
	DaysSinceLastOrder int `expr:"days_since_last_order"`
	// BoughtCategory reports whether the customer ever bought the category.
	BoughtCategory func(category string) bool `expr:"bought_category"`
	// BoughtBrand reports whether the customer ever bought the brand.
	BoughtBrand func(brand string) bool `expr:"bought_brand"`
	// HasCoupon reports whether this order used a coupon code.
	HasCoupon bool `expr:"has_coupon"`
	// InSegment reports whether the customer is in a named segment of
	// segments.yaml.
	InSegment func(name string) bool `expr:"in_segment"`
	// DaysSinceBought counts whole days since the customer last bought a
	// product (-1 for never).
	DaysSinceBought func(sku string) int `expr:"days_since_bought"`
	// ReplenishSKU is the product a lifecycle.replenishment trigger is
	// about ("" for other triggers).
	ReplenishSKU string `expr:"replenish_sku"`
	// PointsExpiring is the approved points a loyalty.points_expiring
	// trigger warns of, and PointsDaysLeft the whole days until they
	// lapse (0 for other triggers).
	PointsExpiring int64 `expr:"points_expiring"`
	PointsDaysLeft int   `expr:"points_days_left"`
}

// CustomerFacts is the customer as expressions see them.
type CustomerFacts struct {
	ID           string `expr:"id"`
	OrderCount   int    `expr:"order_count"`
	TotalSpent   int64  `expr:"total_spent"`
	AverageOrder int64  `expr:"average_order"`
	Stage        string `expr:"stage"`
	R            int    `expr:"r"`
	F            int    `expr:"f"`
	M            int    `expr:"m"`
	// Decile ranks total spent among all customers: 1 (lowest) to 10.
	Decile           int            `expr:"decile"`
	AcceptsMarketing bool           `expr:"accepts_marketing"`
	HasEmail         bool           `expr:"has_email"`
	HasLine          bool           `expr:"has_line"`
	Categories       map[string]int `expr:"categories"`
	Brands           map[string]int `expr:"brands"`
	// LastNPS is the latest "would you recommend" score (0-10), -1 when the
	// customer never answered a survey.
	LastNPS int `expr:"last_nps"`
	// Rank is the id of the customer's member rank (loyalty.yaml ranks:),
	// "" when the shop has no ranks or the customer has none yet.
	Rank string `expr:"rank"`
}

// OrderFacts is the triggering order as expressions see it.
type OrderFacts struct {
	ID          string   `expr:"id"`
	Total       int64    `expr:"total"`
	Currency    string   `expr:"currency"`
	ItemCount   int      `expr:"item_count"`
	Categories  []string `expr:"categories"`
	Brands      []string `expr:"brands"`
	SKUs        []string `expr:"skus"`
	CouponCodes []string `expr:"coupon_codes"`
	// First is true when this is the customer's first standing order.
	First bool `expr:"first"`
}

// NewEnv builds the expression environment for one customer and order at
// time now, scoring the customer with the shop's thresholds and the decile
// bounds given (the nightly job's, or the configured ones).
func (s *Set) NewEnv(event string, p customer.Profile, o order.Order, deciles [9]int64, now time.Time) Env {
	th := s.Settings.Thresholds
	rfm := p.ScoreAt(th, now)
	env := Env{
		Event: event,
		Customer: CustomerFacts{
			ID: p.ID, OrderCount: p.OrderCount, TotalSpent: p.TotalSpent, AverageOrder: p.AverageOrder,
			Stage: string(p.StageAt(th, now)), R: rfm.R, F: rfm.F, M: rfm.M, Decile: decile(p.TotalSpent, deciles),
			AcceptsMarketing: p.MarketingAllowed(), HasEmail: p.Email != "", HasLine: p.LineUserID != "",
			Categories: p.CategoryCounts, Brands: p.BrandCounts, LastNPS: p.NPS(), Rank: p.Rank,
		},
		Order:              OrderFacts{ID: o.ID, Total: o.Total, Currency: o.Currency, CouponCodes: o.CouponCodes, SKUs: []string{}, Categories: []string{}, Brands: []string{}},
		DaysSinceLastOrder: p.DaysSinceLastOrder(now),
		BoughtCategory:     func(c string) bool { return p.CategoryCounts[c] > 0 },
		BoughtBrand:        func(b string) bool { return p.BrandCounts[b] > 0 },
		HasCoupon:          len(o.CouponCodes) > 0,
		DaysSinceBought:    func(sku string) int { return p.DaysSinceBought(sku, now) },
	}
	cats, brands := map[string]bool{}, map[string]bool{}
	for _, it := range o.Products() {
		env.Order.ItemCount += it.Quantity
		env.Order.SKUs = append(env.Order.SKUs, it.SKU)
		if it.Category != "" && !cats[it.Category] {
			cats[it.Category] = true
			env.Order.Categories = append(env.Order.Categories, it.Category)
		}
		if it.Brand != "" && !brands[it.Brand] {
			brands[it.Brand] = true
			env.Order.Brands = append(env.Order.Brands, it.Brand)
		}
	}
	sort.Strings(env.Order.Categories)
	sort.Strings(env.Order.Brands)
	if sum, ok := p.Orders[o.ID]; ok && sum.Status != order.Cancelled {
		env.Order.First = p.OrderCount == 1 || !p.FirstOrderAt.Before(sum.PlacedAt)
	}
	memo := map[string]bool{}
	env.InSegment = func(name string) bool {
		if v, ok := memo[name]; ok {
			return v
		}
		seg := s.Segments[name]
		if seg == nil {
			return false
		}
		out, err := expr.Run(seg.program, &env)
		memo[name] = err == nil && out == true
		return memo[name]
	}
	return env
}
