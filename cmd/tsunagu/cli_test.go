package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// capture runs a command and returns what it wrote to stdout.
func capture(t *testing.T, cmd func(context.Context, []string) error, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	stdout = &buf
	defer func() { stdout = os.Stdout }()
	err := cmd(context.Background(), args)
	return buf.String(), err
}

func rulesDir() string { return filepath.Join(testenv.Root(), "rules") }

func TestLintCommand(t *testing.T) {
	out, err := capture(t, lintRules, rulesDir())
	shipped, _ := filepath.Glob(filepath.Join(rulesDir(), "campaigns", "*.yaml"))
	if err != nil || !strings.Contains(out, fmt.Sprintf("ok (%d campaigns", len(shipped))) {
		t.Errorf("lint of the shipped rules = %q, %v", out, err)
	}
	broken := t.TempDir()
	if err := os.CopyFS(broken, os.DirFS(rulesDir())); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(broken, "campaigns", "winback.yaml"), []byte("id: winback\nname: x\ntrigger: order.created\nactons: []\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "segments.yaml"), []byte("segments:\n  vip: {where: 'customer.order_count >'}\n"), 0o644)
	out, err = capture(t, lintRules, broken)
	if err == nil || !strings.Contains(err.Error(), "2 problem(s)") {
		t.Fatalf("lint of broken rules: err = %v\n%s", err, out)
	}
	for _, want := range []string{`/campaigns/winback.yaml:4:1: unknown field "actons"; did you mean "actions"?`, `/segments.yaml:2:38: segments.vip.where: unexpected token EOF`} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
}

func TestSimulateExplainsEveryCampaign(t *testing.T) {
	out, err := capture(t, simulateEvent, "--event", "testdata/order-created-night.json", "--offline", "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"order.created for order 1001 (customer c-1) at 2026-11-21 22:30 JST",
		"post-purchase-thanks   send",
		"second-purchase-nudge  wait",
		"delay 21d until 2026-12-12 22:30",
		"winback                not_in_audience           false: days_since_last_order >= 90",
		"review-request         -                         triggered by order.delivered, not order.created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate output lacks %q:\n%s", want, out)
		}
	}
}

func TestPreviewWritesTheEmail(t *testing.T) {
	dir := t.TempDir()
	out, err := capture(t, previewCampaign, "post-purchase-thanks", "--customer", filepath.Join(rulesDir(), "samples", "misaki.json"), "--rules", rulesDir(), "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Subject: 高橋 美咲様、ご注文ありがとうございます（ご注文番号 1001）") || !strings.Contains(out, "本練羊羹 × 2") {
		t.Errorf("preview output:\n%s", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "post-purchase-thanks-1.html"))
	if err != nil || !strings.Contains(string(html), "<!DOCTYPE html>") || !strings.Contains(string(html), "配信停止") {
		t.Errorf("preview HTML: %v\n%s", err, html)
	}
	out, err = capture(t, previewCampaign, "winback", "--customer", filepath.Join(rulesDir(), "samples", "misaki.json"), "--rules", rulesDir(), "--out", dir)
	if err != nil || !strings.Contains(out, "=== LINE: winback ===\n高橋 美咲様、椿茶園です🍵") {
		t.Errorf("LINE preview = %v:\n%s", err, out)
	}
}

