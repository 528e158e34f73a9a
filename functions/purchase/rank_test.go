package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestRankUpOrder: with the shipped rules (シルバー from 30,000 yen over
// 12 months, 120 % points), an order of 35,000 yen raises a new
// customer to シルバー in the profile's write, earns its points at the
// rank's multiplier, and starts the rank-up campaign once, however often
// the order is delivered again: its wait (the next day at 10:00, after
// the order's thanks) sends one email when it fires, even twice.
func TestRankUpOrder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "rankup")
	created := []byte(strings.NewReplacer(`"total": 4300`, `"total": 35000`, `"price": 2150`, `"price": 17500`).
		Replace(string(genericBody("evt-r1", "order.created", "7201", to, true))))
	again := []byte(strings.Replace(string(created), `"evt-r1"`, `"evt-r1-again"`, 1))
	waits := 0
	for i, body := range [][]byte{created, created, again, laterEvent("evt-r1-f", "order.fulfilled", "7201")} {
		status, a := e.do(t, genericRequest(body))
		if status != http.StatusOK || !a.Accepted {
			t.Fatalf("delivery %d = %d %+v", i, status, a)
		}
		for _, m := range a.Messages {
			if m.Campaign == "rank-up" && m.Status == "wait" {
				waits++
			}
		}
	}
	if waits < 1 {
		t.Fatal("the rank-up order did not start the loyalty.rank_up campaign")
	}
	p, err := e.store.GetProfile(ctx, "c-7201")
	if err != nil {
		t.Fatal(err)
	}
	key := "rank:c-7201:regular->silver:" + fixedNow.In(e.h.Rules.Settings.Location).Format("2006-01-02")
	if p.Rank != "silver" || p.RankChange == nil || p.RankChange.Key != key || p.RankChange.Trigger != string(rules.TriggerRankUp) {
		t.Fatalf("profile rank = %q %+v, want silver changed under %s", p.Rank, p.RankChange, key)
	}
	// 35,000 yen at 1 point per 100 yen, times 120 %.
	if _, balance := e.ledgerOf(t, "c-7201"); balance != (loyalty.Balance{Pending: 420}) {
		t.Errorf("balance = %+v, want 420 pending", balance)
	}

	// The wait fires (the scheduler hands it to the sender, which runs
	// the campaign with the timer's trigger), twice: one email.
	wait, err := e.store.GetTimer(ctx, campaign.TimerKey("rank-up", key, "c-7201", "delay"))
	if err != nil || wait.Status != store.TimerArmed || wait.Trigger != string(rules.TriggerRankUp) {
		t.Fatalf("rank-up wait = %+v, %v", wait, err)
	}
	for range 2 {
		if _, err := e.h.Campaigns.Run(ctx, campaign.Trigger{Event: rules.Trigger(wait.Trigger), Key: wait.TriggerKey, At: wait.DueAt, Profile: p,
			Campaign: wait.Campaign, Fired: true}); err != nil {
			t.Fatal(err)
		}
	}
	var rankUps []testenv.Email
	for _, m := range testenv.SentEmails(t, to) {
		if strings.Contains(m.Subject, "会員になりました") {
			rankUps = append(rankUps, m)
		}
	}
	if len(rankUps) != 1 {
		t.Fatalf("SES received %d rank-up emails, want 1", len(rankUps))
	}
	golden.Check(t, "rank-up.subject.txt", rankUps[0].Subject)
	golden.Check(t, "rank-up.txt", rankUps[0].Body.Text)
}

// TestRankDownOnCancel: the cancellation of the order that raised the
// rank lowers it again in the same profile write, as a rank down under
// its own key (no campaign is shipped for loyalty.rank_down).
func TestRankDownOnCancel(t *testing.T) {
	e := newEnv(t)
	to := testenv.UniqueEmail(t, "rankdown")
	created := []byte(strings.NewReplacer(`"total": 4300`, `"total": 35000`, `"price": 2150`, `"price": 17500`).
		Replace(string(genericBody("evt-r2", "order.created", "7202", to, true))))
	cancel := laterEvent("evt-r2-c", "order.cancelled", "7202")
	for i, body := range [][]byte{created, cancel, cancel} {
		if status, a := e.do(t, genericRequest(body)); status != http.StatusOK || !a.Accepted {
			t.Fatalf("delivery %d = %d %+v", i, status, a)
		}
	}
	p, err := e.store.GetProfile(context.Background(), "c-7202")
	if err != nil {
		t.Fatal(err)
	}
	key := "rank:c-7202:silver->regular:" + fixedNow.In(e.h.Rules.Settings.Location).Format("2006-01-02")
	if p.Rank != "regular" || p.RankChange == nil || p.RankChange.Key != key || p.RankChange.Trigger != string(rules.TriggerRankDown) {
		t.Errorf("profile rank = %q %+v, want regular changed under %s", p.Rank, p.RankChange, key)
	}
}
