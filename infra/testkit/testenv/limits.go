package testenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// DynamoDB limits the emulator does not enforce, from the DynamoDB
// Developer Guide ("Quotas in Amazon DynamoDB": expression parameters,
// BatchWriteItem, BatchGetItem, partition and sort key lengths). dynalite
// does enforce the 400 KB item size itself.
const (
	maxExpressionBytes   = 4 * 1024
	maxBatchWriteItems   = 25
	maxBatchGetKeys      = 100
	maxPartitionKeyBytes = 2048
	maxSortKeyBytes      = 1024
)

// awsLimits refuses a request DynamoDB would refuse for its size, as
// DynamoDB does: a ValidationException, which code must treat as a
// permanent failure (a retry cannot succeed).
func awsLimits(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	if problem := limitProblem(in.Parameters); problem != "" {
		return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "ValidationException", Message: problem, Fault: smithy.FaultClient}
	}
	return next.HandleInitialize(ctx, in)
}

func limitProblem(params any) string {
	var exprs map[string]*string
	var keys []map[string]types.AttributeValue
	switch in := params.(type) {
	case *dynamodb.UpdateItemInput:
		exprs = map[string]*string{"UpdateExpression": in.UpdateExpression, "ConditionExpression": in.ConditionExpression}
		keys = append(keys, in.Key)
	case *dynamodb.PutItemInput:
		exprs = map[string]*string{"ConditionExpression": in.ConditionExpression}
		keys = append(keys, in.Item)
	case *dynamodb.DeleteItemInput:
		exprs = map[string]*string{"ConditionExpression": in.ConditionExpression}
		keys = append(keys, in.Key)
	case *dynamodb.GetItemInput:
		exprs = map[string]*string{"ProjectionExpression": in.ProjectionExpression}
		keys = append(keys, in.Key)
	case *dynamodb.QueryInput:
		exprs = map[string]*string{"KeyConditionExpression": in.KeyConditionExpression, "FilterExpression": in.FilterExpression, "ProjectionExpression": in.ProjectionExpression}
	case *dynamodb.ScanInput:
		exprs = map[string]*string{"FilterExpression": in.FilterExpression, "ProjectionExpression": in.ProjectionExpression}
	case *dynamodb.BatchWriteItemInput:
		n := 0
		for _, reqs := range in.RequestItems {
			n += len(reqs)
		}
		if n > maxBatchWriteItems {
			return fmt.Sprintf("Too many items requested for the BatchWriteItem call: %d (at most %d)", n, maxBatchWriteItems)
		}
	case *dynamodb.BatchGetItemInput:
		n := 0
		for _, ka := range in.RequestItems {
			n += len(ka.Keys)
		}
		if n > maxBatchGetKeys {
			return fmt.Sprintf("Too many items requested for the BatchGetItem call: %d (at most %d)", n, maxBatchGetKeys)
		}
	}
	for name, e := range exprs {
		if n := len(aws.ToString(e)); n > maxExpressionBytes {
			return fmt.Sprintf("Invalid %s: Expression size has exceeded the maximum allowed size: %d bytes (at most %d)", name, n, maxExpressionBytes)
		}
	}
	for _, k := range keys {
		if v, ok := k["pk"].(*types.AttributeValueMemberS); ok && len(v.Value) > maxPartitionKeyBytes {
			return fmt.Sprintf("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of %d bytes", maxPartitionKeyBytes)
		}
		if v, ok := k["sk"].(*types.AttributeValueMemberS); ok && len(v.Value) > maxSortKeyBytes {
			return fmt.Sprintf("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of %d bytes", maxSortKeyBytes)
		}
	}
	return ""
}
