package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/infra/local/apigateway"
	"github.com/tsunagu-dev/tsunagu/infra/local/emulator"
	"github.com/tsunagu-dev/tsunagu/infra/local/lambdaapi"
	"github.com/tsunagu-dev/tsunagu/infra/local/project"
	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// The local stack's fixed addresses (DESIGN.md, Contracts).
const (
	dynamoAddr = "127.0.0.1:4567"
	sesAddr    = "127.0.0.1:8005"
	// queueAddr serves the local stand-in for SQS (infra/local/sqs).
	queueAddr   = "127.0.0.1:9324"
	localRegion = "ap-northeast-1"
	// tableID is the table's logical id in template.yaml.
	tableID = "Table"
	// devSecret is every secret's local default.
	devSecret = "dev-secret"
	// localMailFrom is the local stack's From address unless MAIL_FROM says.
	localMailFrom = "shop@tsubaki-chaen.example.jp"
)

// secretNames are the secrets the stack gives functions, printed at start.
var secretNames = []string{deps.WebhookSecret, deps.ShopifySecret, deps.JudgemeSecret, deps.LineChannelSecret, deps.ThankyouSecret, deps.UnsubscribeSecret, deps.ClickSecret, deps.CouponSecret, deps.PseudonymSecret}

// runStack starts the local stack in the foreground: the emulators, the
// table, every function of template.yaml built as `sam build` builds it and
// run behind a local Lambda Runtime API, and the HTTP apigateway. It stops it
// all when ctx ends (Ctrl-C), or fails when an emulator dies.
func runStack(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: tsunagu run [--port N]   (default: $PORT or 3000)") }
	defaultPort := 3000
	if p := os.Getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("PORT=%q is not a port number", p)
		}
		defaultPort = n
	}
	port := fs.Int("port", defaultPort, "gateway port on 127.0.0.1")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage // the flag package has said what is wrong
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	gatewayAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))

	// Checks first, so nothing starts that would have to be undone.
	if _, err := exec.LookPath("node"); err != nil {
		return emulator.ErrNodeMissing
	}
	for _, addr := range []string{dynamoAddr, sesAddr, queueAddr, gatewayAddr} {
		if err := emulator.CheckPortFree(addr); err != nil {
			return err
		}
	}
	root, err := project.Root()
	if err != nil {
		return err
	}
	tmpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	fns, err := tmpl.Functions()
	if err != nil {
		return err
	}
	// Problems name files as rules/<file>, from the project root, as `make lint` does.
	if _, err := rules.LoadFS(os.DirFS(filepath.Join(root, "rules")), "rules"); err != nil {
		var problems rules.Problems
		if errors.As(err, &problems) {
			fmt.Fprintln(os.Stderr, problems.Error())
			return fmt.Errorf("%d problem(s) in rules/; the stack starts once they are fixed", len(problems))
		}
		return err
	}
	local := newLocalValues(*port)
	envs := map[string][]string{}
	for _, fn := range fns {
		if envs[fn.LogicalID], err = functionEnv(fn, buildDir(root, fn.LogicalID), local); err != nil {
			return err
		}
	}
	if err := buildFunctions(ctx, log, root, fns); err != nil {
		return err
	}

	infra := filepath.Join(root, "infra", "local")
	log.Info("starting emulators", "dir", infra)
	if err := emulator.Install(ctx, infra); err != nil {
		return err
	}
	dynamo, err := emulator.StartDynamoDB(ctx, infra, dynamoAddr)
	if err != nil {
		return err
	}
	defer dynamo.Stop()
	ses, err := emulator.StartSES(ctx, infra, sesAddr)
	if err != nil {
		return err
	}
	defer ses.Stop()
	if err := ensureTable(ctx, tmpl, local.table, dynamo.URL); err != nil {
		return err
	}

	// Every trigger invokes these: the gateway now; a schedule ticker and
	// queue delivery will take the same map.
	functions := map[string]*lambdaapi.Function{}
	defer func() {
		for _, f := range functions {
			f.Stop()
		}
	}()
	for _, fn := range fns {
		f, err := lambdaapi.New(lambdaapi.Config{
			Name:     fn.LogicalID,
			Dir:      buildDir(root, fn.LogicalID),
			Env:      envs[fn.LogicalID],
			Timeout:  fn.Timeout,
			MemoryMB: fn.MemoryMB,
			Region:   localRegion,
			Output:   os.Stdout,
			Logger:   log,
		})
		if err != nil {
			return err
		}
		functions[fn.LogicalID] = f
	}

	routes, err := tmpl.Routes()
	if err != nil {
		return err
	}
	invokers := map[string]apigateway.Invoker{}
	for id, f := range functions {
		invokers[id] = f
	}
	gw, err := apigateway.New(routes, invokers, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", gatewayAddr)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(shutdownCtx) != nil {
			srv.Close()
		}
	}()

	queues, err := startQueues(ctx, log, fns, functions)
	if err != nil {
		return err
	}
	defer queues.stop()
	startSchedules(ctx, log, fns, functions)

	printBanner(gatewayAddr, routes, dynamo.URL, ses.URL, local)

	select {
	case <-ctx.Done():
		log.Info("stopping")
		return nil
	case <-dynamo.Done():
		return fmt.Errorf("the DynamoDB emulator exited unexpectedly; stopping everything:\n%s", tail(dynamo.Output()))
	case <-ses.Done():
		return fmt.Errorf("the SES emulator exited unexpectedly; stopping everything:\n%s", tail(ses.Output()))
	case err := <-served:
		return fmt.Errorf("gateway: %w", err)
	case err := <-queues.served:
		return fmt.Errorf("local queue: %w", err)
	}
}

