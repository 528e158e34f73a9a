package lift

import (
	"math"
	"testing"
)

// near fails the test when got is farther than tol from want.
func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.6g, want %.6g ± %g", what, got, want, tol)
	}
}

// sample turns values into a group's counters.
func sample(values ...float64) Group {
	g := Group{Customers: int64(len(values))}
	for _, v := range values {
		g.Revenue += v
		g.RevenueSq += v * v
		if v > 0 {
			g.Converted++
		}
	}
	return g
}

func TestTwoProportionZ(t *testing.T) {
	tests := []struct {
		name           string
		x1, n1, x2, n2 int64
		z, p           float64
		tolZ, tolP     float64
	}{
		// Worked examples with the pooled proportion, two-sided p:
		// https://homeworksource.com/p/997366/ (z = -0.344, p = 0.7307)
		{name: "28/254 vs 36/301", x1: 28, n1: 254, x2: 36, n2: 301, z: -0.344, p: 0.7307, tolZ: 0.001, tolP: 0.0005},
		// https://homeworksource.com/p/1008622/ (z = -1.266015; its p-value
		// is read from a t distribution, so only z is compared, and p is
		// the normal's two-sided 2·Φ(-1.266015) = 0.205508).
		{name: "140/200 vs 255/340", x1: 140, n1: 200, x2: 255, n2: 340, z: -1.266015, p: 0.205508, tolZ: 1e-5, tolP: 1e-5},
		{name: "an empty group tests nothing", x1: 0, n1: 0, x2: 3, n2: 10, z: 0, p: 1, tolZ: 0, tolP: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, p := TwoProportionZ(tt.x1, tt.n1, tt.x2, tt.n2)
			near(t, "z", z, tt.z, tt.tolZ)
			near(t, "p", p, tt.p, tt.tolP)
		})
	}
}

func TestWelch(t *testing.T) {
	// R's documentation of t.test, example t.test(extra ~ group, data =
	// sleep) (Student's sleep data, 1908): Welch Two Sample t-test,
	// t = -1.8608, df = 17.776, p-value = 0.07939, 95 percent confidence
	// interval -3.3654832 0.2054832.
	g1 := sample(0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0)
	g2 := sample(1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4)
	w := Welch(g1, g2)
	near(t, "difference", w.Diff, -1.58, 1e-9)
	near(t, "t", w.T, -1.8608, 5e-5)
	near(t, "df", w.DF, 17.776, 5e-4)
	near(t, "p", w.PValue, 0.07939, 5e-6)
	near(t, "low", w.CI.Low, -3.3654832, 1e-6)
	near(t, "high", w.CI.High, 0.2054832, 1e-6)

	if w := Welch(sample(1), g2); !math.IsInf(w.CI.Low, -1) || w.PValue != 1 {
		t.Errorf("one customer: %+v; want an unbounded interval and p = 1", w)
	}
}

func TestVariants(t *testing.T) {
	// R's documentation of chisq.test, first example (Agresti 2007, p. 39:
	// party identification by gender), M <- as.table(rbind(c(762, 327,
	// 468), c(484, 239, 477))): X-squared = 30.07, df = 2,
	// p-value = 2.954e-07. Each party is a variant here, each gender an
	// outcome: the statistic of a table and its transpose is the same.
	r := Variants([]Group{
		{Customers: 762 + 484, Converted: 762},
		{Customers: 327 + 239, Converted: 327},
		{Customers: 468 + 477, Converted: 468},
		{}, // a variant nobody was assigned to is left out
	})
	near(t, "X-squared", r.Stat, 30.07, 0.005)
	near(t, "p", r.PValue, 2.954e-07, 5e-10)
	if r.DF != 2 {
		t.Errorf("df = %d, want 2", r.DF)
	}
	// R's documentation of prop.test, its example of four groups (data
	// from Fleiss, 1981, p. 139): smokers <- c(83, 90, 129, 70),
	// patients <- c(86, 93, 136, 82): X-squared = 12.6, df = 3,
	// p-value = 0.005585.
	r = Variants([]Group{{Customers: 86, Converted: 83}, {Customers: 93, Converted: 90}, {Customers: 136, Converted: 129}, {Customers: 82, Converted: 70}})
	near(t, "smokers X-squared", r.Stat, 12.6, 0.05)
	near(t, "smokers p", r.PValue, 0.005585, 5e-7)
	// With two groups the test is the two-proportion z-test squared.
	z, _ := TwoProportionZ(28, 254, 36, 301)
	near(t, "two groups", Variants([]Group{{Customers: 254, Converted: 28}, {Customers: 301, Converted: 36}}).Stat, z*z, 1e-9)
	if r := Variants([]Group{{Customers: 10, Converted: 1}}); r.PValue != 1 {
		t.Errorf("one variant: p = %g, want 1", r.PValue)
	}
}

