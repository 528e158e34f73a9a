package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// TestStatsRebuild: a click whose counter update was lost is found by a
// dry run, which writes nothing, corrected by a rebuild, and the rebuild
// after that has nothing to do.
func TestStatsRebuild(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	ctx := context.Background()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, tokyo)
	if _, err := st.RecordClick(ctx, store.Click{MessageKey: "m-1", CampaignID: "second-purchase-nudge", Variant: "percent", CustomerID: "c-1", URL: "https://shop.example.jp/", At: at}); err != nil {
		t.Fatal(err)
	}
	sk := store.CampaignStatsKey(at, tokyo, "percent")
	clicks := func() int64 {
		t.Helper()
		got, err := st.StatsBetween(ctx, store.CampaignStatsPartition("second-purchase-nudge"), sk, sk)
		if err != nil {
			t.Fatal(err)
		}
		return got[sk]["clicks"]
	}
	args := []string{"rebuild", "--from", "2026-11-01", "--to", "2026-11-30", "--settle", "0", "--table", table, "--rules", rulesDir()}

	out, err := capture(t, statsCommand, append(args, "--dry-run")...)
	if err != nil || !strings.Contains(out, "second-purchase-nudge  2026-11-20  percent  clicks   0       1          dry run") || clicks() != 0 {
		t.Errorf("dry run = %q, %v; clicks %d", out, err, clicks())
	}
	out, err = capture(t, statsCommand, args...)
	if err != nil || !strings.Contains(out, "clicks   0       1          corrected") || !strings.Contains(out, "1 corrections, 1 written") || clicks() != 1 {
		t.Errorf("rebuild = %q, %v; clicks %d", out, err, clicks())
	}
	out, err = capture(t, statsCommand, args...)
	if err != nil || !strings.Contains(out, "nothing to correct") || clicks() != 1 {
		t.Errorf("second rebuild = %q, %v; clicks %d", out, err, clicks())
	}
}

func TestStatsUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "no subcommand", args: nil},
		{name: "unknown subcommand", args: []string{"drop"}},
		{name: "no period", args: []string{"rebuild"}},
		{name: "period backwards", args: []string{"rebuild", "--from", "2026-11-30", "--to", "2026-11-01", "--rules", rulesDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := capture(t, statsCommand, tt.args...); !errors.Is(err, errUsage) {
				t.Errorf("stats %v = %v; want a usage error", tt.args, err)
			}
		})
	}
}