// localValues are the local stack's answers to what template.yaml computes
// (!Ref parameters and resources), by environment variable name.
type localValues struct {
	table   string
	vars    map[string]string
	secrets map[string]string // name -> "default" or "environment"
}

func newLocalValues(port int) localValues {
	l := localValues{table: envOr("TABLE_NAME", localTable), secrets: map[string]string{}}
	l.vars = map[string]string{
		"TABLE_NAME":            l.table,
		"TSUNAGU_PUBLIC_URL":    fmt.Sprintf("http://127.0.0.1:%d", port),
		"MAIL_FROM":             envOr("MAIL_FROM", localMailFrom),
		"SES_CONFIGURATION_SET": "", // no configuration sets in the SES emulator
		"SENDER_QUEUE_URL":      localQueueURL("SenderQueue"),
		// Without a token, LINE messages are dry runs printed by the functions.
		"LINE_CHANNEL_ACCESS_TOKEN": os.Getenv("LINE_CHANNEL_ACCESS_TOKEN"),
		"LINE_LINK_LOGIN_URL":       os.Getenv("LINE_LINK_LOGIN_URL"),
		// Empty: the local stack takes Shopify webhooks of any shop.
		"SHOPIFY_SHOP_DOMAIN": os.Getenv("SHOPIFY_SHOP_DOMAIN"),
	}
	for _, name := range secretNames {
		l.vars[name], l.secrets[name] = devSecret, "default"
		if v, ok := os.LookupEnv(name); ok && v != "" {
			l.vars[name], l.secrets[name] = v, "environment"
		}
	}
	return l
}

