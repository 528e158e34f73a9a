package customer

import (
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

const (
	lineUser  = "Ua1b2c3d4e5f60718293a4b5c6d7e8f90"
	otherUser = "U0f9e8d7c6b5a49382716f5e4d3c2b1a0"
)

func TestLineState(t *testing.T) {
	t1, t2, t3 := day(1), day(2), day(3)
	tests := []struct {
		name          string
		steps         []func(*Profile) bool
		wantChanged   []bool
		wantUser      string
		wantReachable bool
		wantConsented bool
	}{
		{
			name:        "link, then link again",
			steps:       []func(*Profile) bool{linkLine(lineUser), linkLine(lineUser)},
			wantChanged: []bool{true, false}, wantUser: lineUser, wantReachable: true,
		},
		{
			name:        "relinked elsewhere: unlink only the user this profile holds",
			steps:       []func(*Profile) bool{linkLine(lineUser), unlinkLine(otherUser), unlinkLine(lineUser)},
			wantChanged: []bool{true, false, true}, wantUser: "", wantReachable: true,
		},
		{
			name:        "unfollow blocks LINE",
			steps:       []func(*Profile) bool{linkLine(lineUser), unfollowLine(lineUser, t1), unfollowLine(lineUser, t2)},
			wantChanged: []bool{true, true, false}, wantUser: lineUser, wantReachable: false,
		},
		{
			name:        "follow after the unfollow is fresh consent",
			steps:       []func(*Profile) bool{linkLine(lineUser), unfollowLine(lineUser, t1), followLine(lineUser, t2), followLine(lineUser, t3)},
			wantChanged: []bool{true, true, true, false}, wantUser: lineUser, wantReachable: true, wantConsented: true,
		},
		{
			name:        "linked by the shop: LINE marketing waits for a follow",
			steps:       []func(*Profile) bool{linkLine(lineUser), followLine(lineUser, t1), followLine(lineUser, t2)},
			wantChanged: []bool{true, true, false}, wantUser: lineUser, wantReachable: true, wantConsented: true,
		},
		{
			name:        "relinked to another LINE user: the old follow does not count",
			steps:       []func(*Profile) bool{linkLine(lineUser), followLine(lineUser, t1), linkLine(otherUser)},
			wantChanged: []bool{true, true, true}, wantUser: otherUser, wantReachable: true,
		},
		{
			name:        "a follow older than the unfollow changes nothing",
			steps:       []func(*Profile) bool{linkLine(lineUser), unfollowLine(lineUser, t2), followLine(lineUser, t1), followLine(lineUser, t2)},
			wantChanged: []bool{true, true, false, false}, wantUser: lineUser, wantReachable: false,
		},
		{
			name:        "events of another LINE user change nothing",
			steps:       []func(*Profile) bool{linkLine(lineUser), unfollowLine(otherUser, t1), unfollowLine(lineUser, t1), followLine(otherUser, t2)},
			wantChanged: []bool{true, false, true, false}, wantUser: lineUser, wantReachable: false,
		},
		{
			name:        "nothing is linked",
			steps:       []func(*Profile) bool{unfollowLine(lineUser, t1), followLine(lineUser, t2), linkLine("")},
			wantChanged: []bool{false, false, false}, wantUser: "", wantReachable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Profile{ID: "c-1"}
			for i, step := range tt.steps {
				if got := step(p); got != tt.wantChanged[i] {
					t.Errorf("step %d changed = %v, want %v", i, got, tt.wantChanged[i])
				}
			}
			if p.LineUserID != tt.wantUser || p.Reachable("line") != tt.wantReachable {
				t.Errorf("LineUserID = %q, reachable = %v; want %q, %v", p.LineUserID, p.Reachable("line"), tt.wantUser, tt.wantReachable)
			}
			if p.LineConsented() != tt.wantConsented {
				t.Errorf("LineConsented = %v, want %v", p.LineConsented(), tt.wantConsented)
			}
			if !p.Reachable("email") {
				t.Error("LINE events must not touch email")
			}
		})
	}
}

func TestUnfollowLineKeepsEvidence(t *testing.T) {
	p := &Profile{ID: "c-1", LineUserID: lineUser}
	p.UnfollowLine(lineUser, time.Date(2026, 11, 22, 3, 0, 0, 0, time.FixedZone("JST", 9*3600)))
	if got := p.Unsubscribed["line"]; !got.Equal(time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("unsubscribed at %v, want the UTC instant", got)
	}
}

// Steps for the table: each applies one change and reports whether it changed anything.

func linkLine(u string) func(*Profile) bool {
	return func(p *Profile) bool { return p.LinkLine(u) }
}

func unlinkLine(u string) func(*Profile) bool {
	return func(p *Profile) bool { return p.UnlinkLine(u) }
}

func unfollowLine(u string, t time.Time) func(*Profile) bool {
	return func(p *Profile) bool { return p.UnfollowLine(u, t) }
}

func followLine(u string, t time.Time) func(*Profile) bool {
	return func(p *Profile) bool { return p.FollowLine(u, LineSourceFollow, t) }
}

// TestFollowBelongsToItsLINEUser: a LINE user id the shop's webhook sends
// in place of the followed one is not known to follow.
func TestFollowBelongsToItsLINEUser(t *testing.T) {
	p := &Profile{ID: "c-1"}
	p.ApplyContact(order.Customer{ID: "c-1", LineUserID: lineUser}, day(1))
	p.FollowLine(lineUser, LineSourceFollow, day(1))
	p.ApplyContact(order.Customer{ID: "c-1", LineUserID: lineUser}, day(2))
	if !p.LineConsented() {
		t.Fatal("the same LINE user again lost its follow")
	}
	p.ApplyContact(order.Customer{ID: "c-1", LineUserID: otherUser}, day(3))
	if p.LineUserID != otherUser || p.LineConsented() {
		t.Errorf("LINE user %q, consented %v; want %q not known to follow", p.LineUserID, p.LineConsented(), otherUser)
	}
	p.FollowLine(otherUser, LineSourceFollow, day(4))
	p.UnlinkLine(otherUser)
	if !p.LineFollowedAt.IsZero() {
		t.Errorf("unlinked, the follow stays: %v", p.LineFollowedAt)
	}
}
