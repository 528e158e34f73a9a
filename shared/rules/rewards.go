package rules

import (
	"strconv"
	"strings"
	"time"
)

// DefaultRewardValidity is how long a coupon bought with points is valid
// unless loyalty.yaml says otherwise (rewards.expires_in).
const DefaultRewardValidity = 90 * 24 * time.Hour

// Reward is one thing a customer can exchange approved points for: a
// single-use coupon of AmountOff (minor units of the shop currency) on an
// order of at least MinOrder.
type Reward struct {
	ID        string
	Name      string
	Points    int64
	AmountOff int64
	MinOrder  int64
	// ExpiresIn is how long the coupon is valid once issued.
	ExpiresIn time.Duration
}

// RatePrefix begins the id of a reward bought at the rate: "pt-1200" is
// 1,200 points exchanged at rewards.rate. Fixed rewards may not use it.
const RatePrefix = "pt-"

// RewardRate exchanges any multiple of Step approved points for a coupon
// worth ValuePerPoint (minor units) a point, up to MaxPoints (0: no
// limit) at once.
type RewardRate struct {
	ValuePerPoint int64
	Step          int64
	MaxPoints     int64
	MinOrder      int64
}

// rewardsSpec is the rewards: section of loyalty.yaml as written.
type rewardsSpec struct {
	ExpiresIn string `yaml:"expires_in"`
	Rate      *struct {
		ValuePerPoint int64 `yaml:"value_per_point"`
		Step          int64 `yaml:"step"`
		MaxPoints     int64 `yaml:"max_points"`
		MinOrder      int64 `yaml:"min_order"`
	} `yaml:"rate"`
	Options []struct {
		ID        string `yaml:"id"`
		Name      string `yaml:"name"`
		Points    int64  `yaml:"points"`
		AmountOff int64  `yaml:"amount_off"`
		MinOrder  int64  `yaml:"min_order"`
	} `yaml:"options"`
}

// rewards compiles the rewards: section into its fixed rewards and its
// rate (both empty when absent); ids must be unique and may not begin
// with RatePrefix; options or a rate must be given; max_points, when set, is a multiple of step.
func (l *loader) rewards(doc *document, spec *rewardsSpec, out *Loyalty) {
	if spec == nil {
		return
	}
	validity := DefaultRewardValidity
	if spec.ExpiresIn != "" {
		validity, _ = ParseDuration(spec.ExpiresIn) // checked by the schema format
	}
	out.RewardValidity = validity
	if len(spec.Options) == 0 && spec.Rate == nil {
		l.report(doc.problemAt(doc.lookup([]string{"rewards"}, true), "rewards: needs options, a rate or both"))
	}
	seen := map[string]bool{}
	for i, o := range spec.Options {
		at := doc.lookup([]string{"rewards", "options", strconv.Itoa(i), "id"}, true)
		if seen[o.ID] {
			l.report(doc.problemAt(at, "rewards.options: id %q is used twice", o.ID))
		}
		if strings.HasPrefix(o.ID, RatePrefix) {
			l.report(doc.problemAt(at, "rewards.options: id %q begins with %q, kept for the rate's rewards", o.ID, RatePrefix))
		}
		seen[o.ID] = true
		out.Rewards = append(out.Rewards, Reward{ID: o.ID, Name: o.Name, Points: o.Points, AmountOff: o.AmountOff, MinOrder: o.MinOrder, ExpiresIn: validity})
	}
	if r := spec.Rate; r != nil {
		if r.MaxPoints > 0 && r.MaxPoints%r.Step != 0 {
			l.report(doc.problemAt(doc.lookup([]string{"rewards", "rate", "max_points"}, false), "rewards.rate.max_points %d is not a multiple of step %d", r.MaxPoints, r.Step))
		}
		out.Rate = &RewardRate{ValuePerPoint: r.ValuePerPoint, Step: r.Step, MaxPoints: r.MaxPoints, MinOrder: r.MinOrder}
	}
}

// HasRewards says whether points can be spent at all.
func (y *Loyalty) HasRewards() bool {
	return y != nil && (len(y.Rewards) > 0 || y.Rate != nil)
}

// rateReward is the reward of points bought at the rate.
func (y *Loyalty) rateReward(points int64) Reward {
	return Reward{ID: RatePrefix + strconv.FormatInt(points, 10), Name: Number(points) + " pt分のクーポン", Points: points,
		AmountOff: points * y.Rate.ValuePerPoint, MinOrder: y.Rate.MinOrder, ExpiresIn: y.RewardValidity}
}

// Offers are the rewards to show a customer with approved points: the
// fixed rewards, then, with a rate, the largest exchange the balance
// covers (one step when it covers none, to say where exchanges begin).
func (y *Loyalty) Offers(approved int64) []Reward {
	if !y.HasRewards() {
		return nil
	}
	out := append([]Reward(nil), y.Rewards...)
	if y.Rate != nil {
		n := max(approved/y.Rate.Step*y.Rate.Step, y.Rate.Step)
		if y.Rate.MaxPoints > 0 {
			n = min(n, y.Rate.MaxPoints)
		}
		out = append(out, y.rateReward(n))
	}
	return out
}

// RewardByID is the programme's reward id; false when there is none.
func (y *Loyalty) RewardByID(id string) (Reward, bool) {
	if y == nil {
		return Reward{}, false
	}
	if n, ok := strings.CutPrefix(id, RatePrefix); ok && y.Rate != nil {
		points, err := strconv.ParseInt(n, 10, 64)
		if err != nil || points <= 0 || points%y.Rate.Step != 0 || (y.Rate.MaxPoints > 0 && points > y.Rate.MaxPoints) || strconv.FormatInt(points, 10) != n {
			return Reward{}, false
		}
		return y.rateReward(points), true
	}
	for _, r := range y.Rewards {
		if r.ID == id {
			return r, true
		}
	}
	return Reward{}, false
}

// Label says what a reward's coupon gives, in the shop's currency:
// "500円引き（3,000円以上のご注文で）".
func (r Reward) Label(currency string) string {
	label := Money(r.AmountOff, currency) + "引き"
	if r.MinOrder > 0 {
		label += "（" + Money(r.MinOrder, currency) + "以上のご注文で）"
	}
	return label
}
