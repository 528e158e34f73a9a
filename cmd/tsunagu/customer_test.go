package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/dataexport"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestCustomerShowAndErase(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	// Suppressions are written as the local stack's SES feedback function
	// writes them: keyed with PSEUDONYM_SECRET's local default.
	st, ctx := store.New(testenv.DynamoDB(), table).WithPseudonyms(pseudonym.New(devSecret)), context.Background()
	t0 := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC) // 09:30 JST
	const email = "misaki.show@example.jp"
	steps := []func(*customer.Profile) bool{
		func(p *customer.Profile) bool {
			return p.ApplyContact(order.Customer{ID: "c-show", Email: email, Name: "高橋 美咲", LineUserID: "U0000000000000000000000000000show", Birthday: "04-12",
				Consent: order.Consent{State: order.ConsentDenied, Source: "webhook:generic", At: t0}}, t0)
		},
		func(p *customer.Profile) bool {
			return p.RecordConsent(customer.Consent{State: order.ConsentGranted, Source: "thankyou:optin", At: t0.Add(time.Minute), Shown: "新商品やセールのお知らせをメールで受け取る"})
		},
		func(p *customer.Profile) bool {
			return p.UnfollowLine("U0000000000000000000000000000show", t0.Add(time.Hour))
		},
	}
	for _, step := range steps {
		if _, err := st.UpdateProfile(ctx, "c-show", step); err != nil {
			t.Fatal(err)
		}
	}
	rec := store.MessageRecord{Key: "k-show", CampaignID: "post-purchase-thanks", Channel: "email", CustomerID: "c-show", ClaimedAt: t0.Add(2 * time.Minute)}
	if _, _, err := st.ClaimMessage(ctx, rec, rec.ClaimedAt); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishMessage(ctx, rec, store.MessageSent, "", "ses-1", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.Suppress(ctx, email, "complaint", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordClick(ctx, store.Click{MessageKey: "k-show", CampaignID: "post-purchase-thanks", CustomerID: "c-show", URL: "https://tsubaki-chaen.example.jp/collections/sencha", At: t0.Add(4 * time.Minute)}); err != nil {
		t.Fatal(err)
	}

	out, err := capture(t, customerCommand, "show", "c-show", "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	// Columns are padded to their widths; compare words, not spaces.
	words := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		email + " (suppressed: complaint)",
		"LINE linked",
		"consent granted (thankyou:optin, 2026-11-21 09:31 JST)",
		"line unsubscribed 2026-11-21 10:30 JST",
		"consent ledger (3 changes, oldest first)",
		"2026-11-21 09:30 JST email denied webhook:generic",
		`2026-11-21 09:31 JST email granted thankyou:optin shown: "新商品やセールのお知らせをメールで受け取る"`,
		"2026-11-21 10:30 JST line unsubscribed line:unfollow",
		"messages (1 message, oldest first)",
		"2026-11-21 09:32 JST post-purchase-thanks email sent",
		"clicks (1 click, oldest first)",
		"2026-11-21 09:34 JST post-purchase-thanks https://tsubaki-chaen.example.jp/collections/sencha",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "U0000000000000000000000000000show") {
		t.Errorf("show prints the LINE user id:\n%s", out)
	}

	// A data request kept the same content, as of when it arrived: export
	// prints what show printed.
	e, err := dataexport.Collect(ctx, st, "c-show")
	if err != nil {
		t.Fatal(err)
	}
	content, err := dataexport.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveExport(ctx, store.ExportRecord{RequestID: "9999", CustomerID: "c-show", RequestedAt: time.Now(), Content: content}); err != nil {
		t.Fatal(err)
	}
	exported, err := capture(t, customerCommand, "export", "--request", "9999", "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	if header, body, _ := strings.Cut(exported, "\n\n"); !strings.HasPrefix(header, "data request 9999, received ") || body != out {
		t.Errorf("export --request 9999:\n%s\nwant a header, then what show printed:\n%s", exported, out)
	}
	if _, err := capture(t, customerCommand, "export", "--request", "404", "--table", table, "--rules", rulesDir()); err == nil || !strings.Contains(err.Error(), `no data request "404"`) {
		t.Errorf("export of an unknown request: %v", err)
	}
	if _, err := capture(t, customerCommand, "export", "--table", table); err != errUsage {
		t.Errorf("export without --request: %v, want usage", err)
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"erase", "c-show"}, "erased customer c-show"},
		{[]string{"erase", "c-show"}, "was erased already"},
		{[]string{"erase", "c-nobody"}, `no customer "c-nobody"`},
	}
	for _, tt := range tests {
		out, err := capture(t, customerCommand, append(tt.args, "--table", table)...)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%v = %q, %v; want %q", tt.args, out, err, tt.want)
		}
	}
	if _, err := capture(t, customerCommand, "export", "--request", "9999", "--table", table, "--rules", rulesDir()); err == nil {
		t.Error("the customer's data export is still kept after the erasure")
	}
	out, err = capture(t, customerCommand, "show", "c-show", "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{email, "高橋", "04-12"} {
		if strings.Contains(out, gone) {
			t.Errorf("after erasure, show still prints %q:\n%s", gone, out)
		}
	}
	for _, want := range []string{"erased", "consent ledger (4 changes", "erasure", "messages (1 message"} {
		if !strings.Contains(out, want) {
			t.Errorf("after erasure, show lacks %q:\n%s", want, out)
		}
	}
	if _, err := capture(t, customerCommand, "show", "c-never-seen", "--table", table, "--rules", rulesDir()); err == nil || !strings.Contains(err.Error(), `no customer "c-never-seen"`) {
		t.Errorf("show of an unknown customer: %v", err)
	}
	if _, err := capture(t, customerCommand, "delete", "c-show"); err != errUsage {
		t.Errorf("unknown subcommand: %v, want usage", err)
	}
}
