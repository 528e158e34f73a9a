package customer

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

var testThresholds = Thresholds{
	Currency:        "JPY",
	RecencyDays:     [4]int{30, 60, 90, 180},
	FrequencyOrders: [4]int{2, 3, 5, 10},
	Monetary:        [4]int64{5000, 10000, 30000, 100000},
	LoyalMinOrders:  5,
	AtRiskAfterDays: 90, DormantAfterDays: 180,
}

func day(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }

func yokanOrder(id string, placed time.Time, total int64) order.Order {
	return order.Order{ID: id, Currency: "JPY", Total: total, PlacedAt: placed,
		Customer: &order.Customer{ID: "c-1"},
		Items:    []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", Brand: "椿茶園", UnitPrice: total / 2, Quantity: 2}}}
}

// step is one delivery applied to a profile.
type step struct {
	orderID string
	summary OrderSummary
	at      time.Time
	contact *order.Customer
}

func apply(p *Profile, steps []step) {
	for _, s := range steps {
		if s.contact != nil {
			p.ApplyContact(*s.contact, s.at)
		}
		if s.orderID != "" {
			p.ApplyOrder(s.orderID, s.summary, s.at)
		}
	}
	p.Recompute(testThresholds)
}

func TestRecompute(t *testing.T) {
	o1, o2, o3 := yokanOrder("1", day(0), 4300), yokanOrder("2", day(10), 6000), yokanOrder("3", day(20), 2000)
	tests := []struct {
		name  string
		steps []step
		want  func(p Profile) bool
		stage Stage
		count int
		spent int64
	}{
		{name: "first order", steps: []step{{"1", Summarize(o1, order.Created), day(0), nil}}, stage: StageNew, count: 1, spent: 4300},
		{name: "second order", steps: []step{{"1", Summarize(o1, order.Created), day(0), nil}, {"2", Summarize(o2, order.Created), day(10), nil}}, stage: StageRepeat, count: 2, spent: 10300},
		{name: "cancelled order taken back out", steps: []step{{"1", Summarize(o1, order.Created), day(0), nil}, {"2", Summarize(o2, order.Created), day(10), nil}, {"2", Summarize(o2, order.Cancelled), day(11), nil}}, stage: StageNew, count: 1, spent: 4300},
		{name: "only order cancelled", steps: []step{{"1", Summarize(o1, order.Created), day(0), nil}, {"1", Summarize(o1, order.Cancelled), day(1), nil}}, stage: StageNone, count: 0, spent: 0},
		{name: "fulfilment does not double count", steps: []step{{"1", Summarize(o1, order.Created), day(0), nil}, {"1", Summarize(o1, order.Fulfilled), day(2), nil}, {"1", Summarize(o1, order.Delivered), day(4), nil}}, stage: StageNew, count: 1, spent: 4300},
		{name: "at risk after 90 days", steps: []step{{"1", Summarize(o1, order.Created), day(0), nil}, {"3", Summarize(o3, order.Created), day(20), nil}, {"3", Summarize(o3, order.Delivered), day(111), nil}}, stage: StageAtRisk, count: 2, spent: 6300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Profile
			apply(&p, tt.steps)
			if p.Stage != tt.stage || p.OrderCount != tt.count || p.TotalSpent != tt.spent {
				t.Errorf("stage=%s count=%d spent=%d, want %s %d %d", p.Stage, p.OrderCount, p.TotalSpent, tt.stage, tt.count, tt.spent)
			}
			if tt.count > 0 && p.AverageOrder != tt.spent/int64(tt.count) {
				t.Errorf("average = %d", p.AverageOrder)
			}
			if tt.count > 0 && p.CategoryCounts["sweets"] != 2*tt.count {
				t.Errorf("category counts = %v", p.CategoryCounts)
			}
		})
	}
}