func TestBacktestCountsPerDay(t *testing.T) {
	ctx := context.Background()
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	st := store.New(testenv.DynamoDB(), table)
	set, err := rules.Load(rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	loc := set.Settings.Location
	// Three customers: two first orders on 11-02 (one without consent),
	// one repeat buyer on 11-03.
	place := func(cid string, orderID string, at time.Time, consent order.ConsentState) {
		ev := order.Event{Type: order.Created, OccurredAt: at, Order: order.Order{ID: orderID, Currency: "JPY", Total: 4300, PlacedAt: at,
			Customer: &order.Customer{ID: cid, Email: cid + "@example.jp", Consent: order.Consent{State: consent, At: at}},
			Items:    []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}}}
		stt, err := st.ApplyOrderEvent(ctx, ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateProfile(ctx, cid, func(p *customer.Profile) bool {
			return p.ApplyDelivery(ev.Order.Customer, stt.Order, stt.Status, at, set.Settings.Thresholds)
		}); err != nil {
			t.Fatal(err)
		}
	}
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, loc) }
	place("bt-1", "bt-o1", day(2, 10), order.ConsentGranted)
	place("bt-2", "bt-o2", day(2, 11), order.ConsentDenied)
	place("bt-3", "bt-o3", day(1, 10), order.ConsentGranted)
	place("bt-3", "bt-o4", day(3, 10), order.ConsentGranted)
	out, err := capture(t, backtestCampaign, "post-purchase-thanks", "--since", "2026-11-02", "--until", "2026-11-03", "--table", table, "--rules", rulesDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 order(s), 2 customer(s) would receive it", "2026-11-02", "2026-11-03"} {
		if !strings.Contains(out, want) {
			t.Errorf("backtest output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	var header, day2, day3 string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "DAY"):
			header = l
		case strings.HasPrefix(strings.TrimSpace(l), "2026-11-02"):
			day2 = l
		case strings.HasPrefix(strings.TrimSpace(l), "2026-11-03"):
			day3 = l
		}
	}
	if fmt.Sprint(strings.Fields(header)) != "[DAY NO_CONSENT SEND]" || fmt.Sprint(strings.Fields(day2)) != "[2026-11-02 1 1]" || fmt.Sprint(strings.Fields(day3)) != "[2026-11-03 0 1]" {
		t.Errorf("table:\n%s", out)
	}
	// The second-purchase nudge: bt-3 had ordered before, so not in audience.
	out, err = capture(t, backtestCampaign, "second-purchase-nudge", "--since", "2026-11-02", "--until", "2026-11-03", "--table", table, "--rules", rulesDir())
	if err != nil || !strings.Contains(out, "21d later") || !strings.Contains(out, "2026-11-23") || !strings.Contains(out, "NOT_IN_AUDIENCE") {
		t.Errorf("nudge backtest = %v:\n%s", err, out)
	}
}

func TestCatalogImport(t *testing.T) {
	table := testenv.NewTable(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", testenv.DynamoDBURL())
	out, err := capture(t, catalogCommand, "import", filepath.Join(testenv.Root(), "infra", "catalog", "sample-catalog.csv"), "--table", table, "--rules", rulesDir())
	if err != nil || !strings.Contains(out, "imported 8 products (7 in stock)") {
		t.Fatalf("import = %q, %v", out, err)
	}
	st := store.New(testenv.DynamoDB(), table)
	cat, err := st.ReadCatalog(context.Background(), store.CatalogQuery{Products: []string{"TEA-SENCHA", "NOPE"}, Categories: []string{"sweets"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := cat.Products["TEA-SENCHA"]; p.Name != "宇治煎茶 100g" || p.Price != 1600 || p.Currency != "JPY" || !p.InStock || p.Category != "tea" {
		t.Errorf("product = %+v", p)
	}
	if fmt.Sprint(cat.Categories["sweets"]) != "[SWEET-YOKAN SWEET-MONAKA SWEET-DORAYAKI]" {
		t.Errorf("sweets = %v, want in-stock first", cat.Categories["sweets"])
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`[{"sku":"A","name":"a","price":100,"url":"https://x.example/a","in_stock":true},{"sku":"A","price":-1,"url":"nope"}]`), 0o644)
	_, err = capture(t, catalogCommand, "import", bad, "--table", table, "--rules", rulesDir())
	for _, want := range []string{`product 2: sku "A" repeats product 1`, "product 2: name is required", "product 2: price is required", `product 2: url "nope" is not an absolute http(s) URL`, "product 2: in_stock is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad catalog error %v lacks %q", err, want)
		}
	}
}
