package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// erasable is the personal data seedErasable stores for one customer.
type erasable struct {
	id, email, name, birthday string
	lineNow, lineOld          string // the current LINE user and one used before
	spentNonce, openNonce     string
}

// secrets are the values no item may hold once the customer is erased.
func (e erasable) secrets() []string {
	return []string{e.email, e.name, e.lineNow, e.lineOld, e.birthday}
}

// seedErasable stores a customer as the functions would: a profile with
// email, name, birthday and LINE user from an order, the LINE links of the
// current and a former LINE user, an account-link nonce spent by the
// current one and one never spent, the processed LINE event of that link,
// and a suppressed address. Another customer's spent nonce stays apart.
func seedErasable(t *testing.T, s *Store) erasable {
	t.Helper()
	ctx := context.Background()
	e := erasable{id: "c-erase", email: "erase.me@example.jp", name: "消去 希望", birthday: "04-12",
		lineNow: "U00000000000000000000000000erase", lineOld: "U0000000000000000000000000000old",
		spentNonce: "ERASENONCESPENT0000000000A", openNonce: "ERASENONCEOPEN00000000000B"}
	th := customer.Thresholds{Currency: "JPY", RecencyDays: [4]int{30, 60, 90, 180}, FrequencyOrders: [4]int{2, 3, 5, 10}, Monetary: [4]int64{5000, 10000, 30000, 100000}, LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180}
	ev := createdEvent("o-erase")
	ev.Order.Customer = &order.Customer{ID: e.id, Email: e.email, Name: e.name, LineUserID: e.lineNow, Birthday: e.birthday,
		Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: t0}}
	st, err := s.ApplyOrderEvent(ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProfile(ctx, e.id, func(p *customer.Profile) bool {
		return p.ApplyDelivery(ev.Order.Customer, st.Order, st.Status, ev.OccurredAt, th)
	}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{e.lineOld, e.lineNow} {
		if _, err := s.LinkLineUser(ctx, u, e.id, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []LinkNonce{
		{Nonce: e.spentNonce, CustomerID: e.id, IssuedAt: t0},
		{Nonce: e.openNonce, CustomerID: e.id, IssuedAt: t0},
		{Nonce: "OTHERNONCESPENT0000000000C", CustomerID: "c-other", IssuedAt: t0},
	} {
		if err := s.IssueLinkNonce(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.SpendLinkNonce(ctx, e.spentNonce, e.lineNow, t0.Add(time.Minute)); err != nil || got.CustomerID != e.id {
		t.Fatalf("SpendLinkNonce = %q, %v", got.CustomerID, err)
	}
	if _, err := s.SpendLinkNonce(ctx, "OTHERNONCESPENT0000000000C", otherUser, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkLineEventDone(ctx, "01JERASELINKEVENT", "accountLink", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, e.email, "complaint", t0); err != nil {
		t.Fatal(err)
	}
	// The seed holds what the test then expects gone.
	for _, secret := range e.secrets() {
		if len(holding(t, s, secret)) == 0 {
			t.Fatalf("the seed stored no %q", secret)
		}
	}
	return e
}

// holding lists the items of the test's table (a full snapshot, as
// canonical JSON) that hold needle anywhere, keys and values alike.
func holding(t *testing.T, s *Store, needle string) []string {
	t.Helper()
	var out []string
	for _, item := range testenv.Snapshot(t, s.Table()) {
		if strings.Contains(item, needle) {
			out = append(out, item)
		}
	}
	return out
}

// assertErased checks that no item holds the customer's personal data.
func assertErased(t *testing.T, s *Store, e erasable) {
	t.Helper()
	for _, secret := range e.secrets() {
		for _, item := range holding(t, s, secret) {
			t.Errorf("%q still stored in %s", secret, item)
		}
	}
}

func TestEraseCustomer(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	e := seedErasable(t, s)

	// A data export kept for the shop: the first one of a request stays.
	kept, err := s.SaveExport(ctx, ExportRecord{RequestID: "req-erase", CustomerID: e.id, RequestedAt: t0, Content: []byte(e.email)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.SaveExport(ctx, ExportRecord{RequestID: "req-erase", CustomerID: e.id, RequestedAt: t0.Add(time.Hour), Content: []byte("other")})
	if err != nil || string(again.Content) != e.email || !again.RequestedAt.Equal(t0) || !kept.ExpiresAt.Equal(t0.Add(ExportRetention)) {
		t.Fatalf("SaveExport again = %+v, %v; want the first export kept", again, err)
	}

	erasedAt := t0.Add(24 * time.Hour)
	got, err := s.EraseCustomer(ctx, e.id, erasedAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetExport(ctx, "req-erase", erasedAt); !errors.Is(err, ErrNotFound) {
		t.Errorf("the customer's data export after erasure: %v, want ErrNotFound", err)
	}
	if want := (Erasure{Known: true, Profile: true, LineLinks: 2, Exports: 1}); got != want {
		t.Errorf("EraseCustomer = %+v, want %+v", got, want)
	}
	assertErased(t, s, e)

	p, err := s.GetProfile(ctx, e.id)
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != 1 || p.TotalSpent != 4300 || p.CategoryCounts["sweets"] != 2 {
		t.Errorf("anonymous counts lost: orders %d, spent %d, categories %v", p.OrderCount, p.TotalSpent, p.CategoryCounts)
	}
	if !p.ErasedAt.Equal(erasedAt) || p.Consent.State != order.ConsentDenied || p.Consent.Source != "erasure" {
		t.Errorf("profile after erasure: erased at %v, consent %+v", p.ErasedAt, p.Consent)
	}
	if _, err := s.GetLineLink(ctx, e.lineNow); !errors.Is(err, ErrNotFound) {
		t.Errorf("LINE link after erasure: %v, want ErrNotFound", err)
	}
	if sup, err := s.SuppressionOf(ctx, e.email); err != nil || !sup.Suppressed {
		t.Errorf("suppression after erasure = %+v, %v; want still suppressed", sup, err)
	}
	ledger, err := s.ConsentLedger(ctx, e.id)
	if err != nil {
		t.Fatal(err)
	}
	if last := ledger[len(ledger)-1]; last.Source != "erasure" || last.State != "denied" || !last.At.Equal(erasedAt) {
		t.Errorf("last consent entry = %+v, want the erasure", last)
	}
	if done, err := s.LineEventDone(ctx, "01JERASELINKEVENT", t0.Add(time.Hour)); err != nil || !done {
		t.Errorf("the LINE event marker (no personal data) = %v, %v; want kept", done, err)
	}
	// Another customer's nonce is not this erasure's business.
	if got, err := s.SpendLinkNonce(ctx, "OTHERNONCESPENT0000000000C", otherUser, t0.Add(time.Hour)); err != nil || got.CustomerID != "c-other" {
		t.Errorf("another customer's nonce after erasure = %q, %v; want kept", got.CustomerID, err)
	}

	// Late deliveries from before the erasure bring nothing back: the
	// account link redelivered finds no nonce, and a webhook restores no
	// address.
	if got, err := s.SpendLinkNonce(ctx, e.spentNonce, e.lineNow, t0.Add(time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Errorf("redelivered account link after erasure = %q, %v; want ErrNotFound", got.CustomerID, err)
	}
	if _, err := s.UpdateProfile(ctx, e.id, func(p *customer.Profile) bool {
		return p.ApplyContact(order.Customer{ID: e.id, Email: e.email, Name: e.name, Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: t0}}, t0)
	}); err != nil {
		t.Fatal(err)
	}
	assertErased(t, s, e)

	tests := []struct {
		name string
		id   string
		want Erasure
	}{
		{"erased again", e.id, Erasure{Known: true}},
		{"unknown customer", "c-never-seen", Erasure{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.EraseCustomer(ctx, tt.id, erasedAt.Add(time.Hour))
			if err != nil || got != tt.want {
				t.Errorf("EraseCustomer = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	// An unknown customer keeps only the time of the erasure, so that a
	// late order placed before it cannot bring their data in.
	tomb, err := s.GetProfile(ctx, "c-never-seen")
	if err != nil || tomb.ErasedAt.IsZero() || tomb.Email != "" || tomb.Name != "" || tomb.OrderCount != 0 {
		t.Errorf("unknown customer after erasure: %+v, %v; want only the erasure time", tomb, err)
	}
}

// TestEraseCustomerRetried: an erasure that failed part way (the store
// refusing one request) converges when tried again.
func TestEraseCustomerRetried(t *testing.T) {
	tests := []struct {
		name string
		op   string // the operation refused
		nth  int64  // which call of it (1-based)
	}{
		{name: "listing the LINE items fails", op: "Query", nth: 1},
		{name: "the first delete fails", op: "DeleteItem", nth: 1},
		{name: "a later delete fails", op: "DeleteItem", nth: 3},
		{name: "the profile write fails", op: "PutItem", nth: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := newStore(t), context.Background()
			e := seedErasable(t, s)
			broken := New(refusingNth(tt.op, tt.nth), s.Table())
			if _, err := broken.EraseCustomer(ctx, e.id, t0.Add(24*time.Hour)); err == nil {
				t.Fatalf("EraseCustomer with %s #%d refused succeeded", tt.op, tt.nth)
			}
			got, err := s.EraseCustomer(ctx, e.id, t0.Add(25*time.Hour))
			if err != nil || !got.Known || !got.Profile {
				t.Fatalf("EraseCustomer retried = %+v, %v; want the profile erased", got, err)
			}
			assertErased(t, s, e)
			if got, err := s.EraseCustomer(ctx, e.id, t0.Add(26*time.Hour)); err != nil || got != (Erasure{Known: true}) {
				t.Errorf("EraseCustomer once more = %+v, %v; want nothing left to do", got, err)
			}
		})
	}
}

// refusingNth is a client of the emulator that refuses the nth call of
// one operation (as "QueryInput") and lets every other request through.
func refusingNth(op string, nth int64) *dynamodb.Client {
	var calls atomic.Int64
	refuse := middleware.InitializeMiddlewareFunc("RefuseNth", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if fmt.Sprintf("%T", in.Parameters) == "*dynamodb."+op+"Input" && calls.Add(1) == nth {
			return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("%s: connection reset (injected)", op)
		}
		return next.HandleInitialize(ctx, in)
	})
	return testenv.DynamoDB(func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(refuse, middleware.Before)
		})
	})
}