func TestScoreAndStageAt(t *testing.T) {
	var p Profile
	for i := range 5 {
		o := yokanOrder(string(rune('a'+i)), day(i*10), 10000)
		p.ApplyOrder(o.ID, Summarize(o, order.Created), o.PlacedAt)
	}
	p.Recompute(testThresholds)
	tests := []struct {
		now   time.Time
		rfm   RFM
		stage Stage
	}{
		{now: day(40), rfm: RFM{R: 5, F: 4, M: 4}, stage: StageLoyal},
		{now: day(110), rfm: RFM{R: 3, F: 4, M: 4}, stage: StageLoyal},
		{now: day(140), rfm: RFM{R: 2, F: 4, M: 4}, stage: StageAtRisk},
		{now: day(400), rfm: RFM{R: 1, F: 4, M: 4}, stage: StageDormant},
	}
	for _, tt := range tests {
		if got := p.ScoreAt(testThresholds, tt.now); got != tt.rfm {
			t.Errorf("ScoreAt(%s) = %+v, want %+v", tt.now.Format(time.DateOnly), got, tt.rfm)
		}
		if got := p.StageAt(testThresholds, tt.now); got != tt.stage {
			t.Errorf("StageAt(%s) = %s, want %s", tt.now.Format(time.DateOnly), got, tt.stage)
		}
	}
}

func TestApplyContactConsent(t *testing.T) {
	granted := order.Customer{ID: "c-1", Email: "a@example.jp", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: day(1)}}
	denied := order.Customer{ID: "c-1", Consent: order.Consent{State: order.ConsentDenied, Source: "mypage", At: day(2)}}
	silent := order.Customer{ID: "c-1", Email: "b@example.jp"}
	var p Profile
	p.ApplyContact(granted, day(1))
	if !p.MarketingAllowed() {
		t.Fatal("granted consent with an email must allow marketing")
	}
	p.ApplyContact(silent, day(3))
	if !p.MarketingAllowed() || p.Email != "b@example.jp" {
		t.Fatalf("a delivery without consent must not change it; newer email must win: %+v", p)
	}
	p.ApplyContact(denied, day(2))
	if p.MarketingAllowed() {
		t.Fatal("a later refusal must win")
	}
	p.ApplyContact(granted, day(4)) // the same old consent evidence, redelivered later
	if p.MarketingAllowed() {
		t.Fatal("old consent evidence must not override a newer refusal")
	}
}

// TestConvergence applies the same deliveries, duplicated and shuffled, and
// expects one profile whatever the order.
func TestConvergence(t *testing.T) {
	o1, o2 := yokanOrder("1", day(0), 4300), yokanOrder("2", day(30), 8600)
	stub := order.Order{ID: "2"} // a later event that carries only the order id
	misaki := order.Customer{ID: "c-1", Email: "misaki@example.jp", Name: "高橋 美咲", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: day(0)}}
	renamed := order.Customer{ID: "c-1", Email: "misaki@example.jp", Name: "佐藤 美咲"}
	steps := []step{
		{"1", Summarize(o1, order.Created), day(0), &misaki},
		{"1", Summarize(o1, order.Fulfilled), day(1), nil},
		{"2", Summarize(o2, order.Created), day(30), &renamed},
		{"2", Summarize(stub, order.Cancelled), day(31), nil},
		{"2", Summarize(o2, order.Cancelled), day(31), nil},
		{"1", Summarize(o1, order.Delivered), day(3), nil},
	}
	var want Profile
	apply(&want, steps)
	if want.OrderCount != 1 || want.Name != "佐藤 美咲" || want.Orders["2"].Status != order.Cancelled {
		t.Fatalf("reference profile is wrong: %+v", want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		shuffled := append(append([]step{}, steps...), steps[rng.IntN(len(steps))], steps[rng.IntN(len(steps))])
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		var got Profile
		apply(&got, shuffled)
		// Applied is bookkeeping of what came in which order, not what
		// the profile says of the customer.
		got.Applied, want.Applied = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("permutation %d diverged:\n got %+v\nwant %+v", i, got, want)
		}
	}
}
