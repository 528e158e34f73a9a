package report

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/kpi"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestPeriodEmailGolden renders the weekly email of a week with figures
// and of an empty one.
func TestPeriodEmailGolden(t *testing.T) {
	st := fixture(t)
	tests := []struct {
		name, from, to string
		want           []string // in both parts
	}{
		{name: "weekly", from: "2026-11-23", to: "2026-11-29", want: []string{"週次レポート 2026年11月23日", "売上", "report-2026-11-23.html"}},
		{name: "weekly-empty", from: "2024-01-01", to: "2024-01-07", want: []string{"この期間のデータはありません", "report-2026-11-23.html"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := PeriodEmail(figures(t, st, tt.from, tt.to), names, "report-2026-11-23.html")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name+"-email.html", e.HTML)
			golden.Check(t, tt.name+"-email.txt", "Subject: "+e.Subject+"\n\n"+e.Text)
			for _, w := range tt.want {
				if !strings.Contains(e.Subject+e.HTML, w) || !strings.Contains(e.Subject+e.Text, w) {
					t.Errorf("email lacks %q", w)
				}
			}
		})
	}
}

// TestAlertEmailGolden renders the alert for bounces near the SES review
// rate, and for complaints over the mailbox providers' limit.
func TestAlertEmailGolden(t *testing.T) {
	tests := []struct {
		name    string
		counts  store.Counts
		subject string
	}{
		{"alert-bounce-near", store.Counts{"email_sent": 1000, "email_delivered": 940, "email_bounced": 60, "email_complained": 1}, "【要確認】椿茶園 メール配信のバウンス率が上限に近づいています"},
		{"alert-complaint-over", store.Counts{"email_sent": 2000, "email_delivered": 1990, "email_bounced": 10, "email_complained": 8}, "【要確認】椿茶園 メール配信の苦情率が上限を超えています"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
			day := time.Date(2026, 11, 28, 0, 0, 0, 0, tokyo)
			if err := st.AddCounts(ctx, store.ShopStatsPartition, store.DayKey(day, tokyo), day, tt.counts); err != nil {
				t.Fatal(err)
			}
			p := kpi.Period{From: day.AddDate(0, 0, -6), To: day}
			d, err := kpi.DeliverabilityIn(ctx, st, p)
			if err != nil {
				t.Fatal(err)
			}
			e, err := AlertEmail(d, p, names)
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", e.Subject, tt.subject)
			}
			golden.Check(t, tt.name+".html", e.HTML)
			golden.Check(t, tt.name+".txt", "Subject: "+e.Subject+"\n\n"+e.Text)
		})
	}
}
