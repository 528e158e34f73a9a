package rules

import (
	"strconv"
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

// rewardsSpec is the rewards: section of loyalty.yaml as written.
type rewardsSpec struct {
	ExpiresIn string `yaml:"expires_in"`
	Options   []struct {
		ID        string `yaml:"id"`
		Name      string `yaml:"name"`
		Points    int64  `yaml:"points"`
		AmountOff int64  `yaml:"amount_off"`
		MinOrder  int64  `yaml:"min_order"`
	} `yaml:"options"`
}

// rewards compiles the rewards: section (nil when absent); ids must be
// unique.
func (l *loader) rewards(doc *document, spec *rewardsSpec) []Reward {
	if spec == nil {
		return nil
	}
	validity := DefaultRewardValidity
	if spec.ExpiresIn != "" {
		validity, _ = ParseDuration(spec.ExpiresIn) // checked by the schema format
	}
	seen := map[string]bool{}
	var out []Reward
	for i, o := range spec.Options {
		if seen[o.ID] {
			l.report(doc.problemAt(doc.lookup([]string{"rewards", "options", strconv.Itoa(i), "id"}, true), "rewards.options: id %q is used twice", o.ID))
		}
		seen[o.ID] = true
		out = append(out, Reward{ID: o.ID, Name: o.Name, Points: o.Points, AmountOff: o.AmountOff, MinOrder: o.MinOrder, ExpiresIn: validity})
	}
	return out
}

// RewardByID is the programme's reward id; false when there is none.
func (y *Loyalty) RewardByID(id string) (Reward, bool) {
	if y == nil {
		return Reward{}, false
	}
	for _, r := range y.Rewards {
		if r.ID == id {
			return r, true
		}
	}
	return Reward{}, false
}
