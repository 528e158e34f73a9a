package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RejectionRetention is how long a refused delivery's record is kept.
const RejectionRetention = 90 * 24 * time.Hour

// Rejection is the record of a signed delivery refused for good: it could
// never be stored (DynamoDB refused it for its size or shape), so a retry
// would fail the same way. It names the delivery and the order, never the
// customer.
type Rejection struct {
	Source     string    `dynamodbav:"source"`
	DeliveryID string    `dynamodbav:"delivery_id"`
	OrderID    string    `dynamodbav:"order_id"`
	Reason     string    `dynamodbav:"reason"`
	At         time.Time `dynamodbav:"at"`
}

type rejectionItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	TTL    int64  `dynamodbav:"ttl"`
	Rejection
}

// RejectionsPartition is the gsi1 partition of the deliveries refused on a
// UTC day, so they can be counted and listed by day with a Query.
func RejectionsPartition(day time.Time) string {
	return "REJECTIONS#" + day.UTC().Format(time.DateOnly)
}

// RecordRejection keeps the record of a refused delivery (once per
// delivery: a retry overwrites it with the same content).
func (s *Store) RecordRejection(ctx context.Context, r Rejection) error {
	r.At = r.At.UTC()
	item, err := marshalMap(rejectionItem{
		PK: "REJECTED#" + r.Source + "#" + r.DeliveryID, SK: "REJECTED",
		GSI1PK: RejectionsPartition(r.At), GSI1SK: sortTime(r.At) + "#" + r.Source + "#" + r.DeliveryID,
		TTL: r.At.Add(RejectionRetention).Unix(), Rejection: r,
	})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("record rejection of %s delivery: %w", r.Source, err)
	}
	return nil
}

// RejectionsOn lists the deliveries refused on a UTC day (a Query of gsi1).
func (s *Store) RejectionsOn(ctx context.Context, day time.Time) ([]Rejection, error) {
	items, err := queryAll[rejectionItem](ctx, s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: RejectionsPartition(day)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("list rejections of %s: %w", day.Format(time.DateOnly), err)
	}
	var out []Rejection
	for _, it := range items {
		out = append(out, it.Rejection)
	}
	return out, nil
}
