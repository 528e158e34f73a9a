package customer

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// Bounds that keep a profile the same size however many orders a customer
// places: DynamoDB refuses items over 400 KB, and a profile that can no
// longer be written would fail every later delivery of that customer.
const (
	// MaxRecentOrders is how many of the latest orders a profile keeps one
	// by one (Orders); older ones are folded into Archive's totals.
	MaxRecentOrders = 100
	// maxArchivedKeys bounds the archive's counts by category, by brand and
	// its last-bought times by product; the smallest (oldest) go first.
	maxArchivedKeys = 200
	// maxAppliedChanges is how many order changes the profile remembers
	// having applied, so that a retried delivery is not counted twice.
	maxAppliedChanges = 64
	// maxSummaryKeys bounds the products, categories and brands one order's
	// summary keeps (a wholesale order may carry a thousand).
	maxSummaryKeys = 50
	// maxRecentBytes bounds the recent orders' estimated size: beyond it
	// the oldest are folded even while fewer than MaxRecentOrders are
	// listed. With the archive's bounds and ids of at most 200 bytes, a
	// profile stays well under 400 KB.
	maxRecentBytes = 128 * 1024
)

// bounded keeps at most maxSummaryKeys products (the first in sort order),
// categories and brands (the largest counts) of a summary.
func (s OrderSummary) bounded() OrderSummary {
	if len(s.SKUs) > maxSummaryKeys {
		s.SKUs = s.SKUs[:maxSummaryKeys]
	}
	s.Categories = keepLargestN(s.Categories, maxSummaryKeys, func(x, y int) int { return x - y })
	s.Brands = keepLargestN(s.Brands, maxSummaryKeys, func(x, y int) int { return x - y })
	return s
}

// size estimates what a summary adds to the profile item: its id, keys
// and a fixed part for the times, amounts and status.
func (s OrderSummary) size(id string) int {
	n := 120 + len(id)
	for _, sku := range s.SKUs {
		n += len(sku) + 1
	}
	for k := range s.Categories {
		n += len(k) + 8
	}
	for k := range s.Brands {
		n += len(k) + 8
	}
	return n
}

// Archive holds what a profile keeps of the orders folded out of Orders:
// sums, not a list, so its size does not grow with the number of orders.
// Cancelled orders and orders without details count nothing.
type Archive struct {
	// Currency is the shop currency Spent is counted in (set at the first fold).
	Currency string `dynamodbav:"currency,omitempty"`
	// Through is the latest placement time folded; every order placed at
	// or before it that is not in Orders is counted here (or was cancelled).
	Through time.Time `dynamodbav:"through"`
	// Orders and Spent count the standing orders; Spent and SpentOrders
	// only those in the shop currency.
	Orders      int   `dynamodbav:"orders"`
	Spent       int64 `dynamodbav:"spent"`
	SpentOrders int   `dynamodbav:"spent_orders"`
	// FirstOrderAt and LastOrderAt are the earliest and latest placement
	// times among the standing orders folded.
	FirstOrderAt time.Time      `dynamodbav:"first_order_at"`
	LastOrderAt  time.Time      `dynamodbav:"last_order_at"`
	Categories   map[string]int `dynamodbav:"categories,omitempty"`
	Brands       map[string]int `dynamodbav:"brands,omitempty"`
	// LastBought is when each product was last bought among the folded
	// orders (for replenishment), the most recent maxArchivedKeys only.
	LastBought map[string]time.Time `dynamodbav:"last_bought,omitempty"`
}

// Transition is what one delivery did to the stored order: Key names the
// delivery (empty when it moved nothing) and From is the status it moved
// the order from ("" when the delivery is the first the store has of the
// order). The store reports it; a profile uses it for orders already
// folded into its archive, where it no longer keeps the order's status.
type Transition struct {
	Key  string
	From order.EventType
}

// counts reports whether a summary counts in the statistics.
func (s OrderSummary) counts() bool { return s.Status != order.Cancelled && s.HasDetails }

