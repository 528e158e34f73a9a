package campaign

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
)

// TestSurveyOnLine asks a survey on LINE: the template's line.txt with a
// quick-reply button per score (0-10), each posting back the message's
// key and its score; sent once per trigger, through LINE's stand-in.
func TestSurveyOnLine(t *testing.T) {
	r, api := lineRunnerFor(t, "trigger: order.created\nactions:\n  - {type: survey, scale: nps, channel: line, template: satisfaction-survey}\n")
	p, o := linked(t, "c-survey-line")
	key := "order:" + o.ID + ":order.created"
	for i, want := range []string{"note:line=sent", "note:line=already_sent"} {
		if got := statuses(runOnce(t, r, p, o, key)); got != want {
			t.Fatalf("run %d = %s, want %s", i+1, got, want)
		}
	}
	pushes := api.Requests(lineapi.PushPath)
	if len(pushes) != 1 {
		t.Fatalf("%d pushes, want 1", len(pushes))
	}
	var body struct {
		Messages []struct {
			Type       string `json:"type"`
			QuickReply struct {
				Items []struct {
					Action struct{ Label, Data string } `json:"action"`
				} `json:"items"`
			} `json:"quickReply"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(pushes[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Messages) != 1 || len(body.Messages[0].QuickReply.Items) != 11 {
		t.Fatalf("push = %s, want one text with 11 score buttons", pushes[0].Body)
	}
	last, _ := url.ParseQuery(body.Messages[0].QuickReply.Items[10].Action.Data)
	if last.Get("action") != "survey" || last.Get("s") != "10" || last.Get("m") != MessageKey("note", 0, key, p.ID) || last.Get("o") != o.ID {
		t.Errorf("the 10's postback data = %v", last)
	}
}
