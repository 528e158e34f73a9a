package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestRecordClick: the first click of a message's link is recorded once,
// whoever clicks it how often, and concurrently too; another link of the
// same message is a click of its own. CustomerClicks lists a customer's
// clicks since a time, newest last.
func TestRecordClick(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	click := Click{MessageKey: "k-1", CampaignID: "nudge", Variant: "b", CustomerID: "c-1", Link: 0, URL: "https://tsubaki-chaen.example.jp", At: at}
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range 8 {
		wg.Go(func() {
			first, err := s.RecordClick(ctx, click)
			if err != nil {
				t.Error(err)
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("%d calls recorded the first click, want 1", firsts)
	}
	later := click
	later.Link, later.URL, later.At = 1, "https://tsubaki-chaen.example.jp/collections/tea", at.Add(time.Minute)
	older := Click{MessageKey: "k-0", CampaignID: "winback", CustomerID: "c-1", Link: 0, URL: "https://tsubaki-chaen.example.jp", At: at.Add(-48 * time.Hour)}
	other := Click{MessageKey: "k-9", CampaignID: "nudge", CustomerID: "c-2", Link: 0, URL: "https://tsubaki-chaen.example.jp", At: at}
	for _, c := range []Click{later, older, other} {
		if first, err := s.RecordClick(ctx, c); err != nil || !first {
			t.Fatalf("RecordClick(%+v) = %v, %v", c, first, err)
		}
	}
	tests := []struct {
		name  string
		since time.Time
		want  []Click
	}{
		{name: "the last day", since: at.Add(-24 * time.Hour), want: []Click{click, later}},
		{name: "everything", since: at.Add(-72 * time.Hour), want: []Click{older, click, later}},
		{name: "after the last", since: at.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CustomerClicks(ctx, "c-1", tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("CustomerClicks = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("click %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestMessageMarks: opened_at, clicked_at and ses_clicked_at are each
// set once; a click reported by SES after the redirect's marks the SES
// click but not a second first click, and the redirect after SES finds
// the message clicked. Unknown and expired messages are marked nothing.
func TestMessageMarks(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	now := time.Now().UTC()
	claim := func(key string, at time.Time) {
		t.Helper()
		if ok, _, err := s.ClaimMessage(ctx, MessageRecord{Key: key, CampaignID: "nudge", Variant: "b", Channel: "email", CustomerID: "c-1"}, at); err != nil || !ok {
			t.Fatalf("claim %s = %v, %v", key, ok, err)
		}
	}
	claim("k-redirect-first", now)
	claim("k-ses-first", now)
	claim("k-expired", now.Add(-MessageRetention-time.Hour))

	if first, err := s.MarkMessageClicked(ctx, "k-redirect-first", now); err != nil || !first {
		t.Fatalf("first redirect click = %v, %v", first, err)
	}
	if first, err := s.MarkMessageClicked(ctx, "k-redirect-first", now.Add(time.Minute)); err != nil || first {
		t.Fatalf("second redirect click = %v, %v; want not first", first, err)
	}
	rec, first, err := s.MarkMessageSESClicked(ctx, "k-redirect-first", now.Add(time.Second))
	if err != nil || !first || rec.ClickedAt.IsZero() || rec.CampaignID != "nudge" || rec.Variant != "b" {
		t.Fatalf("SES click after the redirect's = %+v, %v, %v; want the first SES click of a clicked message", rec, first, err)
	}
	if _, first, err := s.MarkMessageSESClicked(ctx, "k-redirect-first", now.Add(2*time.Second)); err != nil || first {
		t.Fatalf("second SES click = %v, %v", first, err)
	}

	rec, first, err = s.MarkMessageSESClicked(ctx, "k-ses-first", now)
	if err != nil || !first || !rec.ClickedAt.IsZero() {
		t.Fatalf("SES click first = %+v, %v, %v; want a message not clicked before", rec, first, err)
	}
	if first, err := s.MarkMessageClicked(ctx, "k-ses-first", now.Add(time.Second)); err != nil || first {
		t.Fatalf("redirect click after SES's = %v, %v; want the message clicked already", first, err)
	}
	if msg, err := s.GetMessage(ctx, "k-ses-first"); err != nil || !msg.ClickedAt.Equal(now) || !msg.SESClickedAt.Equal(now) {
		t.Errorf("message = %+v, %v", msg, err)
	}

	rec, first, err = s.MarkMessageOpened(ctx, "k-ses-first", now)
	if err != nil || !first || rec.CampaignID != "nudge" || rec.Variant != "b" || !rec.OpenedAt.Equal(now) {
		t.Fatalf("first open = %+v, %v, %v", rec, first, err)
	}
	if _, first, err := s.MarkMessageOpened(ctx, "k-ses-first", now.Add(time.Hour)); err != nil || first {
		t.Fatalf("second open = %v, %v", first, err)
	}

	for _, key := range []string{"k-expired", "k-unknown"} {
		if first, err := s.MarkMessageClicked(ctx, key, now); err != nil || first {
			t.Errorf("%s: click = %v, %v; want nothing marked", key, first, err)
		}
		if _, first, err := s.MarkMessageOpened(ctx, key, now); err != nil || first {
			t.Errorf("%s: open = %v, %v; want nothing marked", key, first, err)
		}
		if _, first, err := s.MarkMessageSESClicked(ctx, key, now); err != nil || first {
			t.Errorf("%s: SES click = %v, %v; want nothing marked", key, first, err)
		}
	}
	if item, _ := s.getItem(ctx, messagePK("k-unknown"), "MESSAGE", now); item != nil {
		t.Errorf("a mark created a message: %v", item)
	}
}
