package testenv

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Snapshot returns every item of a test's table, each as canonical JSON
// (keys sorted), sorted: two snapshots are equal exactly when nothing was
// written in between. Tests may scan; handlers may not.
func Snapshot(tb testing.TB, table string) []string {
	tb.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(DynamoDB(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			tb.Fatalf("scan table %s: %v", table, err)
		}
		for _, item := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				tb.Fatalf("read item of table %s: %v", table, err)
			}
			b, err := json.Marshal(m)
			if err != nil {
				tb.Fatalf("encode item of table %s: %v", table, err)
			}
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out
}

// Changed lists what differs between two snapshots: items written ("+")
// and items gone or overwritten ("-").
func Changed(before, after []string) []string {
	var out []string
	for _, it := range after {
		if _, found := slices.BinarySearch(before, it); !found {
			out = append(out, "+ "+it)
		}
	}
	for _, it := range before {
		if _, found := slices.BinarySearch(after, it); !found {
			out = append(out, "- "+it)
		}
	}
	return out
}
