package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// The LINE users of the documented bodies in testdata/webhooks (see its
// PROVENANCE): LINE's own examples, user ids completed where the
// documentation elides them.
const (
	docNewFriend = "U3d3edab4f36c6292e6d8a8131f141b8b"
	docBlocker   = "U4af4980629a1b2c3d4e5f60718293a4b"
	docLinker    = "U91eeaf62d0a1b2c3d4e5f60718293a4b"
)

// TestDocumentedWebhooks runs LINE's documented webhook bodies through
// the handler, signed as LINE signs them: each has its documented effect
// once. The same request again, byte for byte (LINE sending it twice, or
// someone replaying it), and LINE's redelivery of it (isRedelivery: true)
// answer 200 "duplicate": true and change nothing, so LINE never counts
// them as failures to retry.
func TestDocumentedWebhooks(t *testing.T) {
	tests := []struct {
		name string
		file string
		// redelivered is LINE's redelivery of the same event, if any.
		redelivered string
		given       func(t *testing.T, f fixture)
		// processed is how many events have an effect.
		processed int
		check     func(t *testing.T, f fixture)
	}{
		{name: "follow of a new friend: the link invitation", file: "follow.json", redelivered: "follow-redelivered.json", processed: 1,
			check: func(t *testing.T, f fixture) {
				if n := len(f.line.Requests(lineapi.LinkTokenPath)); n != 1 {
					t.Errorf("%d link tokens issued, want 1", n)
				}
			}},
		{name: "follow after unblocking, of a linked customer: LINE resumes", file: "follow-unblocked.json", processed: 1,
			given: func(t *testing.T, f fixture) {
				f.linked(t, "c-1", docBlocker, time.UnixMilli(1462629479859).Add(-time.Hour))
				f.deliver(t, userEvent("unfollow", "01FZ74A0TDDPYRVKNK77XKC3ZA", time.UnixMilli(1462629479859).Add(-time.Minute), docBlocker))
			},
			check: func(t *testing.T, f fixture) {
				if !f.profile(t, "c-1").Reachable("line") {
					t.Error("LINE not reachable after the follow")
				}
			}},
		{name: "unfollow of a linked customer: unsubscribed from LINE", file: "unfollow.json", redelivered: "unfollow-redelivered.json", processed: 1,
			given: func(t *testing.T, f fixture) {
				f.linked(t, "c-1", docBlocker, time.UnixMilli(1462629479859).Add(-time.Hour))
			},
			check: func(t *testing.T, f fixture) {
				if f.profile(t, "c-1").Reachable("line") {
					t.Error("LINE still reachable after the unfollow")
				}
			}},
		{name: "account link with the nonce tsunagu issued", file: "account-link.json", processed: 1,
			given: func(t *testing.T, f fixture) {
				f.linked(t, "c-1", otherUser, time.UnixMilli(1513669370317).Add(-time.Hour))
				if err := f.st.IssueLinkNonce(context.Background(), store.LinkNonce{Nonce: "xxxxxxxxxxxxxxx", CustomerID: "c-2",
					IssuedAt: time.UnixMilli(1513669370317).Add(-time.Minute)}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, f fixture) {
				if l, err := f.st.GetLineLink(context.Background(), docLinker); err != nil || l.CustomerID != "c-2" {
					t.Errorf("link = %+v, %v; want c-2", l, err)
				}
			}},
		{name: "a postback tsunagu does not know: acknowledged", file: "postback-datetime.json", processed: 1},
		{name: "a text message in a group: acknowledged, unused", file: "message-text-group.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			if tt.given != nil {
				tt.given(t, f)
			}
			body := readWebhook(t, tt.file)
			first := answer(t, f.handle(t, webhookRequest(body, sign(channelSecret, body))))
			if first.Processed != tt.processed || first.Duplicate {
				t.Fatalf("first delivery = %+v, want %d processed", first, tt.processed)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
			before, calls := testenv.Snapshot(t, f.st.Table()), lineCalls(f)
			again := []string{tt.file}
			if tt.redelivered != "" {
				again = append(again, tt.redelivered)
			}
			for _, file := range again {
				body := readWebhook(t, file)
				a := answer(t, f.handle(t, webhookRequest(body, sign(channelSecret, body))))
				if a.Processed != 0 || a.Duplicate != (tt.processed > 0) {
					t.Errorf("%s again = %+v, want nothing processed (duplicate: %v)", file, a, tt.processed > 0)
				}
			}
			if changed := testenv.Changed(before, testenv.Snapshot(t, f.st.Table())); len(changed) > 0 {
				t.Errorf("the copies changed the table: %v", changed)
			}
			if n := lineCalls(f); n != calls {
				t.Errorf("the copies made %d more calls to LINE", n-calls)
			}
		})
	}
}

// lineCalls counts the replies and link tokens asked of LINE's stand-in.
func lineCalls(f fixture) int {
	return len(f.line.Requests(lineapi.ReplyPath)) + len(f.line.Requests(lineapi.LinkTokenPath))
}

func readWebhook(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
