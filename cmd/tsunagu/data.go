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
		return store.New(dynamodb.NewFromConfig(cfg), f.table), nil
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
	return store.New(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) }), table), nil
}

// where names the data source in messages.
func (f *dataFlags) where() string {
	if f.aws {
		return "AWS table " + f.table
	}
	return "the local stack (make run)"
}
