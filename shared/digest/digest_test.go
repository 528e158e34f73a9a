package digest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/report"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// at is a time in the shop's zone.
func at(day, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

// newJob is the job against a fresh table and the SES emulator, for two
// staff addresses of the test's own.
func newJob(t *testing.T) (*Job, *store.Store, []string) {
	t.Helper()
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	mailer, err := email.NewSender(testenv.SES(), "椿茶園", "report@tsubaki-chaen.example.jp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	to := []string{testenv.UniqueEmail(t, "marketing"), testenv.UniqueEmail(t, "owner")}
	return &Job{Store: st, Mailer: mailer, Report: rules.Report{Recipients: to, Weekly: true, Alerts: true}, Location: tokyo,
		Names: report.Names{Shop: "椿茶園"}, Campaigns: []kpi.Campaign{{ID: "post-purchase-thanks", Name: "購入お礼"}}}, st, to
}

// addShopCounts adds the shop's counters of a day, as the functions do.
func addShopCounts(t *testing.T, st *store.Store, day string, c store.Counts) {
	t.Helper()
	d := at(day, "12:00")
	if err := st.AddCounts(context.Background(), store.ShopStatsPartition, store.DayKey(d, tokyo), d, c); err != nil {
		t.Fatal(err)
	}
}

// TestWeeklyReport: the report goes out on Monday from 09:00 shop time,
// once however often the hourly tick runs, to every recipient with the
// full report attached, covering the week before.
func TestWeeklyReport(t *testing.T) {
	j, st, to := newJob(t)
	j.Report.Alerts = false
	addShopCounts(t, st, "2026-11-25", store.Counts{"orders": 12, "revenue": 54000, "first_orders": 5})
	addShopCounts(t, st, "2026-11-30", store.Counts{"orders": 99, "revenue": 990000}) // Monday itself: next week's
	ctx := context.Background()
	ticks := []struct {
		now  time.Time
		want string // the week sent, "" for none
	}{
		{at("2026-11-30", "08:59"), ""},         // Monday, before 09:00
		{at("2026-11-30", "09:00"), "2026-W49"}, // due
		{at("2026-11-30", "10:00"), ""},         // sent already
		{at("2026-11-30", "23:59"), ""},
		{at("2026-12-01", "09:00"), ""}, // Tuesday
	}
	for _, tk := range ticks {
		res, err := j.Run(ctx, tk.now)
		if err != nil {
			t.Fatalf("tick at %s: %v", tk.now, err)
		}
		if res.Weekly != tk.want {
			t.Errorf("tick at %s sent week %q, want %q", tk.now, res.Weekly, tk.want)
		}
	}
	for _, addr := range to {
		if got := testenv.SentEmails(t, addr); len(got) != 1 {
			t.Fatalf("%s received %d emails, want 1", addr, len(got))
		}
	}
	e := testenv.SentEmails(t, to[0])[0]
	if e.Subject != "【椿茶園】週次レポート 2026年11月23日〜2026年11月29日" || len(e.Destination.To) != 1 || len(e.Destination.Cc) != 0 {
		t.Errorf("subject %q, %d To, %d Cc; want the week's report to each recipient alone", e.Subject, len(e.Destination.To), len(e.Destination.Cc))
	}
	for _, w := range []string{"¥54,000", "12件"} {
		if !strings.Contains(e.Body.HTML, w) || !strings.Contains(e.Body.Text, w) {
			t.Errorf("the email lacks the week's %s", w)
		}
	}
	if strings.Contains(e.Body.Text, "¥990,000") {
		t.Error("the email counts Monday's orders, which belong to the next week")
	}
	if len(e.Attachments) != 1 || e.Attachments[0].Filename != "report-2026-11-23.html" {
		t.Fatalf("attachments: %+v", e.Attachments)
	}
	page, _ := base64.StdEncoding.DecodeString(e.Attachments[0].Content)
	if !strings.Contains(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), "¥54,000") {
		t.Errorf("the attachment is not the week's report page: %.200s", page)
	}
}

// TestWeeklyReportCatchesUp: a week whose Monday ticks all failed gets its
// report on a later day of the week, once; the next week's Monday before
// 09:00 sends nothing more.
func TestWeeklyReportCatchesUp(t *testing.T) {
	j, st, to := newJob(t)
	j.Report.Alerts = false
	addShopCounts(t, st, "2026-11-25", store.Counts{"orders": 3, "revenue": 9000})
	for _, tk := range []struct {
		now  time.Time
		want string
	}{{at("2026-12-02", "15:00"), "2026-W49"}, {at("2026-12-06", "23:55"), ""}, {at("2026-12-07", "08:55"), ""}} {
		res, err := j.Run(context.Background(), tk.now)
		if err != nil || res.Weekly != tk.want {
			t.Errorf("tick at %s sent %q (%v), want %q", tk.now, res.Weekly, err, tk.want)
		}
	}
	if got := testenv.SentEmails(t, to[0]); len(got) != 1 {
		t.Errorf("%d reports, want 1", len(got))
	}
}

// TestWeeklyReportConcurrentTicks: ticks that overlap send one report.
func TestWeeklyReportConcurrentTicks(t *testing.T) {
	j, st, to := newJob(t)
	j.Report.Alerts = false
	addShopCounts(t, st, "2026-11-25", store.Counts{"orders": 3, "revenue": 9000})
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := j.Run(context.Background(), at("2026-11-30", "09:00").Add(time.Duration(i)*time.Second)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := testenv.SentEmails(t, to[0]); len(got) != 1 {
		t.Errorf("overlapping ticks sent %d reports, want 1", len(got))
	}
}

// failingMailer fails its first sends with err, then sends through the
// emulator.
type failingMailer struct {
	fails int
	err   error
	next  Mailer
}

func (m *failingMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	if m.fails > 0 {
		m.fails--
		return "", m.err
	}
	return m.next.Send(ctx, msg)
}

// TestFailedSendIsRetried: a send that fails gives its claim back; the
// next tick sends the report, once.
func TestFailedSendIsRetried(t *testing.T) {
	j, st, to := newJob(t)
	addShopCounts(t, st, "2026-11-25", store.Counts{"orders": 3, "revenue": 9000})
	j.Mailer = &failingMailer{fails: 1, err: errors.New("ses: throttled"), next: j.Mailer}
	if _, err := j.Run(context.Background(), at("2026-11-30", "09:00")); err == nil {
		t.Fatal("a failed send reported no error")
	}
	if got := testenv.SentEmails(t, to[0]); len(got) != 0 {
		t.Fatalf("%d emails after a failed send", len(got))
	}
	for _, clock := range []string{"10:00", "11:00"} {
		if _, err := j.Run(context.Background(), at("2026-11-30", clock)); err != nil {
			t.Fatal(err)
		}
	}
	if got := testenv.SentEmails(t, to[0]); len(got) != 1 {
		t.Errorf("%d emails after the retry, want 1", len(got))
	}
}

// TestRejectedSendIsNotRetried: a report SES refuses for good (an
// unverified address) is reported, not tried again every tick.
func TestRejectedSendIsNotRetried(t *testing.T) {
	j, st, to := newJob(t)
	j.Report.Alerts = false
	addShopCounts(t, st, "2026-11-25", store.Counts{"orders": 3, "revenue": 9000})
	j.Mailer = &failingMailer{fails: 1, err: fmt.Errorf("send email: %w: MessageRejected", email.ErrRejected), next: j.Mailer}
	if _, err := j.Run(context.Background(), at("2026-11-30", "09:00")); !errors.Is(err, email.ErrRejected) {
		t.Fatalf("a rejected send reported %v", err)
	}
	if res, err := j.Run(context.Background(), at("2026-11-30", "09:05")); err != nil || res.Weekly != "" {
		t.Errorf("the next tick = %+v, %v; want nothing tried again", res, err)
	}
	if got := testenv.SentEmails(t, to[0]); len(got) != 0 {
		t.Errorf("%d emails after a rejection", len(got))
	}
}

// refusingMailer refuses one address for good, as SES refuses an
// unverified one in its sandbox, and sends the rest.
type refusingMailer struct {
	refused string
	next    Mailer
}

func (m refusingMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	if msg.To == m.refused {
		return "", fmt.Errorf("send email: %w: MessageRejected", email.ErrRejected)
	}
	return m.next.Send(ctx, msg)
}

// TestOneRecipientRefused: an address SES refuses costs only its own
// email; the other recipients get theirs, once.
func TestOneRecipientRefused(t *testing.T) {
	j, st, to := newJob(t)
	addShopCounts(t, st, "2026-11-25", store.Counts{"orders": 3, "revenue": 9000})
	j.Mailer = refusingMailer{refused: to[0], next: j.Mailer}
	for _, clock := range []string{"09:00", "09:05"} {
		res, err := j.Run(context.Background(), at("2026-11-30", clock))
		if clock == "09:00" && (res.Weekly != "2026-W49" || !errors.Is(err, email.ErrRejected)) {
			t.Errorf("first tick = %+v, %v; want the report sent and the refusal reported", res, err)
		}
	}
	if got := testenv.SentEmails(t, to[1]); len(got) != 1 {
		t.Errorf("the other recipient got %d reports, want 1", len(got))
	}
}

// TestAlerts: an alert when a rate of the last 7 days nears or passes its
// limit, once per day, rate and level; nothing on too few emails or when
// turned off.
func TestAlerts(t *testing.T) {
	type tick struct {
		add  store.Counts // added to the day's counters before the tick
		day  string
		want []string
	}
	tests := []struct {
		name   string
		alerts bool
		ticks  []tick
	}{
		{name: "bounces near, then over, then the next day", alerts: true, ticks: []tick{
			{add: store.Counts{"email_sent": 1000, "email_delivered": 990, "email_bounced": 10}, day: "2026-12-01"},
			{add: store.Counts{"email_sent": 100, "email_bounced": 60}, day: "2026-12-01", want: []string{"alert#2026-12-01#bounce-near"}},
			{day: "2026-12-01"},
			{add: store.Counts{"email_sent": 100, "email_bounced": 100}, day: "2026-12-01", want: []string{"alert#2026-12-01#bounce-over"}},
			{day: "2026-12-01"},
			{day: "2026-12-02", want: []string{"alert#2026-12-02#bounce-over"}},
		}},
		{name: "complaints and bounces together", alerts: true, ticks: []tick{
			{add: store.Counts{"email_sent": 1000, "email_delivered": 900, "email_bounced": 100, "email_complained": 4}, day: "2026-12-01",
				want: []string{"alert#2026-12-01#bounce-over", "alert#2026-12-01#complaint-over"}},
		}},
		{name: "too few emails to say", alerts: true, ticks: []tick{
			{add: store.Counts{"email_sent": AlertMinSent - 1, "email_delivered": AlertMinSent - 11, "email_bounced": 10, "email_complained": 1}, day: "2026-12-01"},
		}},
		{name: "turned off", alerts: false, ticks: []tick{
			{add: store.Counts{"email_sent": 1000, "email_delivered": 900, "email_bounced": 100, "email_complained": 4}, day: "2026-12-01"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, st, to := newJob(t)
			j.Report.Weekly, j.Report.Alerts = false, tt.alerts
			sent := 0
			for i, tk := range tt.ticks {
				if tk.add != nil {
					addShopCounts(t, st, tk.day, tk.add)
				}
				res, err := j.Run(context.Background(), at(tk.day, "15:00").Add(time.Duration(i)*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(res.Alerts, ",") != strings.Join(tk.want, ",") {
					t.Errorf("tick %d alerted %q, want %q", i, res.Alerts, tk.want)
				}
				if len(tk.want) > 0 {
					sent++
				}
			}
			if got := testenv.SentEmails(t, to[1]); len(got) != sent {
				t.Errorf("%d alert emails, want %d", len(got), sent)
			}
		})
	}
}

// TestNoRecipients: without report.recipients nothing is read or sent.
func TestNoRecipients(t *testing.T) {
	j, _, _ := newJob(t)
	j.Report.Recipients = nil
	j.Store = nil // any read would panic
	if res, err := j.Run(context.Background(), at("2026-11-30", "09:00")); err != nil || res.Weekly != "" || len(res.Alerts) != 0 {
		t.Errorf("Run = %+v, %v", res, err)
	}
}
