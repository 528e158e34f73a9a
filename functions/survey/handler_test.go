package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "survey-test-secret-0123456789abcdef"

var (
	sent     = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	tokyo, _ = time.LoadLocation("Asia/Tokyo")
)

const phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"

type fixture struct {
	h     *Handler
	st    *store.Store
	links *survey.Sealer
	now   time.Time
}

// newFixture is the handler as main wires it, under the function's IAM
// policy in template.yaml, and an unrestricted store for checks.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDBAs(t, "SurveyFunction"), table)
	links, err := survey.NewSealer("", secret)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: store.New(testenv.DynamoDB(), table), links: links, now: sent.Add(2 * time.Hour)}
	f.h = &Handler{Tokens: links, Shop: "椿茶園", Now: func() time.Time { return f.now },
		Answers: &survey.Recorder{Store: st, Cases: &support.Opener{Store: st, CoolingOff: 30 * 24 * time.Hour}, Location: tokyo}}
	return f
}

func ask(scale string) survey.Ask {
	return survey.Ask{MessageKey: "k-" + scale, CampaignID: "satisfaction-survey", CustomerID: "c-1", OrderID: "1001", Scale: scale, SentAt: sent}
}

func (f *fixture) call(t *testing.T, method, token, query, body, agent string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{RouteKey: method + " /survey/{token}", PathParameters: map[string]string{"token": token}, RawQueryString: query, Body: body,
		Headers: map[string]string{"user-agent": agent}}
	req.RequestContext.HTTP.Method = method
	res, err := f.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) answer(t *testing.T, key string) (store.SurveyAnswer, bool) {
	t.Helper()
	a, err := f.st.GetSurveyAnswer(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return a, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return a, true
}

// TestAnswers walks one NPS survey: a tap records the score and offers
// the comment form, a second tap changes the score (one answer), the form
// adds a comment; the profile keeps the latest NPS; an unhappy score opens
// one case, and its comment another, with the customer's words.
func TestAnswers(t *testing.T) {
	f := newFixture(t)
	token := f.links.Token(ask("nps"))
	steps := []struct {
		name, method, query, body string
		status                    int
		page                      string
		score                     int
		comment                   string
	}{
		{"the form without a score", "GET", "", "", 200, "送信する", -1, ""},
		{"a tap of 9", "GET", "score=9", "", 200, "ご回答ありがとうございました（9）", 9, ""},
		{"a second tap of 3", "GET", "score=3", "", 200, "ご回答ありがとうございました（3）", 3, ""},
		{"a score off the scale", "GET", "score=11", "", 400, "点数が範囲の外です", 3, ""},
		{"the form with a comment", "POST", "", "score=4&comment=" + url.QueryEscape("届くまで10日 <b>かかりました</b>"), 200, "コメントをお送りいただき", 4, "届くまで10日 <b>かかりました</b>"},
		{"the form without a score", "POST", "", "comment=x", 400, "点数を選んでください", 4, "届くまで10日 <b>かかりました</b>"},
		{"a comment too long is refused, not cut", "POST", "", "score=4&comment=" + strings.Repeat("あ", MaxComment+1), 400, "コメントは2000文字までです（いま2001文字）", 4, "届くまで10日 <b>かかりました</b>"},
	}
	for _, s := range steps {
		res := f.call(t, s.method, token, s.query, s.body, phone)
		if res.StatusCode != s.status || !strings.Contains(res.Body, s.page) {
			t.Errorf("%s: %d, want %d with %q:\n%.400s", s.name, res.StatusCode, s.status, s.page, res.Body)
		}
		a, ok := f.answer(t, "k-nps")
		if s.score < 0 {
			if ok {
				t.Errorf("%s: an answer was stored: %+v", s.name, a)
			}
			continue
		}
		if !ok || a.Score != s.score || a.Comment != s.comment || !a.FirstAt.Equal(f.now) {
			t.Errorf("%s: answer %+v, want score %d comment %q", s.name, a, s.score, s.comment)
		}
	}
	if strings.Contains(f.call(t, "GET", token, "score=4", "", phone).Body, "<b>かかりました</b>") {
		t.Error("the page shows the comment's markup")
	}
	p, err := f.st.GetProfile(context.Background(), "c-1")
	if err != nil || p.NPS() != 4 {
		t.Errorf("last nps %d (%v), want 4", p.NPS(), err)
	}
	// One answer, a detractor now (9, then 3, then 4): the shop's counters
	// hold it once, in its latest bucket.
	days, err := f.st.StatsBetween(context.Background(), store.ShopStatsPartition, "DAY#", "DAY#~")
	if err != nil {
		t.Fatal(err)
	}
	total := store.Counts{}
	for _, c := range days {
		total.Add(c)
	}
	if total["nps_detractors"] != 1 || total["nps_promoters"] != 0 || total["nps_passives"] != 0 {
		t.Errorf("shop counters %v, want one detractor", total)
	}
	cases, err := f.st.OpenCases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.ID+" "+c.About+" "+c.Said)
	}
	want := []string{"low_score#k-nps NPS 3 ", "low_score_comment#k-nps NPS 4 届くまで10日 <b>かかりました</b>"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("cases %q, want %q", got, want)
	}
}