// functionEnv is a function's environment on this machine: template.yaml's
// variables (literals as written, except the rules directory; computed ones
// from local; a secret's SSM parameter name NAME_PARAMETER becomes the
// plain NAME with its local value), then the AWS endpoints and dummy credentials, and LINE dry
// runs that show the messages (locally the data is the developer's own).
func functionEnv(fn sam.Function, dir string, local localValues) ([]string, error) {
	var env []string
	for _, v := range fn.Env {
		value := v.Value
		switch {
		case v.Name == "TSUNAGU_RULES_DIR":
			value = filepath.Join(dir, "rules")
		case !v.Literal && strings.HasSuffix(v.Name, config.ParameterSuffix):
			// In AWS a secret comes from the SSM parameter this names;
			// locally it is the plain variable.
			name := strings.TrimSuffix(v.Name, config.ParameterSuffix)
			secret, ok := local.vars[name]
			if !ok {
				return nil, fmt.Errorf("function %s: template.yaml sets %s to %s, but %s has no local value; add one to newLocalValues in cmd/tsunagu/run.go", fn.LogicalID, v.Name, v.Value, name)
			}
			env = append(env, name+"="+secret)
			continue
		case !v.Literal:
			var ok bool
			if value, ok = local.vars[v.Name]; !ok {
				return nil, fmt.Errorf("function %s: template.yaml sets %s to %s, which has no local value; add one to newLocalValues in cmd/tsunagu/run.go", fn.LogicalID, v.Name, v.Value)
			}
		}
		env = append(env, v.Name+"="+value)
	}
	return append(env,
		"AWS_ENDPOINT_URL_DYNAMODB=http://"+dynamoAddr,
		"AWS_ENDPOINT_URL_SESV2=http://"+sesAddr,
		"AWS_ENDPOINT_URL_SQS=http://"+queueAddr,
		"AWS_REGION="+localRegion,
		"AWS_DEFAULT_REGION="+localRegion,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"LINE_DRY_RUN_SHOW_MESSAGES=true",
		config.StageVariable+"="+config.StageLocal,
	), nil
}

// buildDir is where a function's build goes (ARTIFACTS_DIR).
func buildDir(root, logicalID string) string {
	return filepath.Join(root, ".local", "build", logicalID)
}

// buildFunctions runs each function's SAM build target (make
// build-<LogicalID>) for this machine's architecture.
func buildFunctions(ctx context.Context, log *slog.Logger, root string, fns []sam.Function) error {
	for _, fn := range fns {
		dir := buildDir(root, fn.LogicalID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("build %s: %w", fn.LogicalID, err)
		}
		log.Info("building function", "function", fn.LogicalID, "dir", dir)
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "build-"+fn.LogicalID,
			"ARTIFACTS_DIR="+dir, "LAMBDA_GOARCH="+runtime.GOARCH)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s (make build-%s): %w\n%s", fn.LogicalID, fn.LogicalID, err, out)
		}
	}
	return nil
}

// ensureTable creates the template's table in the emulator unless it exists.
func ensureTable(ctx context.Context, tmpl *sam.Template, name, endpoint string) error {
	in, err := tmpl.TableInput(tableID, name)
	if err != nil {
		return err
	}
	db := dynamodb.New(dynamodb.Options{
		Region:       localRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &notFound):
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	return nil
}

// printBanner prints where everything is and the secret values in force
// (local values only; DESIGN.md asks for them to be shown).
func printBanner(gatewayAddr string, routes []sam.Route, dynamoURL, sesURL string, local localValues) {
	var b strings.Builder
	fmt.Fprintf(&b, "\ntsunagu local stack is up (Ctrl-C stops it all)\n\n")
	fmt.Fprintf(&b, "  gateway          http://%s   (GET /healthz)\n", gatewayAddr)
	for _, r := range routes {
		fmt.Fprintf(&b, "    %-32s -> %s\n", r.RouteKey(), r.Function)
	}
	fmt.Fprintf(&b, "  SES mail viewer  %s/\n", sesURL)
	fmt.Fprintf(&b, "  queue (SQS)      http://%s   (SenderQueue -> SenderFunction)\n", queueAddr)
	fmt.Fprintf(&b, "  DynamoDB         %s   (table %s)\n\n", dynamoURL, local.table)
	fmt.Fprintf(&b, "  secrets in force (set the variable to change one):\n")
	for _, name := range secretNames {
		fmt.Fprintf(&b, "    %s=%s   (%s)\n", name, local.vars[name], local.secrets[name])
	}
	fmt.Fprintln(&b)
	fmt.Fprint(os.Stdout, b.String())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// tail returns the last lines of an emulator's output.
func tail(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
