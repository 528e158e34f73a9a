package store

import (
	"context"
	"errors"
	"testing"
	"time"
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
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("SpendLinkNonce = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLineEvents(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if done, _, err := s.LineEventDone(ctx, "01JEVENT", t0); err != nil || done {
		t.Fatalf("LineEventDone before = %v, %v", done, err)
	}
	if first, err := s.MarkLineEventDone(ctx, "01JEVENT", "follow", "req-a", t0); err != nil || !first {
		t.Fatalf("MarkLineEventDone = %v, %v; want first", first, err)
	}
	if again, err := s.MarkLineEventDone(ctx, "01JEVENT", "follow", "req-b", t0); err != nil || again {
		t.Fatalf("second MarkLineEventDone = %v, %v; want a duplicate", again, err)
	}
	if done, req, err := s.LineEventDone(ctx, "01JEVENT", t0); err != nil || !done || req != "req-a" {
		t.Errorf("LineEventDone = %v, %q, %v; want done by req-a", done, req, err)
	}
	later := t0.Add(LineEventRetention)
	if done, _, _ := s.LineEventDone(ctx, "01JEVENT", later); done {
		t.Error("an event past retention must read as not done")
	}
}