// TestRefusedTaps: a forged or altered link, a survey past its time, a
// scanner's prefetch and a HEAD record nothing.
func TestRefusedTaps(t *testing.T) {
	f := newFixture(t)
	token := f.links.Token(ask("csat"))
	other, _ := survey.NewSealer("", "another-secret-0123456789abcdefghij")
	tests := []struct {
		name, method, token, agent string
		at                         time.Time
		status                     int
	}{
		{"forged with another key", "GET", other.Token(ask("csat")), phone, f.now, 400},
		{"altered", "GET", token[:len(token)-2] + "xx", phone, f.now, 400},
		{"not a token", "GET", "nope", phone, f.now, 400},
		{"past its 30 days", "GET", token, phone, sent.Add(survey.ValidFor + time.Hour), 410},
		{"a link scanner's prefetch", "GET", token, "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", sent.Add(5 * time.Second), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.now = tt.at
			res := f.call(t, tt.method, tt.token, "score=1", "", tt.agent)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			if _, ok := f.answer(t, "k-csat"); ok {
				t.Error("an answer was stored")
			}
			if cases, _ := f.st.OpenCases(context.Background()); len(cases) != 0 {
				t.Errorf("%d cases opened", len(cases))
			}
		})
	}
	f.now = sent.Add(time.Hour)
	if res := f.call(t, "GET", token, "score=1", "", phone); res.StatusCode != http.StatusOK {
		t.Fatalf("a person's tap: %d", res.StatusCode)
	}
	if a, ok := f.answer(t, "k-csat"); !ok || a.Score != 1 || a.Scale != "csat" {
		t.Errorf("csat answer %+v", a)
	}
}

// TestNPSByStage: an answer counts under the customer's lifecycle stage
// when they first answered as well as the shop's (the report's NPS by
// stage), and a changed answer moves within that stage even when the
// customer's stage moved since.
func TestNPSByStage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	setStage := func(s customer.Stage) {
		t.Helper()
		if _, err := f.st.UpdateProfile(ctx, "c-1", func(p *customer.Profile) bool { p.Stage = s; return true }); err != nil {
			t.Fatal(err)
		}
	}
	token := f.links.Token(ask("nps"))
	setStage(customer.StageLoyal)
	f.call(t, "GET", token, "score=10", "", phone)
	setStage(customer.StageAtRisk)
	f.call(t, "GET", token, "score=2", "", phone)
	days, err := f.st.StatsBetween(ctx, store.ShopStatsPartition, "DAY#", "DAY#~")
	if err != nil {
		t.Fatal(err)
	}
	total := store.Counts{}
	for _, c := range days {
		total.Add(c)
	}
	want := map[string]int64{"nps_detractors": 1, "nps_promoters": 0, "nps_detractors@loyal": 1, "nps_promoters@loyal": 0, "nps_detractors@at_risk": 0}
	for name, n := range want {
		if total[name] != n {
			t.Errorf("counter %s = %d, want %d (all: %v)", name, total[name], n, total)
		}
	}
}
