package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// Prices used for the cost estimate (US East (N. Virginia), on-demand,
// as published by AWS; other regions differ by a few percent).
const (
	lambdaPerGBSecondARM = 0.0000133334 // USD per GB-second, arm64
	lambdaPerRequest     = 0.20 / 1e6   // USD per invocation
	dynamoPerWriteUnit   = 0.625 / 1e6  // USD per write request unit (1 KB)
	dynamoPerReadUnit    = 0.125 / 1e6  // USD per read request unit (4 KB, strongly consistent)
	sesPerEmail          = 0.10 / 1000  // USD per email
	functionMemoryGB     = 0.25         // template.yaml MemorySize: 256
)

// benchCommand runs the Go benchmarks against the emulators and writes
// their figures, with the command that produced them, to a Markdown file.
func benchCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	out := fs.String("out", "BENCHMARKS.md", "file to write")
	benchtime := fs.String("benchtime", "300x", "go test -benchtime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The at-scale benchmarks seed 100,000 customers and run once; the
	// others repeat enough to give percentiles.
	const once = "ScheduleAtScale|Pacing|Report90Days"
	runs := [][]string{
		{"test", "-run", "^$", "-bench", ".", "-skip", once, "-benchtime", *benchtime, "-count", "1", "./..."},
		{"test", "-run", "^$", "-bench", once, "-benchtime", "1x", "-count", "1", "-timeout", "30m", "./functions/sender/", "./cmd/tsunagu/"},
	}
	var raw bytes.Buffer
	var cmdlines []string
	for _, goArgs := range runs {
		cmdline := "go " + strings.Join(goArgs, " ")
		cmdlines = append(cmdlines, cmdline)
		fmt.Fprintln(os.Stderr, "running:", cmdline)
		cmd := exec.CommandContext(ctx, "go", goArgs...)
		cmd.Stdout = io.MultiWriter(&raw, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run benchmarks: %w", err)
		}
	}
	cmdline := strings.Join(cmdlines, "\n")
	results, err := parseBench(raw.Bytes())
	if err != nil {
		return err
	}
	doc := renderBenchmarks(results, cmdline, raw.String())
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintln(os.Stderr, "wrote", *out)
	return nil
}

// benchResult is one benchmark's metrics by unit.
type benchResult struct {
	Name    string
	Iters   int
	Metrics map[string]float64
}

func parseBench(raw []byte) (map[string]benchResult, error) {
	out := map[string]benchResult{}
	r := benchfmt.NewReader(bytes.NewReader(raw), "bench")
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		name := string(res.Name.Full())
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // drop -GOMAXPROCS
		}
		br := benchResult{Name: name, Iters: res.Iters, Metrics: map[string]float64{}}
		for _, v := range res.Values {
			br.Metrics[v.Unit] = v.Value
		}
		out[name] = br
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("parse benchmark output: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("parse benchmark output: no benchmark results")
	}
	return out, nil
}

// reportSection is the report benchmark's table, with what the counters
// it reads cost the functions per order and per message.
func reportSection(r benchResult, results map[string]benchResult) string {
	var b strings.Builder
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	cs, creq, rs, rreq := r.Metrics["counters-s"], r.Metrics["counters-req"], r.Metrics["recompute-s"], r.Metrics["recompute-req"]
	fmt.Fprintf(&b, "## Report\n\nA 90-day report over %.0f customers seeded as `tsunagu seed --customers 100000 --days 90` writes them (profiles through the store, the counters the functions keep, the nightly snapshot), built the way `tsunagu report` builds it (every figure, and the HTML page), against recomputing its headline figures from every order (a parallel Scan of the profiles, which hold each customer's orders). The benchmark fails unless both find the same orders and revenue.\n\n", r.Metrics["customers"])
	b.WriteString("| | Time | DynamoDB requests | Goal |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| From the counters (`kpi.Compute` + HTML) | %.3f s | %.0f | under 5 s and 2,000 requests: %s |\n", cs, creq, met(cs < 5 && creq < 2000))
	fmt.Fprintf(&b, "| Recomputed from every order (baseline) | %.3f s | %.0f | |\n\n", rs, rreq)
	bare, full := results["PurchaseWebhookNoCampaigns"], results["PurchaseWebhook"]
	if perOrder, ok := bare.Metrics["counter-writes/order"]; ok {
		perMessage := full.Metrics["counter-writes/order"] - perOrder
		fmt.Fprintf(&b, "What the counters cost the functions, counted by the same middleware (UpdateItem calls on `STATS#` items): %.1f write per order (the shop's day) and %.1f per campaign message (the campaign's day and variant, every figure of the send in one UpdateItem); goal at most 1 each: %s.\n\n",
			perOrder, perMessage, met(perOrder <= 1 && perMessage <= 1))
	}
	return b.String()
}

