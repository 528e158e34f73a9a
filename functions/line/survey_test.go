package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

// TestLineSurveyAnswers taps the quick-reply scores of a LINE survey
// (the shipped satisfaction survey asked on LINE): a tap records the
// answer, a second tap changes it, a low score opens a support case; a
// tap naming another customer's message, an email survey's, a score out
// of range or a survey past its time records nothing.
func TestLineSurveyAnswers(t *testing.T) {
	f := setup(t)
	f.linked(t, "c-1", user, now)
	f.linked(t, "c-2", otherUser, now)
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	set.Campaign("satisfaction-survey").Variants[0].Actions[0].Channel = "line"
	mine := f.h.Store.(*store.Store)
	f.h.Surveys = &Surveys{Messages: mine, Rules: set, Answers: &survey.Recorder{Store: mine, Location: set.Settings.Location,
		Cases: &support.Opener{Store: mine, CoolingOff: 30 * 24 * time.Hour}}}
	ctx := context.Background()
	sent := now.Add(time.Hour)
	for _, m := range []store.MessageRecord{
		{Key: "line-survey-c1", CampaignID: "satisfaction-survey", Channel: "line", CustomerID: "c-1"},
		{Key: "line-survey-c2", CampaignID: "satisfaction-survey", Channel: "line", CustomerID: "c-2"},
		{Key: "email-survey-c1", CampaignID: "satisfaction-survey", Channel: "email", CustomerID: "c-1"},
	} {
		if _, _, err := f.st.ClaimMessage(ctx, m, sent); err != nil {
			t.Fatal(err)
		}
	}
	tap := func(id, data string, at time.Time) ev {
		return userEvent("postback", id, at, user).with("postback", map[string]any{"data": data})
	}
	tests := []struct {
		name  string
		event ev
		reply string
		score int // the answer of line-survey-c1 after it (-1: none)
	}{
		{name: "another customer's survey", event: tap("t1", "action=survey&m=line-survey-c2&s=10", sent.Add(time.Minute)), reply: "お答えいただけませんでした", score: -1},
		{name: "an email survey", event: tap("t2", "action=survey&m=email-survey-c1&s=10", sent.Add(time.Minute)), reply: "お答えいただけませんでした", score: -1},
		{name: "a score out of range", event: tap("t3", "action=survey&m=line-survey-c1&s=11", sent.Add(time.Minute)), reply: "お答えいただけませんでした", score: -1},
		{name: "an unknown message", event: tap("t4", "action=survey&m=nothing&s=5", sent.Add(time.Minute)), reply: "お答えいただけませんでした", score: -1},
		{name: "a tap", event: tap("t5", "action=survey&m=line-survey-c1&s=9&o=1001", sent.Add(time.Minute)), reply: "ご回答ありがとうございました（9）", score: 9},
		{name: "a second tap changes it", event: tap("t6", "action=survey&m=line-survey-c1&s=3&o=1001", sent.Add(2*time.Minute)), reply: "ご回答ありがとうございました（3）", score: 3},
		{name: "past its time", event: tap("t7", "action=survey&m=line-survey-c1&s=10", sent.Add(31*24*time.Hour)), reply: "回答期間は終わりました", score: 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer(t, f.deliver(t, tt.event))
			replies := f.line.Requests(lineapi.ReplyPath)
			if len(replies) != i+1 || !strings.Contains(string(replies[i].Body), tt.reply) {
				t.Fatalf("replies %d, the last %s; want %q", len(replies), replies[len(replies)-1].Body, tt.reply)
			}
			a, err := f.st.GetSurveyAnswer(ctx, "line-survey-c1")
			switch {
			case tt.score < 0 && err == nil:
				t.Errorf("an answer was recorded: %+v", a)
			case tt.score >= 0 && (err != nil || a.Score != tt.score || a.OrderID != "1001" || a.Scale != "nps"):
				t.Errorf("answer = %+v, %v; want %d", a, err, tt.score)
			}
		})
	}
	if p := f.profile(t, "c-1"); p.LastNPS != 3 || p.CoolingUntil.IsZero() {
		t.Errorf("profile: last NPS %d, cooling until %s; want 3 and a cooling-off (a detractor's support case)", p.LastNPS, p.CoolingUntil)
	}
}
