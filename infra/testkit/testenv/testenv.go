// Package testenv gives a package's tests the real emulators: TestMain calls
// Main, which installs (first time) and starts dynalite and aws-ses-v2-local
// on free ports; tests then take fresh tables and real SDK clients.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	"github.com/tsunagu-dev/tsunagu/infra/local/project"
	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

var (
	dynamo    *emulator.Emulator
	ses       *emulator.Emulator
	root      string
	tableSeq  atomic.Int64
	templateT *sam.Template
)

// Main starts the emulators, runs the package's tests and stops them.
func Main(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()
	var err error
	if root, err = project.Root(); err != nil {
		return 1, err
	}
	if templateT, err = sam.Load(filepath.Join(root, "template.yaml")); err != nil {
		return 1, err
	}
	dir := filepath.Join(root, "infra", "local")
	if err := emulator.Install(ctx, dir); err != nil {
		return 1, err
	}
	if dynamo, err = emulator.OnFreePort(func(addr string) (*emulator.Emulator, error) {
		return emulator.StartDynamoDB(ctx, dir, addr)
	}); err != nil {
		return 1, err
	}
	defer dynamo.Stop()
	if ses, err = emulator.OnFreePort(func(addr string) (*emulator.Emulator, error) {
		return emulator.StartSES(ctx, dir, addr)
	}); err != nil {
		return 1, err
	}
	defer ses.Stop()
	return m.Run(), nil
}

// Root is the project's root directory.
func Root() string { return root }

// ScheduledEvent is the event EventBridge Scheduler sends function: the
// Input template.yaml gives its one schedule, with the scheduled time at
// filled in.
func ScheduledEvent(tb testing.TB, function string, at time.Time) json.RawMessage {
	tb.Helper()
	fns, err := templateT.Functions()
	if err != nil {
		tb.Fatal(err)
	}
	i := slices.IndexFunc(fns, func(f sam.Function) bool { return f.LogicalID == function })
	if i < 0 || len(fns[i].Schedules) != 1 {
		tb.Fatalf("template.yaml has no schedule for %s", function)
	}
	return json.RawMessage(strings.ReplaceAll(fns[i].Schedules[0].Input, "<aws.scheduler.scheduled-time>", at.Format(time.RFC3339)))
}

// DynamoDBURL is the DynamoDB emulator's endpoint.
func DynamoDBURL() string { return dynamo.URL }

// SESURL is the SES emulator's endpoint.
func SESURL() string { return ses.URL }

// AWSConfig is an SDK configuration with dummy credentials, as the local
// stack uses; endpoints are set per client.
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      "ap-northeast-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		// Emulators answer fast; do not let a broken one stall a test.
		RetryMaxAttempts: 3,
	}
}

// DynamoDB returns a real DynamoDB client for the emulator.
// Requests over DynamoDB's documented limits that the emulator does not
// enforce (expression sizes, batch sizes, key lengths) fail as DynamoDB
// would fail them, with a ValidationException.
func DynamoDB(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(dynamo.URL)
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("AWSLimits", awsLimits), middleware.After)
		})
	}}, optFns...)...)
}

// SES returns a real SES v2 client for the emulator.
func SES() *sesv2.Client {
	return sesv2.NewFromConfig(AWSConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(ses.URL) })
}

// TableInputFor is the CreateTable request for a table named name, shaped
// as template.yaml declares it (for a test's own emulator).
func TableInputFor(name string) (*dynamodb.CreateTableInput, error) {
	return templateT.TableInput("Table", name)
}

// NewTable creates a fresh table shaped as template.yaml declares, so tests
// never share state, and returns its name.
func NewTable(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d-%d", os.Getpid(), tableSeq.Add(1))
	in, err := templateT.TableInput("Table", name)
	if err != nil {
		tb.Fatal(err)
	}
	db := DynamoDB()
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		tb.Fatalf("create table %s: %v", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := waiter.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		tb.Fatalf("wait for table %s: %v", name, err)
	}
	return name
}

// Email is one message as the SES emulator stored it.
type Email struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
		Cc []string `json:"cc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	// Attachments are the files sent with it; Content is base64.
	Attachments []struct {
		Filename    string `json:"filename"`
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"attachments"`
}

// Header returns the value of the named header, or "".
func (e Email) Header(name string) string {
	for _, h := range e.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// SentEmails lists the emails the SES emulator received for an address,
// in To or Cc (every email when to is empty).
func SentEmails(tb testing.TB, to string) []Email {
	tb.Helper()
	resp, err := http.Get(ses.URL + "/store")
	if err != nil {
		tb.Fatalf("read SES emulator store: %v", err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []Email `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		tb.Fatalf("decode SES emulator store: %v", err)
	}
	var out []Email
	for _, e := range store.Emails {
		for _, addr := range slices.Concat(e.Destination.To, e.Destination.Cc) {
			if to == "" || strings.Contains(addr, to) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

var addressSeq atomic.Int64

// UniqueEmail returns an address no other test uses, so tests that share the
// SES emulator can count their own mail. The local part stays within the
// 64 characters an address allows.
func UniqueEmail(tb testing.TB, local string) string {
	sum := sha256.Sum256([]byte(tb.Name()))
	return fmt.Sprintf("%s+%x-%d-%d@example.jp", local, sum[:4], os.Getpid(), addressSeq.Add(1))
}
