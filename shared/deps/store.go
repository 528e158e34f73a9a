package deps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store builds the store alone, for functions that run no campaigns: it
// reads TABLE_NAME, reports it with the problems the caller read from env
// before, and loads the AWS configuration, which it also returns for the
// function's other clients.
func Store(ctx context.Context, env *config.Env) (*store.Store, aws.Config, error) {
	table := env.Required("TABLE_NAME")
	if err := env.Err(); err != nil {
		return nil, aws.Config{}, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return store.New(dynamodb.NewFromConfig(cfg), table), cfg, nil
}
