package rules

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// LoyaltyFile is the points programme inside the rules directory. It is
// optional: without it, the shop runs no programme.
const LoyaltyFile = "loyalty.yaml"

// DefaultReturnWindow is how long after delivery an order's points stay
// pending unless loyalty.yaml says otherwise (return_window).
const DefaultReturnWindow = 14 * 24 * time.Hour

// Loyalty is rules/loyalty.yaml: how orders earn points and how long the
// points stay pending and valid.
type Loyalty struct {
	// AmountPerPoint is the merchandise amount, in minor units of the
	// shop currency, that earns one point.
	AmountPerPoint int64
	// ReturnWindow is how long after delivery an order's points stay
	// pending before they are approved.
	ReturnWindow time.Duration
	// ExpiryMonths is how many months without an order approved points
	// last; 0 when they never expire.
	ExpiryMonths int
	// ExpiryWarnings are how long before points expire the
	// loyalty.points_expiring campaigns run, longest first.
	ExpiryWarnings []time.Duration
	// Referral is the referral programme (referral.go), nil when the
	// file has no referral: section.
	Referral *Referral
	// Rewards are what approved points can be exchanged for
	// (rewards.go); none without a rewards: section.
	Rewards []Reward
	// ReviewPoints is what a customer's review of a product they ordered
	// earns, whatever its rating (reviews: points); 0 when reviews earn
	// nothing.
	ReviewPoints int64
	// Ranks are the member ranks (rank.go), nil when the file has no
	// ranks: section.
	Ranks *Ranks
	// Rate exchanges points in steps for a coupon of their value
	// (rewards.go); nil without rewards.rate.
	Rate *RewardRate
	// RewardValidity is how long a coupon bought with points is valid.
	RewardValidity time.Duration
}

// loyaltySpec is loyalty.yaml as written.
type loyaltySpec struct {
	Earn struct {
		AmountPerPoint int64 `yaml:"amount_per_point"`
	} `yaml:"earn"`
	ReturnWindow string `yaml:"return_window"`
	Expiry       *struct {
		MonthsWithoutOrder int      `yaml:"months_without_order"`
		WarnBefore         []string `yaml:"warn_before"`
	} `yaml:"expiry"`
	Referral *referralSpec `yaml:"referral"`
	Rewards  *rewardsSpec  `yaml:"rewards"`
	Reviews  *struct {
		Points int64 `yaml:"points"`
	} `yaml:"reviews"`
	Ranks *ranksSpec `yaml:"ranks"`
}

// loadLoyalty reads loyalty.yaml; nil when the shop has none or when it
// has problems (reported).
func (l *loader) loadLoyalty() *Loyalty {
	if _, err := fs.Stat(l.fsys, LoyaltyFile); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	l.hasLoyalty = true
	doc := l.readDoc(LoyaltyFile, compiledSchemas["loyalty"])
	if doc == nil {
		return nil
	}
	var spec loyaltySpec
	if err := doc.root.Decode(&spec); err != nil {
		l.report(doc.problemAt(doc.root, "%v", err))
		return nil
	}
	out := &Loyalty{AmountPerPoint: spec.Earn.AmountPerPoint, ReturnWindow: DefaultReturnWindow}
	if spec.ReturnWindow != "" {
		out.ReturnWindow, _ = ParseDuration(spec.ReturnWindow) // checked by the schema format
	}
	if spec.Expiry != nil {
		out.ExpiryMonths = spec.Expiry.MonthsWithoutOrder
		for _, w := range spec.Expiry.WarnBefore {
			d, _ := ParseDuration(w) // checked by the schema format
			out.ExpiryWarnings = append(out.ExpiryWarnings, d)
		}
		slices.SortFunc(out.ExpiryWarnings, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	}
	out.Referral = l.referral(doc, spec.Referral)
	l.rewards(doc, spec.Rewards, out)
	if spec.Reviews != nil {
		out.ReviewPoints = spec.Reviews.Points
	}
	out.Ranks = l.ranks(doc, spec.Ranks)
	return out
}

// String describes the programme in one line, as lint prints it.
func (y *Loyalty) String() string {
	if y == nil {
		return "no points programme"
	}
	s := fmt.Sprintf("1 point per %d of merchandise, pending %s after delivery", y.AmountPerPoint, FormatDuration(y.ReturnWindow))
	if y.ExpiryMonths > 0 {
		s += fmt.Sprintf(", expiring after %d months without an order", y.ExpiryMonths)
		for i, w := range y.ExpiryWarnings {
			if i == 0 {
				s += " (warned"
			} else {
				s += ","
			}
			s += " " + FormatDuration(w) + " before"
		}
		if len(y.ExpiryWarnings) > 0 {
			s += ")"
		}
	}
	return s
}
