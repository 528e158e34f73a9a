package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/lambdaapi"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/config"
)

// The benchmark builds the function once per test binary, however often
// the testing package calls it.
var (
	buildOnce sync.Once
	builds    = map[string]string{}
	buildErr  error
)

// BenchmarkColdStart measures the built bootstrap from exec to its first
// answer, against a local Lambda Runtime API endpoint, including loading and
// checking the rules and reading the segment figures (one GetItem). It
// also reports the binary's size as built for this
// machine and as `sam build` builds it (linux/arm64).
func BenchmarkColdStart(b *testing.B) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coldstart")
		if err != nil {
			buildErr = err
			return
		}
		for _, arch := range []string{runtime.GOARCH, "arm64"} {
			out := filepath.Join(dir, arch)
			cmd := exec.Command("make", "--no-print-directory", "build-PurchaseFunction", "ARTIFACTS_DIR="+out, "LAMBDA_GOARCH="+arch)
			cmd.Dir = testenv.Root()
			if msg, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("make build-PurchaseFunction (%s): %w\n%s", arch, err, msg)
				return
			}
			builds[arch] = out
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	host := builds[runtime.GOARCH]
	size := func(d string) float64 {
		st, err := os.Stat(filepath.Join(d, "bootstrap"))
		if err != nil {
			b.Fatal(err)
		}
		return float64(st.Size())
	}
	hostSize, armSize := size(host), size(builds["arm64"])
	env := []string{
		"TABLE_NAME=" + testenv.NewTable(b), "TSUNAGU_RULES_DIR=" + filepath.Join(host, "rules"), "TSUNAGU_PUBLIC_URL=http://127.0.0.1:3000",
		"TSUNAGU_WEBHOOK_SECRET=dev-secret", "SHOPIFY_WEBHOOK_SECRET=dev-secret", "UNSUBSCRIBE_SECRET=dev-secret", "COUPON_SECRET=dev-secret",
		"MAIL_FROM=shop@tsubaki-chaen.example.jp", "AWS_ENDPOINT_URL_DYNAMODB=" + testenv.DynamoDBURL(), "AWS_ENDPOINT_URL_SESV2=" + testenv.SESURL(),
		"AWS_REGION=ap-northeast-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		// As the local stack runs it: plain dev secrets, any shop.
		config.StageVariable + "=" + config.StageLocal, "CLICK_SECRET=dev-secret", "PSEUDONYM_SECRET=dev-secret",
	}
	// A request the handler answers without touching DynamoDB: a wrong
	// signature, 401.
	event, _ := json.Marshal(map[string]any{"version": "2.0", "routeKey": genericRoute, "rawPath": "/webhooks/orders",
		"headers": map[string]string{"x-tsunagu-signature": "t=1,v1=00"}, "body": "{}"})
	quiet := slog.New(slog.DiscardHandler)
	starts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		f, err := lambdaapi.New(lambdaapi.Config{Name: "PurchaseFunction", Dir: host, Env: env, Timeout: 10 * time.Second, MemoryMB: 256, Output: io.Discard, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		out, err := f.Invoke(context.Background(), event)
		starts = append(starts, time.Since(start))
		f.Stop()
		if err != nil || !strings.Contains(string(out), `"statusCode":401`) {
			b.Fatalf("first answer = %s, %v", out, err)
		}
	}
	b.StopTimer()
	slices.Sort(starts)
	pct := func(p float64) float64 { return float64(starts[int(p*float64(len(starts)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(hostSize, "bytes-host")
	b.ReportMetric(armSize, "bytes-arm64")
}
