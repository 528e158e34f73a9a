package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	lineUser  = "Ua1b2c3d4e5f60718293a4b5c6d7e8f90"
	otherUser = "U0f9e8d7c6b5a49382716f5e4d3c2b1a0"
)

func TestLineLinks(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if _, err := s.GetLineLink(ctx, lineUser); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetLineLink before = %v, want ErrNotFound", err)
	}
	steps := []struct {
		name         string
		customer     string
		at           time.Time
		wantApplied  bool
		wantCustomer string
		wantLinkedAt time.Time
	}{
		{name: "first link", customer: "c-1", at: t0, wantApplied: true, wantCustomer: "c-1", wantLinkedAt: t0},
		{name: "same link again (a retry)", customer: "c-1", at: t0, wantApplied: true, wantCustomer: "c-1", wantLinkedAt: t0},
		{name: "relinked to another customer", customer: "c-2", at: t0.Add(time.Hour), wantApplied: true, wantCustomer: "c-2", wantLinkedAt: t0.Add(time.Hour)},
		{name: "an older link arriving late", customer: "c-1", at: t0.Add(time.Minute), wantApplied: false, wantCustomer: "c-2", wantLinkedAt: t0.Add(time.Hour)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			applied, err := s.LinkLineUser(ctx, lineUser, st.customer, st.at)
			if err != nil || applied != st.wantApplied {
				t.Fatalf("LinkLineUser = %v, %v; want %v", applied, err, st.wantApplied)
			}
			l, err := s.GetLineLink(ctx, lineUser)
			if err != nil || l.CustomerID != st.wantCustomer || l.UserID != lineUser || !l.LinkedAt.Equal(st.wantLinkedAt) {
				t.Errorf("GetLineLink = %+v, %v; want customer %s linked at %v", l, err, st.wantCustomer, st.wantLinkedAt)
			}
		})
	}
}

func TestRecordLineFollow(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if _, _, err := s.RecordLineFollow(ctx, otherUser, false, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unlinked user = %v, want ErrNotFound", err)
	}
	if _, err := s.LinkLineUser(ctx, lineUser, "c-1", t0); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		following bool
		at        time.Time
		wantNew   bool
		wantState bool
	}{
		{name: "unfollow", following: false, at: t0.Add(2 * time.Hour), wantNew: true, wantState: false},
		{name: "the same unfollow redelivered", following: false, at: t0.Add(2 * time.Hour), wantNew: true, wantState: false},
		{name: "an older follow redelivered late", following: true, at: t0.Add(time.Hour), wantNew: false, wantState: false},
		{name: "follow again", following: true, at: t0.Add(3 * time.Hour), wantNew: true, wantState: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			l, latest, err := s.RecordLineFollow(ctx, lineUser, st.following, st.at)
			if err != nil || latest != st.wantNew || l.Following != st.wantState || l.CustomerID != "c-1" {
				t.Errorf("RecordLineFollow = %+v, %v, %v; want latest %v, following %v", l, latest, err, st.wantNew, st.wantState)
			}
		})
	}
	// Relinking keeps the follow state.
	if _, err := s.LinkLineUser(ctx, lineUser, "c-2", t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.GetLineLink(ctx, lineUser); !l.Following || !l.FollowAt.Equal(t0.Add(3*time.Hour)) || l.CustomerID != "c-2" {
		t.Errorf("after relinking: %+v", l)
	}
}

