package store

import (
	"context"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
)

// TestReferralCodeEntry indexes codes against the emulator: marks add up
// over orders, another customer cannot take a code, and erasing the
// customer removes the marks but keeps the code working.
func TestReferralCodeEntry(t *testing.T) {
	st := New(testenv.DynamoDB(), testenv.NewTable(t))
	ctx, at := context.Background(), time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	const code = "REF-A4WCE-0P8G4"
	steps := []struct {
		name  string
		owner referral.Owner
		ok    bool
		marks int // stored after the step
	}{
		{"the first order", referral.Owner{Code: code, CustomerID: "c-1", Marks: []string{"email:aa", "phone:bb"}}, true, 2},
		{"the same details again", referral.Owner{Code: code, CustomerID: "c-1", Marks: []string{"phone:bb"}}, true, 2},
		{"a new address", referral.Owner{Code: code, CustomerID: "c-1", Marks: []string{"address:cc"}}, true, 3},
		{"another customer with the same code", referral.Owner{Code: code, CustomerID: "c-2", Marks: []string{"email:dd"}}, false, 3},
	}
	for _, s := range steps {
		ok, err := st.IndexCode(ctx, s.owner, at)
		if err != nil || ok != s.ok {
			t.Fatalf("%s: IndexCode = %v, %v; want %v", s.name, ok, err, s.ok)
		}
		got, found, err := st.CodeOwner(ctx, code)
		if err != nil || !found || got.CustomerID != "c-1" || len(got.Marks) != s.marks {
			t.Fatalf("%s: entry %+v (%v, %v); want c-1's with %d marks", s.name, got, found, err, s.marks)
		}
	}
	if _, err := st.EraseCustomer(ctx, "c-1", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, found, err := st.CodeOwner(ctx, code)
	if err != nil || !found || got.CustomerID != "c-1" || len(got.Marks) != 0 {
		t.Errorf("after erasure: entry %+v (%v, %v); want c-1's without marks", got, found, err)
	}
	if counted, err := st.CountReferralVisit(ctx, code, at.Add(2*time.Hour)); err != nil || !counted {
		t.Errorf("a visit after erasure: %v, %v; want counted", counted, err)
	}
}
