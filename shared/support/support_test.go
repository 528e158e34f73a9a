package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	tokyo, _ = time.LoadLocation("Asia/Tokyo")
	at       = time.Date(2026, 12, 1, 10, 30, 0, 0, tokyo)
)

const coolingOff = 30 * 24 * time.Hour

// newDesk is a desk against a fresh table and the SES emulator, telling an
// address of the test's own.
func newDesk(t *testing.T) (*Desk, *Opener, *store.Store, string) {
	t.Helper()
	st := store.New(testenv.DynamoDB(), testenv.NewTable(t))
	mailer, err := email.NewSender(testenv.SES(), "椿茶園", "shop@tsubaki-chaen.example.jp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	to := testenv.UniqueEmail(t, "support")
	return &Desk{Store: st, Mailer: mailer, Support: rules.Support{Address: to, CoolingOff: coolingOff}, Shop: "椿茶園", Location: tokyo},
		&Opener{Store: st, CoolingOff: coolingOff}, st, to
}

// TestOpen: a case opens once however often its event comes, and keeps
// marketing away for the cooling-off, never shortened by an older case.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	_, o, st, _ := newDesk(t)
	if err := st.ImportProfiles(ctx, []customer.Profile{{ID: "c-1"}}); err != nil {
		t.Fatal(err)
	}
	c := store.Case{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", CampaignID: "winback", At: at}
	for range 3 {
		if err := o.Open(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	older := store.Case{ID: "complaint#k-0", Cause: Complaint, CustomerID: "c-1", At: at.Add(-10 * 24 * time.Hour)}
	if err := o.Open(ctx, older); err != nil {
		t.Fatal(err)
	}
	cases, err := st.OpenCases(ctx)
	if err != nil || len(cases) != 2 || cases[0].ID != older.ID || cases[1].ID != c.ID || cases[1].CampaignID != "winback" {
		t.Fatalf("open cases = %+v, %v; want the two, oldest first", cases, err)
	}
	p, err := st.GetProfile(ctx, "c-1")
	if err != nil || !p.CoolingUntil.Equal(at.Add(coolingOff)) {
		t.Errorf("cooling until %s (%v), want %s", p.CoolingUntil, err, at.Add(coolingOff))
	}
	// A customer without a profile (erased, or never profiled): the case
	// opens, and no profile is made for it.
	if err := o.Open(ctx, store.Case{ID: "complaint#k-9", Cause: Complaint, CustomerID: "c-gone", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetProfile(ctx, "c-gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a profile was made for a customer without one: %v", err)
	}
}

// TestTell: each open case is told once, in its own email, and leaves the
// open index; what the customer said is shown escaped.
func TestTell(t *testing.T) {
	ctx := context.Background()
	d, o, st, to := newDesk(t)
	for _, c := range []store.Case{
		{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", CampaignID: "winback", At: at},
		{ID: "low_review#generic#r-1", Cause: LowReview, CustomerID: "c-2", OrderID: "1001", About: "★1 SWEET-YOKAN", Said: "<script>alert(1)</script> 届きません", At: at.Add(time.Minute)},
	} {
		if err := o.Open(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []int{2, 0} {
		told, err := d.Tell(ctx, at.Add(5*time.Minute))
		if err != nil || told != want {
			t.Errorf("tick %d told %d (%v), want %d", i, told, err, want)
		}
	}
	if cases, err := st.OpenCases(ctx); err != nil || len(cases) != 0 {
		t.Errorf("open cases after telling: %d, %v", len(cases), err)
	}
	sent := testenv.SentEmails(t, to)
	if len(sent) != 2 {
		t.Fatalf("support received %d emails, want 2", len(sent))
	}
	second := sent[1]
	if strings.Contains(second.Body.HTML, "<script>") || !strings.Contains(second.Body.HTML, "&lt;script&gt;") || !strings.Contains(second.Body.Text, "<script>alert(1)</script> 届きません") {
		t.Error("what the customer said is not escaped in HTML, or not as said in text")
	}
	golden.Check(t, "case-complaint.html", sent[0].Body.HTML)
	golden.Check(t, "case-complaint.txt", "Subject: "+sent[0].Subject+"\n\n"+sent[0].Body.Text)
	golden.Check(t, "case-low-review.html", second.Body.HTML)
	golden.Check(t, "case-low-review.txt", "Subject: "+second.Subject+"\n\n"+second.Body.Text)
}

// TestTellConcurrentTicks: overlapping ticks tell each case once.
func TestTellConcurrentTicks(t *testing.T) {
	ctx := context.Background()
	d, o, _, to := newDesk(t)
	for i := range 3 {
		if err := o.Open(ctx, store.Case{ID: "complaint#k-" + string(rune('a'+i)), Cause: Complaint, CustomerID: "c-1", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Tell(ctx, at.Add(time.Duration(i)*time.Second)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if sent := testenv.SentEmails(t, to); len(sent) != 3 {
		t.Errorf("support received %d emails for 3 cases", len(sent))
	}
}

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

// TestTellRetriesAFailedSend: a case whose email failed stays open and is
// told by the next tick, once.
func TestTellRetriesAFailedSend(t *testing.T) {
	ctx := context.Background()
	d, o, st, to := newDesk(t)
	if err := o.Open(ctx, store.Case{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", At: at}); err != nil {
		t.Fatal(err)
	}
	d.Mailer = &failingMailer{fails: 1, err: errors.New("ses: throttled"), next: d.Mailer}
	if _, err := d.Tell(ctx, at.Add(5*time.Minute)); err == nil {
		t.Fatal("a failed send reported no error")
	}
	if cases, _ := st.OpenCases(ctx); len(cases) != 1 {
		t.Fatalf("the case left the open index after a failed send: %d open", len(cases))
	}
	for _, m := range []time.Duration{10, 15} {
		if _, err := d.Tell(ctx, at.Add(m*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if sent := testenv.SentEmails(t, to); len(sent) != 1 {
		t.Errorf("support received %d emails, want 1", len(sent))
	}
}

// TestTellRejected: a case SES refuses for good (the support address is
// not verified) is reported and stays open; it is tried again once its
// claim is stale, not every tick, and told once the address works.
func TestTellRejected(t *testing.T) {
	ctx := context.Background()
	d, o, st, to := newDesk(t)
	if err := o.Open(ctx, store.Case{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", At: at}); err != nil {
		t.Fatal(err)
	}
	d.Mailer = &failingMailer{fails: 1, err: fmt.Errorf("send email: %w: MessageRejected", email.ErrRejected), next: d.Mailer}
	if _, err := d.Tell(ctx, at.Add(5*time.Minute)); !errors.Is(err, email.ErrRejected) {
		t.Fatalf("a rejected send reported %v", err)
	}
	if told, err := d.Tell(ctx, at.Add(10*time.Minute)); err != nil || told != 0 {
		t.Errorf("the next tick told %d (%v), want nothing tried again yet", told, err)
	}
	if cases, _ := st.OpenCases(ctx); len(cases) != 1 {
		t.Errorf("%d cases open, want the refused one", len(cases))
	}
	if told, err := d.Tell(ctx, at.Add(5*time.Minute+store.NoticeStaleAfter)); err != nil || told != 1 {
		t.Errorf("once stale: told %d (%v), want 1", told, err)
	}
	if sent := testenv.SentEmails(t, to); len(sent) != 1 {
		t.Errorf("%d emails, want 1", len(sent))
	}
}

// TestTellAfterACrash: a tick that died after claiming a case loses
// nothing: a later tick takes the stale claim over and tells it.
func TestTellAfterACrash(t *testing.T) {
	ctx := context.Background()
	d, o, st, to := newDesk(t)
	if err := o.Open(ctx, store.Case{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimNotice(ctx, "case#complaint#k-1", at, store.CaseRetention); err != nil { // the tick that died
		t.Fatal(err)
	}
	if told, _ := d.Tell(ctx, at.Add(5*time.Minute)); told != 0 {
		t.Errorf("told %d while the claim was fresh", told)
	}
	if cases, _ := st.OpenCases(ctx); len(cases) != 1 {
		t.Fatal("the case closed before support was told")
	}
	if told, err := d.Tell(ctx, at.Add(store.NoticeStaleAfter)); err != nil || told != 1 {
		t.Errorf("once stale: told %d (%v), want 1", told, err)
	}
	if sent := testenv.SentEmails(t, to); len(sent) != 1 {
		t.Errorf("%d emails, want 1", len(sent))
	}
}

// slackHook is an httptest Slack incoming webhook that checks each
// request against the documented shape (POST, JSON {"text": ...}) and
// answers the statuses it is given in turn (200 once they run out).
type slackHook struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	texts    []string // the texts of the posts it answered 200
	tries    int
}

func (h *slackHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tries++
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.URL.Path != "/services/T000/B000/XXXX" {
		h.t.Errorf("slack got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body) != 1 {
		h.t.Errorf("slack body %v (%v), want only text", body, err)
	}
	text, _ := body["text"].(string)
	if len(h.statuses) > 0 {
		st := h.statuses[0]
		h.statuses = h.statuses[1:]
		if st != http.StatusOK {
			w.WriteHeader(st)
			return
		}
	}
	h.texts = append(h.texts, text)
	_, _ = w.Write([]byte("ok"))
}

func (h *slackHook) posted() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.texts...)
}

// withSlack points d at a new Slack stand-in answering statuses.
func withSlack(t *testing.T, d *Desk, statuses ...int) *slackHook {
	t.Helper()
	h := &slackHook{t: t, statuses: statuses}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	d.Slack = &Slack{URL: srv.URL + "/services/T000/B000/XXXX", Client: srv.Client()}
	return h
}

// TestTellSlack: each case is posted to the Slack webhook once beside its
// email, however often the tick repeats or overlaps: its cause, order and
// what the customer said (Slack markup escaped), never an email address
// or name.
func TestTellSlack(t *testing.T) {
	ctx := context.Background()
	d, o, st, to := newDesk(t)
	hook := withSlack(t, d)
	for _, c := range []store.Case{
		{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", CampaignID: "winback", At: at},
		{ID: "low_review#generic#r-1", Cause: LowReview, CustomerID: "c-2", OrderID: "1001", About: "★1 SWEET-YOKAN", Said: "<!channel> 届きません\n<https://evil.example|ここ>", At: at.Add(time.Minute)},
	} {
		if err := o.Open(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Tell(ctx, at.Add(5*time.Minute+time.Duration(i)*time.Second)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if told, err := d.Tell(ctx, at.Add(10*time.Minute)); err != nil || told != 0 {
		t.Errorf("a later tick told %d (%v), want 0", told, err)
	}
	if cases, err := st.OpenCases(ctx); err != nil || len(cases) != 0 {
		t.Errorf("open cases after telling: %d, %v", len(cases), err)
	}
	if sent := testenv.SentEmails(t, to); len(sent) != 2 {
		t.Errorf("support received %d emails, want 2", len(sent))
	}
	posts := hook.posted()
	if len(posts) != 2 {
		t.Fatalf("slack got %d posts, want 2", len(posts))
	}
	// Overlapping ticks post in either order.
	i := slices.IndexFunc(posts, func(p string) bool { return strings.Contains(p, "低評価") })
	if i < 0 || !strings.Contains(posts[1-i], "迷惑メール") {
		t.Fatalf("slack posts %q: want one per case", posts)
	}
	low := posts[i]
	for _, want := range []string{"低評価", "ご注文: 1001", "★1 SWEET-YOKAN", "> &lt;!channel&gt; 届きません\n> &lt;https://evil.example|ここ&gt;", "customer show c-2"} {
		if !strings.Contains(low, want) {
			t.Errorf("slack post %q lacks %q", low, want)
		}
	}
	if strings.Contains(low, "<!channel>") || strings.Contains(low, "@") {
		t.Errorf("slack post %q carries markup or an address", low)
	}
	golden.Check(t, "case-low-review.slack.txt", low)
}

// TestTellSlackFailing: a failed Slack post never holds the email up; the
// case stays open and the next tick posts it, once; a hook that refuses
// for good is tried again once its claim is stale and given up
// SlackGiveUp after the case, which then closes.
func TestTellSlackFailing(t *testing.T) {
	ctx := context.Background()
	t.Run("retried by the next tick", func(t *testing.T) {
		d, o, st, to := newDesk(t)
		hook := withSlack(t, d, http.StatusInternalServerError)
		if err := o.Open(ctx, store.Case{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", At: at}); err != nil {
			t.Fatal(err)
		}
		if told, err := d.Tell(ctx, at.Add(5*time.Minute)); err == nil || told != 1 || strings.Contains(err.Error(), "/services/") {
			t.Errorf("first tick told %d (%v), want the email and the post's error without its URL", told, err)
		}
		if sent := testenv.SentEmails(t, to); len(sent) != 1 {
			t.Errorf("the email waited for slack: %d sent", len(sent))
		}
		if cases, _ := st.OpenCases(ctx); len(cases) != 1 {
			t.Fatalf("the case closed before slack was told: %d open", len(cases))
		}
		for _, m := range []time.Duration{10, 15} {
			if _, err := d.Tell(ctx, at.Add(m*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if posts := hook.posted(); len(posts) != 1 {
			t.Errorf("slack got %d posts, want 1", len(posts))
		}
		if sent := testenv.SentEmails(t, to); len(sent) != 1 {
			t.Errorf("support received %d emails, want 1", len(sent))
		}
		if cases, _ := st.OpenCases(ctx); len(cases) != 0 {
			t.Errorf("%d cases open after the post", len(cases))
		}
	})
	t.Run("refused for good", func(t *testing.T) {
		d, o, st, _ := newDesk(t)
		hook := withSlack(t, d, http.StatusNotFound, http.StatusNotFound, http.StatusNotFound, http.StatusNotFound)
		if err := o.Open(ctx, store.Case{ID: "complaint#k-1", Cause: Complaint, CustomerID: "c-1", At: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Tell(ctx, at.Add(5*time.Minute)); !errors.Is(err, ErrSlackRejected) {
			t.Fatalf("a refused post reported %v", err)
		}
		_, _ = d.Tell(ctx, at.Add(10*time.Minute)) // claim fresh: not tried
		if hook.tries != 1 {
			t.Errorf("slack tried %d times before the claim was stale, want 1", hook.tries)
		}
		_, _ = d.Tell(ctx, at.Add(5*time.Minute+store.NoticeStaleAfter))
		if hook.tries != 2 {
			t.Errorf("slack tried %d times once stale, want 2", hook.tries)
		}
		if cases, _ := st.OpenCases(ctx); len(cases) != 1 {
			t.Fatalf("%d cases open, want the one slack refused", len(cases))
		}
		_, _ = d.Tell(ctx, at.Add(SlackGiveUp))
		if cases, _ := st.OpenCases(ctx); len(cases) != 0 {
			t.Errorf("%d cases open after giving slack up", len(cases))
		}
	})
}