// add adds (sign 1) or takes out (sign -1) a standing order's summary.
func (a *Archive) add(s OrderSummary, sign int) {
	if !s.counts() {
		return
	}
	a.Orders += sign
	if s.Currency == a.Currency {
		a.Spent += int64(sign) * s.Total
		a.SpentOrders += sign
	}
	a.Categories = addCounts(a.Categories, s.Categories, sign)
	a.Brands = addCounts(a.Brands, s.Brands, sign)
	if sign < 0 {
		return
	}
	if a.FirstOrderAt.IsZero() || s.PlacedAt.Before(a.FirstOrderAt) {
		a.FirstOrderAt = s.PlacedAt
	}
	if s.PlacedAt.After(a.LastOrderAt) {
		a.LastOrderAt = s.PlacedAt
	}
	for _, sku := range s.SKUs {
		if s.PlacedAt.After(a.LastBought[sku]) {
			if a.LastBought == nil {
				a.LastBought = map[string]time.Time{}
			}
			a.LastBought[sku] = s.PlacedAt
		}
	}
	a.LastBought = keepLargest(a.LastBought, func(x, y time.Time) int { return x.Compare(y) })
}

func addCounts(dst, src map[string]int, sign int) map[string]int {
	for k, n := range src {
		if dst == nil {
			dst = map[string]int{}
		}
		dst[k] += sign * n
		if dst[k] <= 0 {
			delete(dst, k)
		}
	}
	return keepLargest(dst, func(x, y int) int { return x - y })
}

// keepLargest drops the smallest entries (ties: the greatest keys) of a
// map over maxArchivedKeys entries.
func keepLargest[V any](m map[string]V, cmp func(V, V) int) map[string]V {
	return keepLargestN(m, maxArchivedKeys, cmp)
}

// keepLargestN drops the smallest entries (ties: the greatest keys) of a
// map over n entries.
func keepLargestN[V any](m map[string]V, n int, cmp func(V, V) int) map[string]V {
	if len(m) <= n {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c := cmp(m[keys[i]], m[keys[j]]); c != 0 {
			return c > 0
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[n:] {
		delete(m, k)
	}
	return m
}

// foldOldest moves the oldest orders out of Orders into the archive until
// at most MaxRecentOrders remain, within maxRecentBytes.
func (p *Profile) foldOldest(currency string) {
	size := 0
	for id, s := range p.Orders {
		size += s.size(id)
	}
	if len(p.Orders) <= MaxRecentOrders && size <= maxRecentBytes {
		return
	}
	if p.Archive.Currency == "" {
		p.Archive.Currency = currency
	}
	ids := make([]string, 0, len(p.Orders))
	for id := range p.Orders {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := p.Orders[ids[i]], p.Orders[ids[j]]
		if !a.PlacedAt.Equal(b.PlacedAt) {
			return a.PlacedAt.Before(b.PlacedAt)
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		if len(p.Orders) <= MaxRecentOrders && size <= maxRecentBytes {
			break
		}
		s := p.Orders[id]
		p.Archive.add(s, 1)
		if s.PlacedAt.After(p.Archive.Through) {
			p.Archive.Through = s.PlacedAt
		}
		size -= s.size(id)
		delete(p.Orders, id)
	}
}

// archived reports whether an order placed at t belongs to the archive:
// placed at or before the latest order folded.
func (p *Profile) archived(t time.Time) bool {
	return !p.Archive.Through.IsZero() && !t.After(p.Archive.Through)
}

// applyArchived applies a delivery's change to an order in the archived
// range: the move from tr.From to s's status, once per delivery.
func (p *Profile) applyArchived(orderID string, s OrderSummary, tr Transition) bool {
	if tr.Key == "" || slices.Contains(p.Applied, tr.Key) {
		return false
	}
	seen := seenKey(orderID)
	before := s
	before.Status = tr.From
	// From "": the store had not seen the order before this delivery, so
	// nothing of it is counted yet (an old order arriving late, or
	// imported), unless a later delivery of the same order, applied
	// first, brought it in already (seen).
	switch {
	case tr.From == "" && slices.Contains(p.Applied, seen):
	case tr.From != "" && before.counts() && !s.counts():
		p.Archive.add(before, -1)
	case (tr.From == "" || !before.counts()) && s.counts():
		p.Archive.add(s, 1)
		p.noteApplied(seen)
	}
	p.noteApplied(tr.Key)
	return true
}

// seenKey is what Applied holds for an order the profile has counted in
// (listed or summed), short whatever the order id's length.
func seenKey(orderID string) string {
	sum := sha256.Sum256([]byte(orderID))
	return "o:" + hex.EncodeToString(sum[:6])
}

// noteApplied remembers a delivery's change as applied, forgetting the
// oldest beyond maxAppliedChanges.
func (p *Profile) noteApplied(key string) {
	if key == "" || slices.Contains(p.Applied, key) {
		return
	}
	p.Applied = append(p.Applied, key)
	if n := len(p.Applied) - maxAppliedChanges; n > 0 {
		p.Applied = slices.Delete(p.Applied, 0, n)
	}
}
