package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestPointsCommands adjusts a customer's points from the command line
// (once per --ref however often it runs) and shows the ledger with its
// balance, in the shop's zone.
func TestPointsCommands(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	st, ctx := store.New(testenv.DynamoDB(), table), context.Background()
	at := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	if _, err := st.PutMovement(ctx, loyalty.Movement{CustomerID: "c-1", Kind: loyalty.Earned, OrderID: "1001", Reason: "order", Points: 43, Merchandise: 4300, At: at}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"adjusted#shop:apology-1: +300 points for c-1", "adjusted#shop:apology-1: already recorded, nothing changed"} {
		out, err := capture(t, pointsCommand, "adjust", "c-1", "--points", "300", "--reason", "お詫び", "--ref", "apology-1", "--table", table)
		if err != nil || strings.TrimSpace(out) != want {
			t.Errorf("adjust %d = %q, %v; want %q", i+1, out, err, want)
		}
	}
	if _, err := capture(t, pointsCommand, "adjust", "c-1", "--points", "300", "--table", table); err == nil {
		t.Error("an adjustment without a reason and a ref was taken")
	}
	out, err := capture(t, pointsCommand, "show", "c-1", "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"earned#1001", "2026-11-20 10:00", "adjusted#shop:apology-1", "お詫び", "balance: 300 approved, 43 pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("points show lacks %q:\n%s", want, out)
		}
	}
}
