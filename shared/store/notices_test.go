package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestClaimNotice: of many ticks claiming one notice at once only one
// gets it; a released claim is taken by the next tick; another tick's
// release does not free a claim it does not hold; an expired claim is
// taken again.
func TestClaimNotice(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	at := time.Date(2026, 11, 30, 0, 5, 0, 0, time.UTC)
	const name = "report-weekly#2026-W49"

	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.ClaimNotice(ctx, name, at.Add(time.Duration(i)*time.Millisecond), 30*24*time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 8 concurrent claims won, want 1", won)
	}

	// The holder is one of the eight; a release with another time frees nothing.
	if err := st.ReleaseNotice(ctx, name, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.ClaimNotice(ctx, name, at.Add(5*time.Minute), 30*24*time.Hour); err != nil || ok {
		t.Fatalf("claim after a foreign release = %v, %v; want false", ok, err)
	}

	other := "alert#2026-11-30#bounce#near"
	if ok, err := st.ClaimNotice(ctx, other, at, time.Hour); err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if err := st.ReleaseNotice(ctx, other, at); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.ClaimNotice(ctx, other, at.Add(time.Minute), time.Hour); err != nil || !ok {
		t.Fatalf("claim after release = %v, %v; want true", ok, err)
	}
	if ok, err := st.ClaimNotice(ctx, other, at.Add(2*time.Hour), time.Hour); err != nil || !ok {
		t.Fatalf("claim after the first expired = %v, %v; want true", ok, err)
	}

	// A claim whose send was never recorded (its tick died) is taken over
	// once stale; a sent one never is.
	const died, sent = "case#died", "case#sent"
	for _, name := range []string{died, sent} {
		if ok, err := st.ClaimNotice(ctx, name, at, 30*24*time.Hour); err != nil || !ok {
			t.Fatalf("claim %s = %v, %v", name, ok, err)
		}
	}
	if err := st.MarkNoticeSent(ctx, sent, at); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		after time.Duration
		want  bool
	}{{died, NoticeStaleAfter - time.Second, false}, {died, NoticeStaleAfter, true}, {sent, 24 * time.Hour, false}} {
		if ok, err := st.ClaimNotice(ctx, c.name, at.Add(c.after), 30*24*time.Hour); err != nil || ok != c.want {
			t.Errorf("claim %s %s later = %v, %v; want %v", c.name, c.after, ok, err, c.want)
		}
	}
	if ok, err := st.NoticeSent(ctx, sent); err != nil || !ok {
		t.Errorf("NoticeSent(%s) = %v, %v", sent, ok, err)
	}
	if err := st.ReleaseNotice(ctx, sent, at); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.NoticeSent(ctx, sent); !ok {
		t.Error("a sent notice was given back")
	}
}
