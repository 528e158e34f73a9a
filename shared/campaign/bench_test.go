package campaign

import (
	"fmt"
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// BenchmarkDecide200Campaigns decides 200 campaigns, of every kind of
// audience, for one order event (budget: 100 µs per event).
func BenchmarkDecide200Campaigns(b *testing.B) {
	audiences := []string{
		`customer.order_count == 1 && order.first`,
		`in_segment("vip") || in_segment("tea_lovers")`,
		`bought_category("sweets") && !bought_category("tea") && order.total >= 3000`,
		`customer.stage in ["repeat", "loyal"] && customer.r >= 3`,
		`days_since_last_order <= 30 && has_coupon == false`,
		`"sweets" in order.categories && customer.decile >= 5`,
		`customer.total_spent > 10000 || bought_brand("椿茶園")`,
		`in_segment("champions") && customer.accepts_marketing`,
	}
	campaigns := map[string]string{}
	for i := range 200 {
		campaigns[fmt.Sprintf("c%03d", i)] = fmt.Sprintf("trigger: order.created\npriority: %d\nholdout: %d\naudience: '%s'\nactions: [{type: email, template: post-purchase-thanks}]\n",
			i%50, i%20, audiences[i%len(audiences)])
	}
	set := ruleSet(b, campaigns)
	if len(set.Campaigns) != 200 {
		b.Fatalf("%d campaigns loaded", len(set.Campaigns))
	}
	d := &Decider{Rules: set, Deciles: set.Deciles}
	p, o := benchBuyer()
	tr := Trigger{Event: rules.TriggerOrderCreated, Key: "order:1:order.created", At: tokyo(12, 0), Profile: p, Order: o}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if got := d.Decide(tr, nil); len(got) != 200 {
			b.Fatalf("%d decisions", len(got))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/event")
}
