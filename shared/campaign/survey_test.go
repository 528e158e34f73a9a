package campaign

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

const surveyAction = "kind: marketing\ntrigger: order.delivered\nactions: [{type: survey, scale: nps, template: satisfaction-survey}]\n"

// TestSurveys: a survey email carries one link per score, each opening to
// its message and customer; two campaigns asking at once for one customer
// send one survey; and none goes again within surveys.min_interval.
func TestSurveys(t *testing.T) {
	// Transactional here, so that no cap keeps the two apart: the survey
	// gate must.
	transactional := strings.Replace(surveyAction, "kind: marketing", "kind: transactional", 1)
	set := ruleSet(t, map[string]string{"survey-a": transactional, "survey-b": "priority: 1\n" + transactional})
	r, _ := newRunner(t, set)
	links, err := survey.NewSealer(r.PublicURL, "dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	r.Surveys = links
	p, o := buyer(t, "c-survey")
	ctx := context.Background()
	// The two campaigns, each on its own delivery event of the same moment,
	// race.
	var wg sync.WaitGroup
	for _, id := range []string{"survey-a", "survey-b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := Trigger{Event: rules.TriggerOrderDelivered, Key: "order:" + o.ID + ":order.delivered:" + id, At: tokyo(12, 0), Profile: p, Order: o, Campaign: id}
			if _, err := r.Run(ctx, tr); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mails := testenv.SentEmails(t, p.Email)
	if len(mails) != 1 {
		t.Fatalf("%d surveys sent to one customer at once, want 1", len(mails))
	}
	urls := regexp.MustCompile(`https://hooks\.example\.jp/survey/([^?"\s]+)\?score=(\d+)`).FindAllStringSubmatch(mails[0].Body.Text, -1)
	if len(urls) != 11 || urls[0][2] != "0" || urls[10][2] != "10" {
		t.Fatalf("score links in the text: %d, want 0 to 10", len(urls))
	}
	a, err := links.Open(urls[0][1])
	if err != nil || a.CustomerID != p.ID || a.OrderID != o.ID || a.Scale != rules.ScaleNPS || !strings.HasPrefix(a.CampaignID, "survey-") {
		t.Errorf("the link opens to %+v, %v", a, err)
	}
	// A month later, another order: still within 90 days, no survey.
	later := Trigger{Event: rules.TriggerOrderDelivered, Key: "order:o-later:order.delivered", At: tokyo(12, 0).Add(30 * 24 * time.Hour), Profile: p, Order: o, Campaign: "survey-a"}
	out, err := r.Run(ctx, later)
	if err != nil || len(out) != 1 || out[0].Reason != ReasonSurveyThrottled {
		t.Errorf("a survey within 90 days: %+v, %v", out, err)
	}
	// After 90 days: asked again.
	after := later
	after.Key, after.At = "order:o-after:order.delivered", tokyo(12, 0).Add(91*24*time.Hour)
	if out, err := r.Run(ctx, after); err != nil || statuses(out) != "survey-a:email=sent" {
		t.Errorf("a survey after 90 days: %s, %v", statuses(out), err)
	}
}
