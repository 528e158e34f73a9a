package rules

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultReferralsPerWeek is how many referred orders per advocate and
// week are rewarded without review unless loyalty.yaml says otherwise
// (referral.max_per_week).
const DefaultReferralsPerWeek = 5

// Referral is the referral programme (紹介), the referral: section of
// loyalty.yaml: what the friend gets on a first order carrying an
// advocate's code, what the advocate gets once that order passes the
// return window, and when referrals go to review.
type Referral struct {
	// Friend is the friend's discount, applied by the shop's checkout.
	Friend Discount
	// AdvocatePoints are the points the advocate is given; AdvocateCoupon
	// the coupon instead (exactly one of the two is set).
	AdvocatePoints int64
	AdvocateCoupon *CouponSpec
	// MaxPerWeek is how many referred orders per advocate and week are
	// rewarded without a look; the ones beyond go to review.
	MaxPerWeek int
	// LandingURL is where the referral link leads, with {code} for the
	// code; "" for the shop's URL with ?ref={code}.
	LandingURL string
}

// Discount is an amount or a percentage off an order of at least
// MinOrder (minor units of the shop currency).
type Discount struct {
	PercentOff int
	AmountOff  int64
	MinOrder   int64
}

// referralSpec is the referral: section as written.
type referralSpec struct {
	Friend struct {
		PercentOff int   `yaml:"percent_off"`
		AmountOff  int64 `yaml:"amount_off"`
		MinOrder   int64 `yaml:"min_order"`
	} `yaml:"friend"`
	Advocate struct {
		Points int64       `yaml:"points"`
		Coupon *actionSpec `yaml:"coupon"`
	} `yaml:"advocate"`
	MaxPerWeek int    `yaml:"max_per_week"`
	LandingURL string `yaml:"landing_url"`
}

// referral compiles the referral: section; nil when absent. Problems the
// schema cannot express (one of two fields) are reported at their node.
func (l *loader) referral(doc *document, spec *referralSpec) *Referral {
	if spec == nil {
		return nil
	}
	report := func(msg string, path ...string) {
		l.report(doc.problemAt(doc.lookup(append([]string{"referral"}, path...), true), "%s", msg))
	}
	f := spec.Friend
	switch {
	case f.PercentOff > 0 && f.AmountOff > 0:
		report("referral.friend takes percent_off or amount_off, not both", "friend", "amount_off")
	case f.PercentOff == 0 && f.AmountOff == 0:
		report("referral.friend needs percent_off or amount_off", "friend")
	}
	out := &Referral{Friend: Discount{PercentOff: f.PercentOff, AmountOff: f.AmountOff, MinOrder: f.MinOrder},
		AdvocatePoints: spec.Advocate.Points, MaxPerWeek: DefaultReferralsPerWeek, LandingURL: spec.LandingURL}
	if c := spec.Advocate.Coupon; c != nil {
		out.AdvocateCoupon = &CouponSpec{Name: c.Name, PercentOff: c.PercentOff, AmountOff: c.AmountOff, MinOrder: c.MinOrder}
		out.AdvocateCoupon.ExpiresIn, _ = ParseDuration(c.ExpiresIn) // checked by the schema format
		switch {
		case c.PercentOff > 0 && c.AmountOff > 0:
			report("referral.advocate.coupon takes percent_off or amount_off, not both", "advocate", "coupon", "amount_off")
		case c.PercentOff == 0 && c.AmountOff == 0:
			report("referral.advocate.coupon needs percent_off or amount_off", "advocate", "coupon")
		}
	}
	switch {
	case out.AdvocatePoints > 0 && out.AdvocateCoupon != nil:
		report("referral.advocate takes points or coupon, not both", "advocate", "coupon")
	case out.AdvocatePoints == 0 && out.AdvocateCoupon == nil:
		report("referral.advocate needs points or coupon", "advocate")
	}
	if spec.MaxPerWeek > 0 {
		out.MaxPerWeek = spec.MaxPerWeek
	}
	return out
}

// Link returns the referral link's destination for a code: LandingURL
// with the code in place of {code}, or shopURL with ?ref=<code>.
func (r *Referral) Link(shopURL, code string) string {
	if r.LandingURL != "" {
		return strings.ReplaceAll(r.LandingURL, "{code}", url.QueryEscape(code))
	}
	u, err := url.Parse(shopURL)
	if err != nil {
		return shopURL
	}
	if u.Path == "" {
		u.Path = "/"
	}
	q := u.Query()
	q.Set("ref", code)
	u.RawQuery = q.Encode()
	return u.String()
}

// Reward describes the advocate's reward in one line, as lint prints it.
func (r *Referral) Reward() string {
	if r.AdvocateCoupon != nil {
		return "a coupon valid " + FormatDuration(r.AdvocateCoupon.ExpiresIn)
	}
	return fmt.Sprintf("%d points", r.AdvocatePoints)
}

// Offer is the programme as a message shows it: the friend's discount
// ("500円引き") and the advocate's reward ("500ポイント", or the coupon's
// name or discount).
func (s *Set) Offer() (friend, reward string) {
	r := s.Referral()
	if r == nil {
		return "", ""
	}
	friend = s.Discount(r.Friend.PercentOff, r.Friend.AmountOff)
	switch c := r.AdvocateCoupon; {
	case c == nil:
		reward = japanese.Sprintf("%dポイント", r.AdvocatePoints)
	case c.Name != "":
		reward = c.Name
	default:
		reward = s.Discount(c.PercentOff, c.AmountOff) + "クーポン"
	}
	return friend, reward
}

// String describes the programme in one line, as lint prints it.
func (r *Referral) String() string {
	if r == nil {
		return "no referral programme"
	}
	friend := fmt.Sprintf("%d off", r.Friend.AmountOff)
	if r.Friend.PercentOff > 0 {
		friend = fmt.Sprintf("%d%% off", r.Friend.PercentOff)
	}
	return fmt.Sprintf("referral: the friend gets %s, the advocate %s after the return window; over %d a week to review", friend, r.Reward(), r.MaxPerWeek)
}

// Referral returns the referral programme, nil when the shop runs none
// (no loyalty.yaml, or no referral: section in it).
func (s *Set) Referral() *Referral {
	if s.Loyalty == nil {
		return nil
	}
	return s.Loyalty.Referral
}
