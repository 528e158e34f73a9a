package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/lineapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestLineQuota(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	st := store.New(testenv.DynamoDB(), table)
	for _, key := range []string{"m-1", "m-2", "m-2"} { // a retried message counts once
		if _, err := st.ReserveLineBudget(context.Background(), "winback", "2026-11", 150, key); err != nil {
			t.Fatal(err)
		}
	}
	srv := lineapi.NewServer(t)
	srv.SetQuota(200, 37)

	tests := []struct {
		name  string
		token string
		want  []string
	}{
		{"with a channel token", lineapi.Token, []string{"LINE plan: 37 of 200 messages sent this month, 163 left", "winback 2 of 150", "tea-replenishment no budget"}},
		{"without a token", "", []string{"LINE_CHANNEL_ACCESS_TOKEN is not set", "winback 2 of 150"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LINE_CHANNEL_ACCESS_TOKEN", tt.token)
			out, err := capture(t, lineCommand, "quota", "--month", "2026-11", "--line-endpoint", srv.URL, "--table", table, "--rules", rulesDir())
			if err != nil {
				t.Fatal(err)
			}
			words := strings.Join(strings.Fields(out), " ")
			for _, want := range tt.want {
				if !strings.Contains(words, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	if _, err := capture(t, lineCommand, "quota", "--month", "November", "--table", table, "--rules", rulesDir()); err == nil {
		t.Error("a malformed month was accepted")
	}
}
