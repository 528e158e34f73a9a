package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultRankWindowMonths is the rolling window ranks are computed over
// unless loyalty.yaml says otherwise (ranks.window.months).
const DefaultRankWindowMonths = 12

// RankBasis names what a customer's rank is computed from.
type RankBasis string

// The bases of ranks.
const (
	// RankBySpend: the merchandise total of the orders placed in the
	// window that were not cancelled, less refunds.
	RankBySpend RankBasis = "spend"
	// RankByApprovedPoints: the points approved in the window (spending
	// them lowers nothing).
	RankByApprovedPoints RankBasis = "approved_points"
)

// Ranks is the ranks: section of loyalty.yaml (会員ランク): the member
// ranks, lowest first, and what places a customer in one.
type Ranks struct {
	// Basis is what is measured against the thresholds.
	Basis RankBasis
	// WindowMonths is the rolling window, in months before now, the
	// measure is taken over.
	WindowMonths int
	// Levels are the ranks, lowest first; the first one's threshold is 0
	// and the thresholds increase strictly.
	Levels []Rank
}

// Rank is one member rank and its perks.
type Rank struct {
	// ID is what audiences compare (customer.rank == "gold"); Name what
	// messages show (ゴールド).
	ID   string
	Name string
	// Threshold is the least measure (spend in minor units of the shop
	// currency, or points) that reaches the rank.
	Threshold int64
	// MultiplierPercent multiplies the points an order earns (100: as
	// is, 150: half as many again).
	MultiplierPercent int64
	// BirthdayBonus is the points a birthday campaign gives the rank's
	// customers (documentation for the marketer's campaign; 0 for none).
	BirthdayBonus int64
}

// rankSpec is one rank as written.
type rankSpec struct {
	ID                string `yaml:"id"`
	Name              string `yaml:"name"`
	Threshold         int64  `yaml:"threshold"`
	MultiplierPercent int64  `yaml:"multiplier_percent"`
	BirthdayBonus     int64  `yaml:"birthday_bonus"`
}

// ranksSpec is the ranks: section as written.
type ranksSpec struct {
	Basis  string `yaml:"basis"`
	Window *struct {
		Months int `yaml:"months"`
	} `yaml:"window"`
	Levels []rankSpec `yaml:"levels"`
}

// ranks compiles the ranks: section; nil when absent. Problems the schema
// cannot express (the order of the thresholds, duplicate ids) are
// reported at their node.
func (l *loader) ranks(doc *document, spec *ranksSpec) *Ranks {
	if spec == nil {
		return nil
	}
	report := func(msg string, path ...string) {
		l.report(doc.problemAt(doc.lookup(append([]string{"ranks", "levels"}, path...), false), "%s", msg))
	}
	out := &Ranks{Basis: RankBasis(spec.Basis), WindowMonths: DefaultRankWindowMonths}
	if out.Basis == "" {
		out.Basis = RankBySpend
	}
	if spec.Window != nil && spec.Window.Months > 0 {
		out.WindowMonths = spec.Window.Months
	}
	seen := map[string]bool{}
	for i, r := range spec.Levels {
		at := strconv.Itoa(i)
		switch {
		case i == 0 && r.Threshold != 0:
			report(fmt.Sprintf("ranks.levels[0].threshold must be 0 (the first rank is every customer's), got %d", r.Threshold), at, "threshold")
		case i > 0 && r.Threshold <= spec.Levels[i-1].Threshold:
			report(fmt.Sprintf("ranks.levels[%d].threshold must be more than the rank before's %d, got %d", i, spec.Levels[i-1].Threshold, r.Threshold), at, "threshold")
		}
		if seen[r.ID] {
			report(fmt.Sprintf("ranks.levels[%d].id %q is already the id of another rank", i, r.ID), at, "id")
		}
		seen[r.ID] = true
		m := r.MultiplierPercent
		if m == 0 {
			m = 100
		}
		out.Levels = append(out.Levels, Rank{ID: r.ID, Name: r.Name, Threshold: r.Threshold, MultiplierPercent: m, BirthdayBonus: r.BirthdayBonus})
	}
	return out
}

// Find returns the rank with the given id; false when there is none.
func (r *Ranks) Find(id string) (Rank, bool) {
	if r != nil {
		for _, x := range r.Levels {
			if x.ID == id {
				return x, true
			}
		}
	}
	return Rank{}, false
}

// String describes the ranks in one line, as lint prints it.
func (r *Ranks) String() string {
	if r == nil {
		return "no member ranks"
	}
	parts := make([]string, 0, len(r.Levels))
	for _, x := range r.Levels {
		parts = append(parts, fmt.Sprintf("%s from %d (x%d%%)", x.ID, x.Threshold, x.MultiplierPercent))
	}
	return fmt.Sprintf("ranks by %s over %d months: %s", r.Basis, r.WindowMonths, strings.Join(parts, ", "))
}

// Ranks returns the member ranks, nil when the shop has none (no
// loyalty.yaml, or no ranks: section in it).
func (s *Set) Ranks() *Ranks {
	if s.Loyalty == nil {
		return nil
	}
	return s.Loyalty.Ranks
}

// For returns the highest rank whose threshold measure reaches (the first
// rank when none above it is reached).
func (r *Ranks) For(measure int64) Rank {
	out := r.Levels[0]
	for _, x := range r.Levels[1:] {
		if measure >= x.Threshold {
			out = x
		}
	}
	return out
}
