package segments

import (
	"fmt"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

func TestStats(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	c := NewCollector(now)
	for i := 1; i <= 100; i++ {
		c.Visit(customer.Profile{OrderCount: 1 + i%5, TotalSpent: int64(i * 1000), LastOrderAt: now.AddDate(0, 0, -i)})
	}
	c.Visit(customer.Profile{}) // no standing order: left out
	st := c.Stats()
	if st.Customers != 100 {
		t.Errorf("customers = %d", st.Customers)
	}
	if fmt.Sprint(st.Deciles) != "[11000 21000 31000 41000 51000 61000 71000 81000 91000]" {
		t.Errorf("deciles = %v", st.Deciles)
	}
	if fmt.Sprint(st.RecencyDays) != "[21 41 61 81]" || fmt.Sprint(st.Monetary) != "[21000 41000 61000 81000]" {
		t.Errorf("recency %v monetary %v", st.RecencyDays, st.Monetary)
	}
}

func TestSnapshot(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	th := customer.Thresholds{Currency: "JPY", LoyalMinOrders: 3, AtRiskAfterDays: 60, DormantAfterDays: 120}
	now := time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC) // the 22nd in Tokyo
	day := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	// profile has one order of 1,000 yen on each of the days ago given.
	profile := func(daysAgo ...int) customer.Profile {
		p := customer.Profile{Orders: map[string]customer.OrderSummary{}}
		for i, d := range daysAgo {
			p.Orders[fmt.Sprint(i)] = customer.OrderSummary{PlacedAt: day(d), Currency: "JPY", Total: 1000, Status: order.Created, HasDetails: true}
		}
		p.Recompute(th)
		return p
	}
	c := NewCollector(now)
	c.Visit(profile(5))         // new now; none a month ago
	c.Visit(profile(40, 5))     // new then, repeat now
	c.Visit(profile(50, 45, 2)) // repeat then, loyal now
	c.Visit(profile(100))       // at risk then (70 days), at risk now (100)
	c.Visit(profile(130))       // dormant then and now
	c.Visit(profile(70))        // new then (40 days), at risk now
	linked := profile(10)       // none a month ago, new now
	linked.LineUserID = "U1"
	linked.Email = "a@example.jp"
	linked.Consent = customer.Consent{State: order.ConsentGranted}
	c.Visit(linked)
	c.Visit(customer.Profile{}) // no standing order: left out

	snap := c.Snapshot(th, tokyo)
	if snap.Date != "2026-11-22" || snap.MigrationSince != "2026-10-22" || snap.Customers != 7 || snap.Revenue != 10000 {
		t.Errorf("snapshot %s since %s: %d customers, %d revenue", snap.Date, snap.MigrationSince, snap.Customers, snap.Revenue)
	}
	if snap.RepeatCustomers != 2 {
		t.Errorf("repeat customers = %d, want 2 (two and three orders; the others have one)", snap.RepeatCustomers)
	}
	wantStages := "map[at_risk:{2 2000} dormant:{1 1000} loyal:{1 3000} new:{2 2000} repeat:{1 2000}]"
	if got := fmt.Sprint(snap.Stages); got != wantStages {
		t.Errorf("stages = %s, want %s", got, wantStages)
	}
	wantMigration := "map[at_risk:map[at_risk:1 dormant:1] new:map[at_risk:1 repeat:1] none:map[new:2] repeat:map[loyal:1]]"
	if got := fmt.Sprint(snap.Migration); got != wantMigration {
		t.Errorf("migration = %s, want %s", got, wantMigration)
	}
	if snap.LineLinked != 1 || snap.LineFollowing != 0 || snap.EmailConsenting != 1 {
		t.Errorf("LINE linked %d following %d, email %d; want 1, 0, 1", snap.LineLinked, snap.LineFollowing, snap.EmailConsenting)
	}
	// Seven customers in ten groups: the top group holds the biggest spender.
	if snap.Deciles[0].Customers != 1 || snap.Deciles[0].Revenue != 3000 {
		t.Errorf("top decile = %+v", snap.Deciles[0])
	}
	total := 0
	for _, d := range snap.Deciles {
		total += d.Customers
	}
	if total != 7 {
		t.Errorf("deciles hold %d customers, want 7", total)
	}
}
