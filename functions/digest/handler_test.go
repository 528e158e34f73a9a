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
	supportdesk "github.com/tsunagu-dev/tsunagu/shared/support"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestTicks runs the function as deployed (its DynamoDB and SES
// permissions from template.yaml, the shipped rules) through Monday's ticks: the
// open support case is told at the first tick, the weekly report goes out
// at 09:00 shop time once, and a bounce rate near the SES review rate is
// alerted once.
func TestTicks(t *testing.T) {
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
	st := store.New(testenv.DynamoDBAs(t, "DigestFunction"), table)
	job := digest.NewJob(st, mailer, set)
	to, desk := testenv.UniqueEmail(t, "marketing"), testenv.UniqueEmail(t, "support")
	job.Report.Recipients = []string{to}
	support := set.Settings.Support
	support.Address = desk
	h := &Handler{Job: job, Desk: &supportdesk.Desk{Store: st, Mailer: mailer, Support: support, Shop: set.Settings.Shop.Name, Location: tokyo}}
	// A complaint the SES feedback function opened a case for.
	if _, err := admin.OpenCase(ctx, store.Case{ID: "complaint#k-1", Cause: supportdesk.Complaint, CustomerID: "c-1", At: time.Date(2026, 11, 29, 22, 58, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}

	// Ticks at 08:00, 08:05, 09:00 and 09:05 Tokyo.
	want := []Result{
		{Result: digest.Result{Alerts: []string{"alert#2026-11-30#bounce-near"}}, CasesTold: 1},
		{},
		{Result: digest.Result{Weekly: "2026-W49"}},
		{},
	}
	for i, w := range want {
		at := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC).Add(time.Duration(i%2)*5*time.Minute + time.Duration(i/2)*time.Hour)
		got, err := h.Handle(ctx, testenv.ScheduledEvent(t, "DigestFunction", at))
		if err != nil {
			t.Fatalf("tick at %s: %v", at, err)
		}
		if got.Weekly != w.Weekly || !slices.Equal(got.Alerts, w.Alerts) || got.CasesTold != w.CasesTold {
			t.Errorf("tick at %s = %+v, want %+v", at.In(tokyo), got, w)
		}
	}
	if got := testenv.SentEmails(t, desk); len(got) != 1 || !strings.Contains(got[0].Subject, "【要対応】") {
		t.Errorf("support received %d emails, want the case's", len(got))
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
	h := &Handler{Job: &digest.Job{}, Desk: &supportdesk.Desk{}}
	if _, err := h.Handle(context.Background(), json.RawMessage(`{}`)); err == nil {
		t.Error("an event without time was taken")
	}
}