func TestSampleSize(t *testing.T) {
	// R's documentation of power.prop.test:
	// power.prop.test(p1 = .50, p2 = .75, power = .90) => n = 76.7.
	near(t, "n for .50 vs .75 at 90%", SampleSize(0.50, 0.75, 0.05, 0.90), 76.7, 0.05)
	// The design here, 10% vs 11% at 80%: the same formula worked by hand,
	// (1.959964·√(2·.105·.895) + 0.841621·√(.09 + .0979))² / .01² = 14,750.8.
	near(t, "n for .10 vs .11 at 80%", SampleSize(0.10, 0.11, 0.05, 0.80), 14750.8, 0.5)
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name    string
		t, c    Group
		outcome Outcome
		need    int64
	}{
		{
			name:    "too few customers: how many more the smaller group needs",
			t:       Group{Customers: 900, Converted: 100},
			c:       Group{Customers: 100, Converted: 10},
			outcome: NeedsData,
			// Baseline 10%, 10% lift: 14,751 per group, less the 100.
			need: 14751 - 100,
		},
		{
			name:    "a clear lift in small groups needs no more customers",
			t:       Group{Customers: 300, Converted: 90},
			c:       Group{Customers: 300, Converted: 30},
			outcome: Lifted,
			// Baseline 10%: 14,751 per group for a 10% lift; a lift of
			// 200% shows long before.
			need: 14751 - 300,
		},
		{
			name:    "under 5 conversions: the test does not hold",
			t:       Group{Customers: 30000, Converted: 4},
			c:       Group{Customers: 30000, Converted: 40},
			outcome: NeedsData,
			// Baseline 0.133%: 1,234,467 per group for a 10% lift.
			need: 1234467 - 30000,
		},
		{
			name:    "nobody converted: no rate to size a test on",
			t:       Group{Customers: 50},
			c:       Group{Customers: 50},
			outcome: NeedsData,
		},
		{
			name:    "a real lift",
			t:       Group{Customers: 20000, Converted: 2400},
			c:       Group{Customers: 20000, Converted: 2000},
			outcome: Lifted,
		},
		{
			name:    "no difference",
			t:       Group{Customers: 20000, Converted: 2010},
			c:       Group{Customers: 20000, Converted: 2000},
			outcome: NoDifference,
		},
		{
			name:    "the campaign hurt",
			t:       Group{Customers: 20000, Converted: 1700},
			c:       Group{Customers: 20000, Converted: 2000},
			outcome: Hurt,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(tt.t, tt.c)
			if r.Outcome != tt.outcome || r.NeedMore != tt.need {
				t.Errorf("outcome %d, need %d more; want %d, %d", r.Outcome, r.NeedMore, tt.outcome, tt.need)
			}
		})
	}

	r := Compare(Group{Customers: 20000, Converted: 2400, Revenue: 2400 * 5000, RevenueSq: 2400 * 5000 * 5000},
		Group{Customers: 20000, Converted: 2000, Revenue: 2000 * 5000, RevenueSq: 2000 * 5000 * 5000})
	near(t, "lift", r.Lift, 0.2, 1e-12)
	near(t, "incremental orders", r.IncrementalOrders, 400, 1e-9)
	near(t, "incremental revenue", r.IncrementalRevenue, 400*5000, 1e-6)
	if !r.LiftCI.Contains(0.2) || r.LiftCI.Contains(0) || !r.RevenueCI.Contains(100) || r.RevenueCI.Contains(0) {
		t.Errorf("intervals %+v (lift), %+v (revenue per customer): want each around its estimate and away from 0", r.LiftCI, r.RevenueCI)
	}
}

func TestGroupOf(t *testing.T) {
	g := GroupOf(map[string]int64{"assigned_holdout": 10, "converted_holdout": 2, "revenue_holdout": 300, "revenue_sq_holdout": 50000, "assigned_treatment": 99}, Holdout)
	if g != (Group{Customers: 10, Converted: 2, Revenue: 300, RevenueSq: 50000}) {
		t.Errorf("GroupOf = %+v", g)
	}
}
