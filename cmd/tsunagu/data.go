package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/deps"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// localTable is the table `make run` creates (unless TABLE_NAME says otherwise).
const localTable = "tsunagu"

// dataFlags choose where commands that read or write data go: the local
// stack by default, AWS with --aws.
type dataFlags struct {
	aws   bool
	table string
}

func (f *dataFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.aws, "aws", false, "use AWS (the usual AWS_PROFILE / AWS_REGION) instead of the local stack")
	fs.StringVar(&f.table, "table", os.Getenv("TABLE_NAME"), "DynamoDB table (default: $TABLE_NAME, or tsunagu locally)")
}

// open returns a store on the chosen table.
func (f *dataFlags) open(ctx context.Context) (*store.Store, error) {
	if f.aws {
		if f.table == "" {
			return nil, errors.New("--aws needs the table: --table NAME or TABLE_NAME (the TableName output of the stack)")
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		keyer, err := awsPseudonyms(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return store.New(dynamodb.NewFromConfig(cfg), f.table).WithPseudonyms(keyer), nil
	}
	table := f.table
	if table == "" {
		table = localTable
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = "http://" + dynamoAddr
	}
	cfg := aws.Config{Region: localRegion, Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 2}
	return store.New(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }), table).
		WithPseudonyms(pseudonym.New(envOr(deps.PseudonymSecret, devSecret))), nil
}

// defaultSecretsPath is template.yaml's default SecretsPath: where the
// stack's functions read their secrets in SSM Parameter Store.
const defaultSecretsPath = "/tsunagu"

// awsPseudonyms is the deployed stack's PSEUDONYM_SECRET, for reading
// suppressions: $PSEUDONYM_SECRET when set, otherwise the SSM parameter
// $PSEUDONYM_SECRET_PARAMETER names (default /tsunagu/PSEUDONYM_SECRET).
func awsPseudonyms(ctx context.Context, cfg aws.Config) (pseudonym.Keyer, error) {
	if v := os.Getenv(deps.PseudonymSecret); v != "" {
		return pseudonym.New(v), nil
	}
	name := envOr(deps.PseudonymSecret+config.ParameterSuffix, defaultSecretsPath+"/"+deps.PseudonymSecret)
	env := config.New(func(k string) (string, bool) {
		if k == deps.PseudonymSecret+config.ParameterSuffix {
			return name, true
		}
		return "", false
	})
	values, err := env.Secrets(ctx, func() config.Parameters { return ssm.NewFromConfig(cfg) }, config.Secret{Name: deps.PseudonymSecret})
	if err == nil {
		err = env.Err()
	}
	if err != nil {
		return pseudonym.Keyer{}, err
	}
	return pseudonym.New(values[deps.PseudonymSecret]), nil
}

// ses returns an SES v2 client: AWS's with --aws, otherwise the local
// stack's emulator.
func (f *dataFlags) ses(ctx context.Context) (*sesv2.Client, error) {
	if f.aws {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		return sesv2.NewFromConfig(cfg), nil
	}
	endpoint := envOr("AWS_ENDPOINT_URL_SESV2", "http://"+sesAddr)
	cfg := aws.Config{Region: localRegion, Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""), RetryMaxAttempts: 2}
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

// where names the data source in messages.
func (f *dataFlags) where() string {
	if f.aws {
		return "AWS table " + f.table
	}
	return "the local stack (make run)"
}
