package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Snapshot is the whole-population figures of one night, which no daily
// counter can give: customers and revenue by lifecycle stage and by
// decile and by segment, the LINE link and email consent counts, and how customers moved
// between stages over the month before. The nightly segment job writes
// one per shop-zone day (STATS#SHOP / SNAPSHOT#<date>); a report reads the
// latest one in its period.
type Snapshot struct {
	// Date is the shop-zone day, YYYY-MM-DD.
	Date       string    `dynamodbav:"date"`
	ComputedAt time.Time `dynamodbav:"computed_at"`
	// Customers counts the customers with a standing order; Revenue is
	// what they spent in all (shop currency, minor units).
	Customers int   `dynamodbav:"customers"`
	Revenue   int64 `dynamodbav:"revenue"`
	// RepeatCustomers counts the customers with two or more standing
	// orders: RepeatCustomers / Customers is the shop's repeat rate.
	RepeatCustomers int `dynamodbav:"repeat_customers"`
	// Stages holds customers and revenue by lifecycle stage (customer.Stage).
	Stages map[string]Share `dynamodbav:"stages"`
	// Segments holds customers and revenue by named segment
	// (rules/segments.yaml); a customer counts in every segment it is in.
	Segments map[string]Share `dynamodbav:"segments,omitempty"`
	// Deciles splits the customers by total spent into ten groups of (nearly)
	// equal size, top first: Deciles[0] is the top 10% of spenders.
	Deciles [10]Share `dynamodbav:"deciles"`
	// LineLinked counts customers with a linked LINE user, LineFollowing
	// those LINE marketing may reach, EmailConsenting those marketing
	// email may reach.
	LineLinked      int `dynamodbav:"line_linked"`
	LineFollowing   int `dynamodbav:"line_following"`
	EmailConsenting int `dynamodbav:"email_consenting"`
	// MigrationSince is the day the stages are compared with (a month
	// before Date); Migration counts customers by their stage then and
	// now: Migration[from][to]. A customer without a standing order then
	// moves from "none".
	MigrationSince string                    `dynamodbav:"migration_since"`
	Migration      map[string]map[string]int `dynamodbav:"migration"`
}

// Share is a group's customers and what they spent in all.
type Share struct {
	Customers int   `dynamodbav:"customers"`
	Revenue   int64 `dynamodbav:"revenue"`
}

// snapshotPrefix starts the sort key of a snapshot.
const snapshotPrefix = "SNAPSHOT#"

// SaveSnapshot stores a night's snapshot (one per day: a rerun replaces
// it), kept as long as the daily counters.
func (s *Store) SaveSnapshot(ctx context.Context, snap Snapshot) error {
	day, err := time.Parse(time.DateOnly, snap.Date)
	if err != nil {
		return fmt.Errorf("save snapshot: date %q: %w", snap.Date, err)
	}
	item, err := marshalMap(struct {
		PK  string `dynamodbav:"pk"`
		SK  string `dynamodbav:"sk"`
		TTL int64  `dynamodbav:"ttl"`
		Snapshot
	}{ShopStatsPartition, snapshotPrefix + snap.Date, day.Add(StatsRetention).Unix(), snap})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("save snapshot %s: %w", snap.Date, err)
	}
	return nil
}

// LatestSnapshot reads the latest snapshot of a day from..to (YYYY-MM-DD,
// inclusive): one Query, newest first, one item. found is false when the
// nightly job wrote none in those days.
func (s *Store) LatestSnapshot(ctx context.Context, from, to string) (snap Snapshot, found bool, err error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: ShopStatsPartition},
			":from": &types.AttributeValueMemberS{Value: snapshotPrefix + from},
			":to":   &types.AttributeValueMemberS{Value: snapshotPrefix + to},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
	})
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("read snapshot %s..%s: %w", from, to, err)
	}
	if len(out.Items) == 0 {
		return Snapshot{}, false, nil
	}
	if err := attributevalue.UnmarshalMap(out.Items[0], &snap); err != nil {
		return Snapshot{}, false, fmt.Errorf("decode snapshot: %w", err)
	}
	return snap, true, nil
}
