package campaign

import (
	"context"
	"fmt"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestLiftGroupsCountedAtDecision runs a marketing campaign with a holdout
// and a transactional one, under a global control group, for customers
// whose triggers all arrive twice: every group is counted once per
// assignment, at the decision, on the campaign's counters (its own group,
// and the global comparison's: control or exposed); the global control gets the transactional email and no marketing.
func TestLiftGroupsCountedAtDecision(t *testing.T) {
	set := ruleSet(t, map[string]string{
		"m": "holdout: 30\ntrigger: order.created\nactions:\n  - {type: coupon, name: 10%OFF, percent_off: 10, min_order: 3000, expires_in: 30d}\n  - {type: email, template: second-purchase-nudge}\n",
		"t": "kind: transactional\npriority: 1\n" + emailAction,
	})
	set.Settings.Measurement.GlobalControlPercent, set.Settings.Measurement.GlobalControlSalt = 20, "2026-12"
	r, st := newRunner(t, set)
	ctx := context.Background()
	want := map[string]store.Counts{"m": {}, "t": {}}
	for i := range 24 {
		p, o := buyer(t, fmt.Sprintf("c-lift-%d", i))
		tr := Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o}
		var first []Outcome
		for range 2 { // a retried trigger counts nothing again
			out, err := r.Run(ctx, tr)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = out
			}
		}
		want["t"]["sent"]++
		mails := 1
		switch {
		case InGlobalControl(set.Settings.Measurement, p.ID):
			if got := statuses(first); got != "m:=held_out t:email=sent" || first[0].Reason != ReasonGlobalControl {
				t.Errorf("global control customer %s: %s (%+v); want no marketing, the transactional email", p.ID, got, first)
			}
			want["m"]["assigned_control"]++
		case statuses(first) == "m:=held_out t:email=sent":
			want["m"]["assigned_holdout"]++
			want["m"]["assigned_exposed"]++
		case statuses(first) == "m:coupon=issued m:email=sent t:email=sent":
			want["m"]["assigned_treatment"]++
			want["m"]["sent"]++
			want["m"]["coupons_issued"]++
			want["m"]["assigned_exposed"]++
			mails = 2
		default:
			t.Fatalf("customer %s: %s", p.ID, statuses(first))
		}
		if n := len(testenv.SentEmails(t, p.Email)); n != mails {
			t.Errorf("customer %s got %d emails for %s", p.ID, n, statuses(first))
		}
	}
	if want["m"]["assigned_holdout"] == 0 || want["m"]["assigned_treatment"] == 0 || want["m"]["assigned_control"] == 0 {
		t.Fatalf("the draw left a group empty: %v", want)
	}
	for campaign, counts := range want {
		got, err := st.StatsBetween(ctx, store.CampaignStatsPartition(campaign), "DAY#2026-11-21", "DAY#2026-11-21~")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got["DAY#2026-11-21#-"]) != fmt.Sprint(counts) || len(got) != 1 {
			t.Errorf("%s counters = %v, want %v on DAY#2026-11-21#-", campaign, got, counts)
		}
	}
}

// TestGlobalControlIsStableUntilTheSaltChanges: the same customers are in
// the group however often it is asked, about the share asked for, and a
// new salt draws another group.
func TestGlobalControlIsStableUntilTheSaltChanges(t *testing.T) {
	m := rules.Measurement{GlobalControlPercent: 5, GlobalControlSalt: "2026-12"}
	next := m
	next.GlobalControlSalt = "2027-06"
	in, moved := 0, 0
	const n = 4000
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		a := InGlobalControl(m, id)
		if a != InGlobalControl(m, id) {
			t.Fatalf("customer %s drawn differently twice", id)
		}
		if a {
			in++
		}
		if a != InGlobalControl(next, id) {
			moved++
		}
	}
	if in < n*4/100 || in > n*6/100 || moved < n*6/100 {
		t.Errorf("%d of %d in a 5%% group, %d moved by a new salt", in, n, moved)
	}
	if InGlobalControl(rules.Measurement{GlobalControlSalt: "x"}, "c1") {
		t.Error("a 0% global control holds a customer")
	}
}
