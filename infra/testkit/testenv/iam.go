package testenv

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

// DynamoDBAs is a DynamoDB client that refuses, as IAM would in AWS, every
// request template.yaml does not allow function to make on the table: an
// action missing from its policies, an index it may not query, or a
// partition key outside its dynamodb:LeadingKeys. A refusal fails the test
// and answers the caller with an AccessDeniedException-like error, so a
// policy that is too tight shows up here and not first in production.
// optFns configure the client further, as for DynamoDB.
func DynamoDBAs(tb testing.TB, function string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	grants, err := templateT.TableGrants(function, "Table")
	if err != nil {
		tb.Fatal(err)
	}
	if len(grants) == 0 {
		tb.Fatalf("template.yaml grants %s nothing on the table", function)
	}
	check := func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		for _, req := range tableRequests(in.Parameters) {
			if !allowed(grants, req) {
				err := fmt.Errorf("AccessDeniedException: template.yaml does not allow %s dynamodb:%s on index %q with partition key %q", function, req.action, req.index, req.partition)
				tb.Error(err)
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
		}
		return next.HandleInitialize(ctx, in)
	}
	return DynamoDB(append(optFns, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TemplatePolicy", check), middleware.Before)
		})
	})...)
}

// tableRequest is one action on one partition, as IAM authorises it.
type tableRequest struct {
	action    string
	index     string
	partition string // "" when the request names none (Scan)
}

// tableRequests lists what IAM checks for one request: each item of a
// batch or transaction is authorised as its own action.
func tableRequests(input any) []tableRequest {
	pk := func(item map[string]types.AttributeValue) string {
		if v, ok := item["pk"].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		return []tableRequest{{action: "GetItem", partition: pk(in.Key)}}
	case *dynamodb.PutItemInput:
		return []tableRequest{{action: "PutItem", partition: pk(in.Item)}}
	case *dynamodb.UpdateItemInput:
		return []tableRequest{{action: "UpdateItem", partition: pk(in.Key)}}
	case *dynamodb.DeleteItemInput:
		return []tableRequest{{action: "DeleteItem", partition: pk(in.Key)}}
	case *dynamodb.QueryInput:
		return []tableRequest{{action: "Query", index: aws.ToString(in.IndexName), partition: queriedPartition(in)}}
	case *dynamodb.ScanInput:
		return []tableRequest{{action: "Scan", index: aws.ToString(in.IndexName)}}
	case *dynamodb.BatchGetItemInput:
		var out []tableRequest
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				out = append(out, tableRequest{action: "BatchGetItem", partition: pk(k)})
			}
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []tableRequest
		for _, writes := range in.RequestItems {
			for _, w := range writes {
				if w.PutRequest != nil {
					out = append(out, tableRequest{action: "BatchWriteItem", partition: pk(w.PutRequest.Item)})
				}
				if w.DeleteRequest != nil {
					out = append(out, tableRequest{action: "BatchWriteItem", partition: pk(w.DeleteRequest.Key)})
				}
			}
		}
		return out
	case *dynamodb.TransactWriteItemsInput:
		var out []tableRequest
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, tableRequest{action: "PutItem", partition: pk(it.Put.Item)})
			case it.Update != nil:
				out = append(out, tableRequest{action: "UpdateItem", partition: pk(it.Update.Key)})
			case it.Delete != nil:
				out = append(out, tableRequest{action: "DeleteItem", partition: pk(it.Delete.Key)})
			case it.ConditionCheck != nil:
				out = append(out, tableRequest{action: "ConditionCheckItem", partition: pk(it.ConditionCheck.Key)})
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []tableRequest
		for _, it := range in.TransactItems {
			out = append(out, tableRequest{action: "GetItem", partition: pk(it.Get.Key)})
		}
		return out
	}
	return []tableRequest{{action: fmt.Sprintf("%T", input)}}
}

// stringLike matches as IAM's StringLike: * is any run of characters
// (slashes included), ? any one.
func stringLike(pattern, s string) bool {
	expr := regexp.QuoteMeta(pattern)
	expr = strings.ReplaceAll(strings.ReplaceAll(expr, `\*`, ".*"), `\?`, ".")
	return regexp.MustCompile("^" + expr + "$").MatchString(s)
}

// partitionCondition is the partition key part of a key condition:
// "pk = :p" or "gsi1pk = :p".
var partitionCondition = regexp.MustCompile(`^\s*#?\w+\s*=\s*(:\w+)`)

// queriedPartition is the partition key value a Query names.
func queriedPartition(in *dynamodb.QueryInput) string {
	m := partitionCondition.FindStringSubmatch(aws.ToString(in.KeyConditionExpression))
	if m == nil {
		return ""
	}
	if v, ok := in.ExpressionAttributeValues[m[1]].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// allowed reports whether any grant allows the request. A LeadingKeys
// condition is ForAllValues, so a request naming no partition (a Scan)
// passes it, as in IAM.
func allowed(grants []sam.TableGrant, req tableRequest) bool {
	for _, g := range grants {
		if g.Index != req.index || !slices.Contains(g.Actions, req.action) {
			continue
		}
		if g.LeadingKeys == nil || req.action == "Scan" {
			return true
		}
		for _, pattern := range g.LeadingKeys {
			if stringLike(pattern, req.partition) {
				return true
			}
		}
	}
	return false
}