func renderBenchmarks(results map[string]benchResult, cmdline, raw string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nProduced by `make bench` (`go run ./cmd/tsunagu bench`), which runs\n\n```sh\n%s\n```\n\n", cmdline)
	fmt.Fprintf(&b, "on %s, %s. Every benchmark runs against the local emulators (dynalite,\naws-ses-v2-local) started by the test binary itself, through the real AWS SDK v2 clients,\nso latencies include the emulators' own (Node.js) processing on the same 2 cores.\n\n", machine(raw), time.Now().UTC().Format("2006-01-02"))

	if full, ok := results["PurchaseWebhook"]; ok {
		bare := results["PurchaseWebhookNoCampaigns"]
		b.WriteString("## Purchase webhook\n\n")
		b.WriteString("| | p50 | p99 | DynamoDB reads / order | DynamoDB writes / order |\n|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| `order.created`, no campaign (before campaign effects) | %.1f ms | %.1f ms | %.1f | %.1f |\n", bare.Metrics["p50-ms"], bare.Metrics["p99-ms"], bare.Metrics["ddb-reads/order"], bare.Metrics["ddb-writes/order"])
		fmt.Fprintf(&b, "| `order.created` with the shipped post-purchase email | %.1f ms | %.1f ms | %.1f | %.1f |\n\n", full.Metrics["p50-ms"], full.Metrics["p99-ms"], full.Metrics["ddb-reads/order"], full.Metrics["ddb-writes/order"])
		verdict := "within"
		if bare.Metrics["ddb-writes/order"] > 7 {
			verdict = "OVER"
		}
		fmt.Fprintf(&b, "Budget: at most 7 DynamoDB write requests per order before campaign effects (4; 1 for the shop's counters; 1 for the order's pending points; 1 for a first order's referral code entry): %.1f, %s budget.\n", bare.Metrics["ddb-writes/order"], verdict)
		b.WriteString("Requests are counted by an AWS SDK middleware on the DynamoDB client (`store.RequestCounter`), retries included. Before campaign effects an order costs a delivery check (GetItem), one catalog read for categories and recommendation candidates (BatchGetItem), the order merge (UpdateItem), the profile read-modify-write (GetItem + conditional PutItem, and the consent ledger's PutItem for a first consent), the measurement of a new order (the buyer's message log since the longest window and the buyer's clicks in the click window, one Query each, for attribution and lift conversions; the shop's daily counters, one UpdateItem), the order's pending points (one PutItem on the points ledger; the approval timer is a second PutItem on the delivery event), the referral step (the code an order carries, GetItem; the buyer's own code entry on a first order, PutItem) and the delivery mark (PutItem). An order attributed to a campaign, or converting a lift assignment, adds one conditional write each (the ATTRIBUTION item, the assignment's message entry) and one counter UpdateItem per campaign day touched. Orders of several products, or from returning customers, also teach co-purchase affinity: one UpdateItem per product (this benchmark's single-product first orders teach nothing). With the shipped rules, campaign effects add: the customer's recent sends (GetItem), the cap reservation (PutItem), the treatment assignment's message-log entry (PutItem), the suppression check (GetItem x2: the keyed hash, then the plain one of earlier versions), the email's claim and outcome (UpdateItem x2), the second-purchase nudge's timer (PutItem) and the run's counters: one UpdateItem for the campaign's day and variant (sent, assigned_treatment, the global comparison's assigned_exposed and coupons_issued together).\n\n")

		b.WriteString("### Estimated AWS cost per million orders\n\n")
		ms := full.Metrics["p50-ms"]
		billedMS := float64(int(ms) + 1)
		lambda := 1e6 * (lambdaPerRequest + billedMS/1000*functionMemoryGB*lambdaPerGBSecondARM)
		dynamo := 1e6 * (full.Metrics["ddb-writes/order"]*dynamoPerWriteUnit + full.Metrics["ddb-reads/order"]*dynamoPerReadUnit)
		ses := 1e6 * sesPerEmail
		fmt.Fprintf(&b, "| Item | Basis | USD per 1M orders |\n|---|---|---|\n")
		fmt.Fprintf(&b, "| Lambda (arm64, 256 MB) | 1 invocation + %.0f ms billed (the measured p50, rounded up) | %.2f |\n", billedMS, lambda)
		fmt.Fprintf(&b, "| DynamoDB on-demand | %.1f writes + %.1f strongly consistent reads, 1 unit each (items under 1 KB / 4 KB) | %.2f |\n", full.Metrics["ddb-writes/order"], full.Metrics["ddb-reads/order"], dynamo)
		fmt.Fprintf(&b, "| **Lambda + DynamoDB** | | **%.2f** |\n", lambda+dynamo)
		fmt.Fprintf(&b, "| SES (for reference) | one email per order | %.2f |\n\n", ses)
		b.WriteString("Prices: US East (N. Virginia) on-demand list prices: Lambda arm64 $0.0000133334 per GB-second and $0.20 per million requests; DynamoDB $0.625 per million write and $0.125 per million read request units; SES $0.10 per 1,000 emails. In AWS the handler time is lower than here (no emulator sharing the CPU) and API Gateway HTTP API adds $1.00 per million requests. A profile lists a customer's latest orders (about 150 bytes each, at most 100) and folds older ones into sums, so a regular customer's profile writes cost up to about 30 write units (see Profile size).\n\n")
	}
	if r, ok := results["Report90Days"]; ok {
		b.WriteString(reportSection(r, results))
	}
	if ps, ok := results["ProfileSize"]; ok {
		fmt.Fprintf(&b, "## Profile size\n\nOne customer, 1,000 orders through the store as the purchase webhook applies them (each a different product, 300 brands): the profile item is %.1f KB after 100 orders and %.1f KB after 1,000 (DynamoDB's item limit: 400 KB). The latest %d orders are listed one by one; older ones are folded into sums, and counts by brand and last-bought times by product keep their largest 200.\n\n",
			ps.Metrics["bytes-after-100-orders"]/1024, ps.Metrics["bytes-after-1000-orders"]/1024, customer.MaxRecentOrders)
	}
	if v, ok := results["ThankyouView"]; ok {
		fmt.Fprintf(&b, "## Thank-you page\n\n%d views of one order, 50 at a time, through the thank-you handler against the emulators: p50 %.1f ms, p99 %.1f ms per view, %.1f DynamoDB requests per view (budget 3: the order, then at once the catalog with the profile in one BatchGetItem and the view record with its coupon). The emulator is a single Node.js process on 2 cores, so at 50 concurrent views most of the time is queueing in it.\n\n",
			v.Iters, v.Metrics["p50-ms"], v.Metrics["p99-ms"], v.Metrics["ddb-req/view"])
	}
	if sc, ok := results["ScheduleAtScale"]; ok {
		fmt.Fprintf(&b, "## Schedules at scale\n\n100,000 customers, each with an order and a timer due over the next 30 days (200,000 items seeded in bulk); one tick finds %.0f due.\n\n", sc.Metrics["due"])
		b.WriteString("| | Items read per due message |\n|---|---|\n")
		fmt.Fprintf(&b, "| Scheduler (sharded sparse due index, 16 partitions) | %.3f (goal: at most 1.1) |\n", sc.Metrics["scheduler-reads/due"])
		fmt.Fprintf(&b, "| Naive full scan of the table, filtering due timers | %.1f |\n\n", sc.Metrics["fullscan-reads/due"])
		fmt.Fprintf(&b, "Sender throughput, unpaced, four batches of ten at once (as Lambda would run them), deciding and sending each message through the emulators (about 8 DynamoDB requests and one SES call per message): **%.0f messages/s** (goal: 1,000/s). The single-threaded Node.js emulators on 2 cores are the bottleneck here; in AWS the sender is paced to the account's SES rate (default 14/s) anyway.\n\n", sc.Metrics["sent/s"])
	}
	if p, ok := results["Pacing"]; ok {
		fmt.Fprintf(&b, "Pacing: 200 emails through the paced sender at 50/s to the SES emulator went out at %.2f/s, an error of %.2f%% (goal: within 5%%).\n\n", p.Metrics["sent/s"], p.Metrics["pacing-error-%"])
	}
	if d, ok := results["Decide200Campaigns"]; ok {
		verdict := "within"
		if d.Metrics["µs/event"] > 100 {
			verdict = "OVER"
		}
		fmt.Fprintf(&b, "## Rule evaluation\n\nDeciding 200 campaigns (audiences of every kind: segments, helpers, RFM, deciles) for one order event: %.1f µs per event, %.0f allocations; budget 100 µs: %s budget.\n\n",
			d.Metrics["µs/event"], d.Metrics["allocs/op"], verdict)
	}
	if cs, ok := results["ColdStart"]; ok {
		b.WriteString("## Cold start\n\n")
		fmt.Fprintf(&b, "The built `bootstrap` (linux/%s here; arm64 in Lambda), exec to first answer against a local Lambda Runtime API endpoint (`infra/local/lambdaapi`), including loading and checking the rules and reading the segment figures: p50 %.1f ms, p99 %.1f ms over %d starts. Binary size: %.1f MB (host build), %.1f MB (linux/arm64, as `sam build` makes it).\n\n",
			goarch(raw), cs.Metrics["p50-ms"], cs.Metrics["p99-ms"], cs.Iters, cs.Metrics["bytes-host"]/1e6, cs.Metrics["bytes-arm64"]/1e6)
	}
	b.WriteString("## All results\n\n| Benchmark | Iterations | Metrics |\n|---|---|---|\n")
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := results[n]
		units := make([]string, 0, len(r.Metrics))
		for u := range r.Metrics {
			units = append(units, u)
		}
		sort.Strings(units)
		var parts []string
		for _, u := range units {
			parts = append(parts, fmt.Sprintf("%.4g %s", r.Metrics[u], u))
		}
		fmt.Fprintf(&b, "| %s | %d | %s |\n", n, r.Iters, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "\n## Raw output\n\n```\n%s```\n", benchLines(raw))
	return b.String()
}

// benchLines keeps the benchmark result lines and their headers.
func benchLines(raw string) string {
	var b strings.Builder
	for _, line := range strings.Split(raw, "\n") {
		for _, prefix := range []string{"Benchmark", "goos:", "goarch:", "pkg:", "cpu:"} {
			if strings.HasPrefix(line, prefix) {
				b.WriteString(line + "\n")
				break
			}
		}
	}
	return b.String()
}

func machine(raw string) string {
	cpu := "an unknown CPU"
	for _, line := range strings.Split(raw, "\n") {
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			cpu = v
		}
	}
	return fmt.Sprintf("%s (%s)", cpu, goarch(raw))
}

func goarch(raw string) string {
	for _, line := range strings.Split(raw, "\n") {
		if v, ok := strings.CutPrefix(line, "goarch: "); ok {
			return v
		}
	}
	return "unknown"
}