func TestLinkNonces(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	issue := func(nonce, customer string, at time.Time) {
		t.Helper()
		if err := s.IssueLinkNonce(ctx, LinkNonce{Nonce: nonce, CustomerID: customer, IssuedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	issue("nonce-fresh-0001", "c-1", t0)
	issue("nonce-stale-0002", "c-2", t0)
	if err := s.IssueLinkNonce(ctx, LinkNonce{Nonce: "nonce-fresh-0001", CustomerID: "c-9", IssuedAt: t0}); err == nil {
		t.Error("a nonce was issued twice")
	}
	tests := []struct {
		name    string
		nonce   string
		user    string
		at      time.Time
		want    string
		wantErr error
	}{
		{name: "spent within its lifetime", nonce: "nonce-fresh-0001", user: lineUser, at: t0.Add(5 * time.Minute), want: "c-1"},
		{name: "the same user again (a retried event)", nonce: "nonce-fresh-0001", user: lineUser, at: t0.Add(time.Hour), want: "c-1"},
		{name: "another user: already spent", nonce: "nonce-fresh-0001", user: otherUser, at: t0.Add(6 * time.Minute), wantErr: ErrNotFound},
		{name: "expired", nonce: "nonce-stale-0002", user: lineUser, at: t0.Add(LinkNonceLifetime), wantErr: ErrNotFound},
		{name: "unknown", nonce: "nonce-never-issued", user: lineUser, at: t0, wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SpendLinkNonce(ctx, tt.nonce, tt.user, tt.at)
			if got.CustomerID != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("SpendLinkNonce = %q, %v; want %q, %v", got.CustomerID, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLineEvents(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if done, err := s.LineEventDone(ctx, "01JEVENT", t0); err != nil || done {
		t.Fatalf("LineEventDone before = %v, %v", done, err)
	}
	if first, err := s.MarkLineEventDone(ctx, "01JEVENT", "follow", t0); err != nil || !first {
		t.Fatalf("MarkLineEventDone = %v, %v; want first", first, err)
	}
	if again, err := s.MarkLineEventDone(ctx, "01JEVENT", "follow", t0); err != nil || again {
		t.Fatalf("second MarkLineEventDone = %v, %v; want a duplicate", again, err)
	}
	if done, err := s.LineEventDone(ctx, "01JEVENT", t0); err != nil || !done {
		t.Errorf("LineEventDone = %v, %v; want done", done, err)
	}
	later := t0.Add(LineEventRetention)
	if done, _ := s.LineEventDone(ctx, "01JEVENT", later); done {
		t.Error("an event past retention must read as not done")
	}
}

// reserveAll reserves the keys concurrently and returns which got a place.
func reserveAll(t *testing.T, s *Store, campaignID, month string, budget int, keys []string) map[string]bool {
	t.Helper()
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		got = map[string]bool{}
	)
	for _, k := range keys {
		wg.Go(func() {
			ok, err := s.ReserveLineBudget(context.Background(), campaignID, month, budget, k)
			if err != nil {
				t.Errorf("ReserveLineBudget(%s) = %v", k, err)
			}
			mu.Lock()
			defer mu.Unlock()
			got[k] = got[k] || ok
		})
	}
	wg.Wait()
	return got
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

func TestReserveLineBudget(t *testing.T) {
	distinct := make([]string, 10)
	for i := range distinct {
		distinct[i] = fmt.Sprintf("msg-%02d", i)
	}
	tests := []struct {
		name     string
		budget   int
		keys     []string // reserved concurrently
		wantTrue int      // keys that got a place
		wantUsed int
	}{
		{name: "10 concurrent keys, budget 3", budget: 3, keys: distinct, wantTrue: 3, wantUsed: 3},
		{name: "fewer keys than the budget", budget: 20, keys: distinct, wantTrue: 10, wantUsed: 10},
		{name: "budget 0", budget: 0, keys: distinct[:2], wantTrue: 0, wantUsed: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := newStore(t), context.Background()
			got := reserveAll(t, s, "winback", "2026-11", tt.budget, tt.keys)
			if n := countTrue(got); n != tt.wantTrue {
				t.Errorf("%d keys got a place, want %d: %v", n, tt.wantTrue, got)
			}
			if used, err := s.LineBudgetUsed(ctx, "winback", "2026-11"); err != nil || used != tt.wantUsed {
				t.Errorf("LineBudgetUsed = %d, %v; want %d", used, err, tt.wantUsed)
			}
			// Each key retried keeps what it got, and counts nothing more.
			for k, had := range got {
				if ok, err := s.ReserveLineBudget(ctx, "winback", "2026-11", tt.budget, k); err != nil || ok != had {
					t.Errorf("ReserveLineBudget(%s) retried = %v, %v; want %v", k, ok, err, had)
				}
			}
			if used, _ := s.LineBudgetUsed(ctx, "winback", "2026-11"); used != tt.wantUsed {
				t.Errorf("LineBudgetUsed after retries = %d, want %d", used, tt.wantUsed)
			}
		})
	}
}

func TestLineBudgetMonthsAndCampaigns(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	steps := []struct {
		campaign, month, key string
		want                 bool
	}{
		{"winback", "2026-11", "m-1", true},
		{"winback", "2026-11", "m-2", false}, // budget 1 spent
		{"winback", "2026-12", "m-2", true},  // a new month, a new budget
		{"winback", "2026-12", "m-1", false},
		{"welcome", "2026-11", "m-2", true}, // another campaign's budget
	}
	for _, st := range steps {
		if ok, err := s.ReserveLineBudget(ctx, st.campaign, st.month, 1, st.key); err != nil || ok != st.want {
			t.Errorf("ReserveLineBudget(%s, %s, %s) = %v, %v; want %v", st.campaign, st.month, st.key, ok, err, st.want)
		}
	}
	for _, m := range []struct{ campaign, month string }{{"winback", "2026-11"}, {"winback", "2026-12"}, {"welcome", "2026-11"}} {
		if used, err := s.LineBudgetUsed(ctx, m.campaign, m.month); err != nil || used != 1 {
			t.Errorf("LineBudgetUsed(%s, %s) = %d, %v; want 1", m.campaign, m.month, used, err)
		}
	}
	if used, err := s.LineBudgetUsed(ctx, "winback", "2027-01"); err != nil || used != 0 {
		t.Errorf("LineBudgetUsed of an unused month = %d, %v; want 0", used, err)
	}
	// Both kinds of budget item expire LineBudgetRetention after the month.
	wantTTL := strconv.FormatInt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(LineBudgetRetention).Unix(), 10)
	for _, sk := range []string{"BUDGET", "RESERVATION#m-1"} {
		item, err := s.getItem(ctx, lineBudgetPK("winback", "2026-11"), sk, t0)
		if err != nil || item == nil {
			t.Fatalf("budget item %s = %v, %v", sk, item, err)
		}
		if ttl, _ := item["ttl"].(*types.AttributeValueMemberN); ttl == nil || ttl.Value != wantTTL {
			t.Errorf("ttl of %s = %v, want %s", sk, item["ttl"], wantTTL)
		}
	}
	for _, bad := range []struct{ month, key string }{{"November", "m-1"}, {"2026-13", "m-1"}, {"2026-11", ""}} {
		if _, err := s.ReserveLineBudget(ctx, "winback", bad.month, 1, bad.key); err == nil {
			t.Errorf("ReserveLineBudget(month %q, key %q) succeeded", bad.month, bad.key)
		}
	}
}

func TestReleaseLineBudget(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	const budget = 2
	reserve := func(k string) (bool, error) { return s.ReserveLineBudget(ctx, "winback", "2026-11", budget, k) }
	release := func(k string) (bool, error) { return s.ReleaseLineBudget(ctx, "winback", "2026-11", k) }
	steps := []struct {
		name     string
		do       func(string) (bool, error)
		key      string
		want     bool
		wantUsed int
	}{
		{"reserve a", reserve, "a", true, 1},
		{"reserve b", reserve, "b", true, 2},
		{"reserve c: spent", reserve, "c", false, 2},
		{"release a (not sent after all)", release, "a", true, 1},
		{"release a again (a retry)", release, "a", false, 1},
		{"release c, never reserved", release, "c", false, 1},
		{"release in another month", func(k string) (bool, error) { return s.ReleaseLineBudget(ctx, "winback", "2026-12", k) }, "b", false, 1},
		{"reserve c: the place given back", reserve, "c", true, 2},
		{"reserve b again: kept", reserve, "b", true, 2},
		{"reserve a again: spent", reserve, "a", false, 2},
		{"release b", release, "b", true, 1},
		{"reserve a: counted anew", reserve, "a", true, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := st.do(st.key)
			if err != nil || got != st.want {
				t.Errorf("= %v, %v; want %v", got, err, st.want)
			}
			if used, err := s.LineBudgetUsed(ctx, "winback", "2026-11"); err != nil || used != st.wantUsed {
				t.Errorf("LineBudgetUsed = %d, %v; want %d", used, err, st.wantUsed)
			}
		})
	}
}

// TestLineBudgetConcurrentChanges: reservations and releases of many
// messages, all at once, leave the count equal to the places held and
// never over the budget.
func TestLineBudgetConcurrentChanges(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	const budget = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for i := range 40 {
		wg.Go(func() {
			k := fmt.Sprintf("k-%02d", i)
			ok, err := s.ReserveLineBudget(ctx, "winback", "2026-11", budget, k)
			if err != nil {
				t.Error(err)
				return
			}
			if ok && i%3 == 0 {
				// Not sent after all: the place goes back.
				if ok, err = s.ReleaseLineBudget(ctx, "winback", "2026-11", k); err != nil || !ok {
					t.Errorf("release %s = %v, %v", k, ok, err)
				}
				ok = false
			}
			if ok {
				mu.Lock()
				held++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	used, err := s.LineBudgetUsed(ctx, "winback", "2026-11")
	if err != nil || used != held || used > budget {
		t.Errorf("LineBudgetUsed = %d, %v; want the %d places held (budget %d)", used, err, held, budget)
	}
}
