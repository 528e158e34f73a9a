package testenv

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestLimitProblem(t *testing.T) {
	long := strings.Repeat("#n0 :one, ", 500)
	keys := func(n int) []map[string]types.AttributeValue {
		out := make([]map[string]types.AttributeValue, n)
		for i := range out {
			out[i] = map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "X"}}
		}
		return out
	}
	writes := func(n int) []types.WriteRequest {
		out := make([]types.WriteRequest, n)
		for i := range out {
			out[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: keys(1)[0]}}
		}
		return out
	}
	tests := []struct {
		name   string
		params any
		want   string
	}{
		{"short update", &dynamodb.UpdateItemInput{UpdateExpression: aws.String("ADD #n0 :one")}, ""},
		{"update over 4 KB", &dynamodb.UpdateItemInput{UpdateExpression: aws.String("ADD " + long)}, "Expression size has exceeded"},
		{"condition over 4 KB", &dynamodb.PutItemInput{ConditionExpression: aws.String(long)}, "Expression size has exceeded"},
		{"25 writes", &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t": writes(25)}}, ""},
		{"26 writes", &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t": writes(26)}}, "Too many items"},
		{"101 keys", &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {Keys: keys(101)}}}, "Too many items"},
		{"partition key over 2 KB", &dynamodb.GetItemInput{Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: strings.Repeat("k", 2049)}}}, "hashkey"},
		{"sort key over 1 KB", &dynamodb.PutItemInput{Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}, "sk": &types.AttributeValueMemberS{Value: strings.Repeat("k", 1025)}}}, "range keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := limitProblem(tt.params)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("limitProblem = %q, want %q", got, tt.want)
			}
		})
	}
}
