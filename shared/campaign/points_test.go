package campaign

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestPointsActionGivesOnceAndTheEmailShowsThem runs a second-purchase
// bonus (100 points, then an email showing them and the balance) twice
// for the same trigger, and once for another: one ledger movement per
// trigger occurrence, and the email shows what was given and the balance
// read from the ledger.
func TestPointsActionGivesOnceAndTheEmailShowsThem(t *testing.T) {
	set := ruleSetFiles(t, map[string]string{
		rules.CampaignsDir + "/bonus.yaml": "id: bonus\nname: bonus\ntrigger: order.created\nactions:\n" +
			"  - {type: points, points: 100, reason: 二回目購入ボーナス}\n  - {type: email, template: bonus}\n",
		"templates/bonus/subject.txt": "{{.Points.Awarded}}ポイントを差し上げました\n",
		"templates/bonus/body.html":   "<p>残高 {{number .Points.Balance}} pt（確定待ち {{.Points.Pending}} pt）</p>\n",
		"templates/bonus/body.txt":    "残高 {{number .Points.Balance}} pt（確定待ち {{.Points.Pending}} pt）\n",
	})
	if !set.Templates["bonus"].UsesPoints {
		t.Fatal("a template showing .Points is not marked as using them")
	}
	r, st := newRunner(t, set)
	r.Points = st
	ctx := context.Background()
	p, o := buyer(t, "c-bonus")
	// 1,200 approved points from earlier (a shop's adjustment).
	if _, err := st.PutMovement(ctx, loyalty.Movement{CustomerID: p.ID, Kind: loyalty.Adjusted, Reason: "移行", Ref: "import", Points: 1200, At: tokyo(9, 0)}); err != nil {
		t.Fatal(err)
	}
	tr := Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o}
	for i, want := range []string{"bonus:points=issued bonus:email=sent", "bonus:points=already_sent bonus:email=already_sent"} {
		out, err := r.Run(ctx, tr)
		if err != nil || statuses(out) != want {
			t.Fatalf("run %d = %s, %v; want %s", i+1, statuses(out), err, want)
		}
	}
	other := tr
	other.Key, other.At = "order:o-other:order.created", tr.At.Add(72*time.Hour) // past the shop-wide cap of one a day
	if _, err := r.Run(ctx, other); err != nil {
		t.Fatal(err)
	}
	ledger, err := st.Ledger(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var bonuses int
	for _, m := range ledger {
		if m.Kind == loyalty.Adjusted && m.Reason == "二回目購入ボーナス" && m.Points == 100 {
			bonuses++
		}
	}
	if b := loyalty.BalanceOf(ledger); b.Approved != 1400 || bonuses != 2 {
		t.Fatalf("ledger = %+v (balance %+v), want 1200 + one bonus per trigger", ledger, b)
	}
	mails := testenv.SentEmails(t, p.Email)
	if len(mails) != 2 || mails[0].Subject != "100ポイントを差し上げました" || !strings.Contains(mails[0].Body.Text, "残高 1,300 pt（確定待ち 0 pt）") ||
		!strings.Contains(mails[1].Body.Text, "残高 1,400 pt") {
		t.Fatalf("emails = %+v", mails)
	}
}

// TestPointsOnlyCampaignReachesWithoutAChannel gives points to a consenting
// customer with no address at all: a campaign of points has no channel to
// reach, so it is not refused for want of one; nobody is told.
func TestPointsOnlyCampaignReachesWithoutAChannel(t *testing.T) {
	set := ruleSet(t, map[string]string{"friend": "trigger: order.created\nactions:\n  - {type: points, points: 50, reason: LINE友だち追加}\n"})
	r, st := newRunner(t, set)
	r.Points = st
	p, o := buyer(t, "c-points-only")
	p.Email, p.LineUserID = "", ""
	out, err := r.Run(context.Background(), Trigger{Event: rules.TriggerOrderCreated, Key: "order:" + o.ID + ":order.created", At: tokyo(12, 0), Profile: p, Order: o})
	if err != nil || statuses(out) != "friend:points=issued" {
		t.Fatalf("run = %s, %v", statuses(out), err)
	}
	log, err := st.CustomerMessages(context.Background(), p.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range log {
		if m.Status != store.MessageAssigned {
			t.Errorf("a points-only campaign logged a message: %+v", m)
		}
	}
}
