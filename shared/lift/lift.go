// Package lift judges whether a campaign caused what its treated customers
// did: conversion rate and revenue per customer of the treated group
// against a held-out group counted from the same decision point, the
// relative lift, the incremental orders and revenue, 95% confidence
// intervals and p-values (a two-proportion z-test for conversion, Welch's
// t-interval for revenue per customer), a chi-squared test across A/B
// variants, and the sample a group needs before any of it means anything.
//
// The inputs are the campaign counters of shared/store (assigned_<group>,
// converted_<group>, revenue_<group>, revenue_sq_<group>); the
// distributions are gonum's.
package lift

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Design figures: what a marketer's test is sized for.
const (
	// Alpha is the significance level of every test and interval (95%).
	Alpha = 0.05
	// Power is the chance a test of MinSample customers per group finds a
	// lift of DetectableLift when there is one.
	Power = 0.80
	// DetectableLift is the relative lift a test is sized to find (10%).
	DetectableLift = 0.10
)

// Group names of the counters: a campaign's treated and held-out
// customers, and the global control group's.
const (
	Treatment = "treatment"
	Holdout   = "holdout"
	Exposed   = "exposed"
	Control   = "control"
)

// Group is what the counters say of one group: how many customers were
// assigned to it, how many of them ordered within the conversion window,
// and the sum and sum of squares of each customer's revenue (minor units).
type Group struct {
	Customers int64
	Converted int64
	Revenue   float64
	RevenueSq float64
}

// GroupOf reads group name from counters (a store.Counts is one).
func GroupOf(counts map[string]int64, name string) Group {
	return Group{
		Customers: counts["assigned_"+name],
		Converted: counts["converted_"+name],
		Revenue:   float64(counts["revenue_"+name]),
		RevenueSq: float64(counts["revenue_sq_"+name]),
	}
}

// Rate is the group's conversion rate (0 for an empty group).
func (g Group) Rate() float64 {
	if g.Customers == 0 {
		return 0
	}
	return float64(g.Converted) / float64(g.Customers)
}

// PerCustomer is the group's revenue per customer (0 for an empty group).
func (g Group) PerCustomer() float64 {
	if g.Customers == 0 {
		return 0
	}
	return g.Revenue / float64(g.Customers)
}

// variance is the sample variance of the customers' revenue, from the
// sums: (Σx² − (Σx)²/n) / (n − 1).
func (g Group) variance() float64 {
	n := float64(g.Customers)
	if n < 2 {
		return 0
	}
	return max((g.RevenueSq-g.Revenue*g.Revenue/n)/(n-1), 0)
}

// Interval is a two-sided confidence interval.
type Interval struct {
	Low, High float64
}

// Contains reports whether x lies in the interval.
func (i Interval) Contains(x float64) bool { return i.Low <= x && x <= i.High }

// Outcome is what a comparison allows a marketer to say.
type Outcome int

// Outcomes of a comparison.
const (
	// NeedsData: no significant difference yet, and too few customers in
	// a group to tell a 10% lift (see Comparison.NeedMore), or too few
	// conversions (under 5 either way in a group) for the test to hold.
	NeedsData Outcome = iota
	// Lifted: the treated group converted more, significantly (whatever
	// the group sizes: a difference this clear needs no more customers).
	Lifted
	// Hurt: the treated group converted less, significantly.
	Hurt
	// NoDifference: enough customers to tell a 10% lift, and no
	// significant difference.
	NoDifference
)

// Comparison is a treated group against its control.
type Comparison struct {
	Treatment, Control Group

	// Lift is the relative lift of the conversion rate,
	// (treatment − control) / control; NaN when the control converted
	// nobody. LiftCI is its 95% interval (Katz's log interval for a ratio
	// of proportions); PValue the two-proportion z-test's (pooled,
	// two-sided).
	Lift   float64
	LiftCI Interval
	PValue float64
	// IncrementalOrders is how many more treated customers converted than
	// the control's rate predicts: (rate_t − rate_c) × n_t.
	IncrementalOrders float64

	// RevenueCI is the 95% Welch interval of the difference of revenue
	// per customer (minor units), RevenuePValue Welch's two-sided p-value;
	// IncrementalRevenue is that difference times the treated customers.
	RevenueCI          Interval
	RevenuePValue      float64
	IncrementalRevenue float64

	// MinSample is the customers each group needs to tell a lift of
	// DetectableLift from the control's conversion rate (0 when nobody
	// converted yet, so no rate is known); NeedMore is how many more the
	// smaller group needs.
	MinSample int64
	NeedMore  int64
	Outcome   Outcome
}

