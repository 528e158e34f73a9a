package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/digest"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestHourlyTicks runs the function as deployed (its DynamoDB and SES
// permissions from template.yaml, the shipped rules) through Monday's ticks: the
// weekly report goes out at 09:05 shop time once, and a bounce rate near
// the SES review rate is alerted once.
func TestHourlyTicks(t *testing.T) {
	ctx := context.Background()
	table := testenv.NewTable(t)
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	tokyo := set.Settings.Location
	sunday := time.Date(2026, 11, 29, 12, 0, 0, 0, tokyo)
	admin := store.New(testenv.DynamoDB(), table)
	if err := admin.AddCounts(ctx, store.ShopStatsPartition, store.DayKey(sunday, tokyo), sunday,
		store.Counts{"orders": 7, "revenue": 31500, "email_sent": 400, "email_delivered": 375, "email_bounced": 25}); err != nil {
		t.Fatal(err)
	}
	mailer, err := email.NewSender(testenv.SESAs(t, "DigestFunction"), set.Settings.FromName, testenv.SenderEmail, set.Settings.ReplyTo, "")
	if err != nil {
		t.Fatal(err)
	}
	job := digest.NewJob(store.New(testenv.DynamoDBAs(t, "DigestFunction"), table), mailer, set)
	to := testenv.UniqueEmail(t, "marketing")
	job.Report.Recipients = []string{to}
	h := &Handler{Job: job}

	want := []digest.Result{
		{Alerts: []string{"alert#2026-11-30#bounce-near"}}, // 08:05: not yet the report
		{Weekly: "2026-W49"}, // 09:05
		{},                   // 10:05
	}
	for i, w := range want {
		at := time.Date(2026, 11, 29, 23+i, 5, 0, 0, time.UTC) // 08:05 Tokyo on
		got, err := h.Handle(ctx, testenv.ScheduledEvent(t, "DigestFunction", at))
		if err != nil {
			t.Fatalf("tick at %s: %v", at, err)
		}
		if got.Weekly != w.Weekly || !slices.Equal(got.Alerts, w.Alerts) {
			t.Errorf("tick at %s = %+v, want %+v", at.In(tokyo), got, w)
		}
	}
	sent := testenv.SentEmails(t, to)
	if len(sent) != 2 {
		t.Fatalf("%d emails, want the alert and the report", len(sent))
	}
	if !strings.Contains(sent[0].Subject, "バウンス率が上限に近づいています") || !strings.Contains(sent[1].Subject, "週次レポート") {
		t.Errorf("subjects %q, %q", sent[0].Subject, sent[1].Subject)
	}
}

func TestHandleRefusesAnEventWithoutTime(t *testing.T) {
	h := &Handler{Job: &digest.Job{}}
	if _, err := h.Handle(context.Background(), json.RawMessage(`{}`)); err == nil {
		t.Error("an event without time was taken")
	}
}
