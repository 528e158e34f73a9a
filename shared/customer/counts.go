package customer

import (
	"maps"
	"strconv"
	"time"
)

// Before is what OrderCounts needs of a profile as it was before a
// delivery was applied: a copy that the delivery's changes leave alone.
type Before struct {
	orders       map[string]OrderSummary
	orderCount   int
	firstOrderAt time.Time
	lastArchived time.Time
	categories   map[string]int
}

// Before copies what OrderCounts compares: call it before applying a
// delivery to the profile.
func (p *Profile) Before() Before {
	return Before{orders: maps.Clone(p.Orders), orderCount: p.OrderCount, firstOrderAt: p.FirstOrderAt,
		lastArchived: p.Archive.LastOrderAt, categories: maps.Clone(p.CategoryCounts)}
}

// Counts is what one applied delivery adds to the shop's daily counters,
// all on one shop-zone day (Day). Placed and Cancelled say whether the
// delivery newly placed or newly cancelled the order in this profile.
type Counts struct {
	Placed, Cancelled bool
	Day               time.Time
	Counts            map[string]int64
}

// OrderCounts tells what a delivery of order orderID did to the shop's
// counters, from the profile before it (b) and after it (p): an order
// newly standing counts orders, revenue (in currency, the shop's),
// first_orders or repeat_orders, cross_sell_orders (a category the
// customer had not bought), coupon_orders (coupon: the order used a
// code), second30/60/90_<first-order date> (the customer's second order
// placed, within that many days of the first; once, even when that order
// is cancelled later) and active_<first-order month> (the customer's
// first order in a calendar month), on the day it was placed; an order
// newly cancelled counts cancelled on eventAt's day. A delivery that
// changed neither, a retry or a duplicate, counts nothing. Days and months
// are the shop's (loc). An order older than the latest MaxRecentOrders of
// its customer is not listed and counts nothing.
func (p *Profile) OrderCounts(b Before, orderID, currency string, coupon bool, eventAt time.Time, loc *time.Location) Counts {
	old, had := b.orders[orderID]
	now, has := p.Orders[orderID]
	wasStanding, standing := had && old.counts(), has && now.counts()
	switch {
	case wasStanding && has && now.Status.Rank() > old.Status.Rank() && !standing:
		return Counts{Cancelled: true, Day: eventAt, Counts: map[string]int64{"cancelled": 1}}
	case wasStanding || !standing:
		return Counts{}
	}
	c := map[string]int64{"orders": 1}
	if now.Currency == currency {
		c["revenue"] = now.Total
	}
	if coupon {
		c["coupon_orders"] = 1
	}
	month := func(t time.Time) string { return t.In(loc).Format("2006-01") }
	if b.orderCount == 0 {
		c["first_orders"] = 1
		c["active_"+month(now.PlacedAt)] = 1
		return Counts{Placed: true, Day: now.PlacedAt, Counts: c}
	}
	c["repeat_orders"] = 1
	for cat := range now.Categories {
		if b.categories[cat] == 0 {
			c["cross_sell_orders"] = 1
		}
	}
	first := b.firstOrderAt
	if b.orderCount == 1 && b.placedBefore(orderID) == 1 {
		for _, days := range []int{30, 60, 90} {
			if now.PlacedAt.Sub(first) <= time.Duration(days)*24*time.Hour {
				c["second"+strconv.Itoa(days)+"_"+first.In(loc).Format(time.DateOnly)] = 1
			}
		}
	}
	if b.activeIn(month(now.PlacedAt), orderID, month) {
		return Counts{Placed: true, Day: now.PlacedAt, Counts: c}
	}
	c["active_"+month(first)] = 1
	return Counts{Placed: true, Day: now.PlacedAt, Counts: c}
}

// placedBefore counts the orders listed with their details, standing or
// cancelled, other than orderID: a customer whose second order was
// cancelled has made their second purchase, and a later one is no second.
func (b Before) placedBefore(orderID string) int {
	n := 0
	for id, s := range b.orders {
		if id != orderID && s.HasDetails {
			n++
		}
	}
	return n
}

// activeIn reports whether the profile had another standing order placed
// in the month (the latest folded one stands for the archive).
func (b Before) activeIn(m, orderID string, month func(time.Time) string) bool {
	for id, s := range b.orders {
		if id != orderID && s.counts() && month(s.PlacedAt) == m {
			return true
		}
	}
	return !b.lastArchived.IsZero() && month(b.lastArchived) == m
}