// Compare compares a treated group with its control.
func Compare(t, c Group) Comparison {
	r := Comparison{Treatment: t, Control: c, Lift: math.NaN()}
	pt, pc := t.Rate(), c.Rate()
	nt, nc := float64(t.Customers), float64(c.Customers)
	z := distuv.UnitNormal.Quantile(1 - Alpha/2)

	if t.Customers > 0 && c.Customers > 0 {
		r.IncrementalOrders = (pt - pc) * nt
		r.IncrementalRevenue = (t.PerCustomer() - c.PerCustomer()) * nt
		_, r.PValue = TwoProportionZ(t.Converted, t.Customers, c.Converted, c.Customers)
		if pc > 0 {
			r.Lift = pt/pc - 1
		}
		if pt > 0 && pc > 0 {
			se := math.Sqrt((1-pt)/(nt*pt) + (1-pc)/(nc*pc))
			r.LiftCI = Interval{math.Exp(math.Log(pt/pc)-z*se) - 1, math.Exp(math.Log(pt/pc)+z*se) - 1}
		}
		w := Welch(t, c)
		r.RevenueCI, r.RevenuePValue = w.CI, w.PValue
	}

	baseline := pc
	if baseline == 0 && nt+nc > 0 {
		baseline = float64(t.Converted+c.Converted) / (nt + nc)
	}
	if baseline > 0 && baseline*(1+DetectableLift) < 1 {
		r.MinSample = int64(math.Ceil(SampleSize(baseline, baseline*(1+DetectableLift), Alpha, Power)))
	}
	r.NeedMore = max(r.MinSample-min(t.Customers, c.Customers), 0)
	switch {
	case !r.testable():
		r.Outcome = NeedsData
	case r.PValue < Alpha && pt > pc:
		r.Outcome = Lifted
	case r.PValue < Alpha:
		r.Outcome = Hurt
	case r.MinSample == 0 || r.NeedMore > 0:
		r.Outcome = NeedsData
	default:
		r.Outcome = NoDifference
	}
	return r
}

// testable reports whether the normal approximation of the z-test holds:
// at least 5 customers converted and 5 did not in each group.
func (r Comparison) testable() bool {
	for _, g := range []Group{r.Treatment, r.Control} {
		if g.Converted < 5 || g.Customers-g.Converted < 5 {
			return false
		}
	}
	return true
}

// TwoProportionZ is the two-proportion z-test of x1/n1 against x2/n2 with
// the pooled proportion: the statistic and its two-sided p-value.
func TwoProportionZ(x1, n1, x2, n2 int64) (z, p float64) {
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pool := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 0, 1
	}
	z = (p1 - p2) / se
	return z, 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// WelchResult is Welch's unequal-variance t-test of two means.
type WelchResult struct {
	Diff   float64
	T, DF  float64
	PValue float64
	CI     Interval
}

// Welch compares the revenue per customer of a and b with Welch's t-test
// from each group's n, sum and sum of squares: the difference a − b, its
// 95% interval, and the two-sided p-value on Welch–Satterthwaite degrees
// of freedom.
func Welch(a, b Group) WelchResult {
	r := WelchResult{Diff: a.PerCustomer() - b.PerCustomer(), PValue: 1, CI: Interval{math.Inf(-1), math.Inf(1)}}
	if a.Customers < 2 || b.Customers < 2 {
		return r
	}
	va, vb := a.variance()/float64(a.Customers), b.variance()/float64(b.Customers)
	se := math.Sqrt(va + vb)
	if se == 0 {
		r.CI = Interval{r.Diff, r.Diff}
		if r.Diff != 0 {
			r.PValue = 0
		}
		return r
	}
	r.DF = (va + vb) * (va + vb) / (va*va/float64(a.Customers-1) + vb*vb/float64(b.Customers-1))
	r.T = r.Diff / se
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: r.DF}
	r.PValue = 2 * dist.Survival(math.Abs(r.T))
	q := dist.Quantile(1 - Alpha/2)
	r.CI = Interval{r.Diff - q*se, r.Diff + q*se}
	return r
}

// ChiSquaredResult is Pearson's chi-squared test of independence.
type ChiSquaredResult struct {
	Stat   float64
	DF     int
	PValue float64
}

// Variants tests whether A/B variants convert alike: Pearson's
// chi-squared test (without continuity correction) on the variants ×
// (converted, not converted) table. Variants without customers are left
// out; fewer than two leave nothing to test (p = 1).
func Variants(groups []Group) ChiSquaredResult {
	var obs, exp []float64
	var n, x float64
	var kept []Group
	for _, g := range groups {
		if g.Customers > 0 {
			kept = append(kept, g)
			n += float64(g.Customers)
			x += float64(g.Converted)
		}
	}
	if len(kept) < 2 || x == 0 || x == n {
		return ChiSquaredResult{PValue: 1}
	}
	for _, g := range kept {
		gn := float64(g.Customers)
		obs = append(obs, float64(g.Converted), gn-float64(g.Converted))
		exp = append(exp, gn*x/n, gn*(n-x)/n)
	}
	r := ChiSquaredResult{Stat: stat.ChiSquare(obs, exp), DF: len(kept) - 1}
	r.PValue = distuv.ChiSquared{K: float64(r.DF)}.Survival(r.Stat)
	return r
}

// SampleSize is the customers per group a two-sided two-proportion test
// at level alpha needs to find rates p1 and p2 apart with the given power
// (Fleiss's formula without continuity correction, as R's
// power.prop.test solves it):
//
//	n = (z₁₋α/₂·√(2·p̄·q̄) + z_power·√(p1·q1 + p2·q2))² / (p1 − p2)²
func SampleSize(p1, p2, alpha, power float64) float64 {
	za := distuv.UnitNormal.Quantile(1 - alpha/2)
	zb := distuv.UnitNormal.Quantile(power)
	pbar := (p1 + p2) / 2
	num := za*math.Sqrt(2*pbar*(1-pbar)) + zb*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return num * num / ((p1 - p2) * (p1 - p2))
}
