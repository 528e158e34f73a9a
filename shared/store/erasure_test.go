package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/testenv"
)

func TestEraseCustomer(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	const (
		id      = "c-erase"
		email   = "erase.me@example.jp"
		name    = "消去 希望"
		lineNow = "U00000000000000000000000000erase"
		lineOld = "U0000000000000000000000000000old"
	)
	th := customer.Thresholds{Currency: "JPY", RecencyDays: [4]int{30, 60, 90, 180}, FrequencyOrders: [4]int{2, 3, 5, 10}, Monetary: [4]int64{5000, 10000, 30000, 100000}, LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180}
	ev := createdEvent("o-erase")
	ev.Order.Customer = &order.Customer{ID: id, Email: email, Name: name, LineUserID: lineNow, Birthday: "04-12",
		Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: t0}}
	st, err := s.ApplyOrderEvent(ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProfile(ctx, id, func(p *customer.Profile) bool {
		return p.ApplyDelivery(ev.Order.Customer, st.Order, st.Status, ev.OccurredAt, th)
	}); err != nil {
		t.Fatal(err)
	}
	// The customer's current LINE user, and one they used before.
	for _, u := range []string{lineOld, lineNow} {
		if _, err := s.LinkLineUser(ctx, u, id, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Suppress(ctx, email, "complaint", t0); err != nil {
		t.Fatal(err)
	}

	erasedAt := t0.Add(24 * time.Hour)
	got, err := s.EraseCustomer(ctx, id, erasedAt)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Erasure{Known: true, Profile: true, LineLinks: 2}); got != want {
		t.Errorf("EraseCustomer = %+v, want %+v", got, want)
	}

	// No item of the table holds the personal data any more.
	for _, secret := range []string{email, name, lineNow, lineOld, "04-12"} {
		if where := findInTable(t, s, secret); where != "" {
			t.Errorf("%q still stored in %s", secret, where)
		}
	}
	p, err := s.GetProfile(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != 1 || p.TotalSpent != 4300 || p.CategoryCounts["sweets"] != 2 {
		t.Errorf("anonymous counts lost: orders %d, spent %d, categories %v", p.OrderCount, p.TotalSpent, p.CategoryCounts)
	}
	if !p.ErasedAt.Equal(erasedAt) || p.Consent.State != order.ConsentDenied || p.Consent.Source != "erasure" {
		t.Errorf("profile after erasure: erased at %v, consent %+v", p.ErasedAt, p.Consent)
	}
	if _, err := s.GetLineLink(ctx, lineNow); !errors.Is(err, ErrNotFound) {
		t.Errorf("LINE link after erasure: %v, want ErrNotFound", err)
	}
	if sup, err := s.SuppressionOf(ctx, email); err != nil || !sup.Suppressed {
		t.Errorf("suppression after erasure = %+v, %v; want still suppressed", sup, err)
	}
	ledger, err := s.ConsentLedger(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if last := ledger[len(ledger)-1]; last.Source != "erasure" || last.State != "denied" || !last.At.Equal(erasedAt) {
		t.Errorf("last consent entry = %+v, want the erasure", last)
	}

	// A webhook redelivered from before the erasure brings nothing back.
	if _, err := s.UpdateProfile(ctx, id, func(p *customer.Profile) bool {
		return p.ApplyContact(*ev.Order.Customer, ev.OccurredAt)
	}); err != nil {
		t.Fatal(err)
	}
	if where := findInTable(t, s, email); where != "" {
		t.Errorf("a late webhook restored the address in %s", where)
	}

	tests := []struct {
		name string
		id   string
		want Erasure
	}{
		{"erased again", id, Erasure{Known: true}},
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
	if _, err := s.GetProfile(ctx, "c-never-seen"); !errors.Is(err, ErrNotFound) {
		t.Errorf("erasing an unknown customer created a profile: %v", err)
	}
}

// findInTable scans the whole test table for a string inside any
// attribute, and says which item holds it ("" when none).
func findInTable(t *testing.T, s *Store, needle string) string {
	t.Helper()
	p := dynamodb.NewScanPaginator(testenv.DynamoDB(), &dynamodb.ScanInput{TableName: aws.String(s.Table()), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			for _, v := range item {
				if containsString(v, needle) {
					return item["pk"].(*types.AttributeValueMemberS).Value
				}
			}
		}
	}
	return ""
}

func containsString(v types.AttributeValue, needle string) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return strings.Contains(v.Value, needle)
	case *types.AttributeValueMemberM:
		for k, e := range v.Value {
			if strings.Contains(k, needle) || containsString(e, needle) {
				return true
			}
		}
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			if containsString(e, needle) {
				return true
			}
		}
	case *types.AttributeValueMemberSS:
		for _, e := range v.Value {
			if strings.Contains(e, needle) {
				return true
			}
		}
	}
	return false
}
