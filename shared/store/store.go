// Package store keeps tsunagu's state in one DynamoDB table: deliveries,
// orders, customer profiles and the message log. Every write is a single-item
// (conditional) write, so a handler built from these steps can be retried at
// any point and converges. The key design is in README.md beside this file.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// ErrNotFound means the item asked for is not stored (or has expired).
var ErrNotFound = errors.New("not found")

// Store reads and writes the tsunagu table.
type Store struct {
	db    *dynamodb.Client
	table string
	// pseudonyms keys the hashes suppressed addresses are kept under.
	pseudonyms pseudonym.Keyer
}

// New returns a Store on the named table. Suppressed addresses are hashed
// under an empty key until WithPseudonyms gives it the shop's: every
// function that reads or writes suppressions is built with it (deps).
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table}
}

// WithPseudonyms returns a copy of the store that keeps suppressed
// addresses under keyer's hashes (PSEUDONYM_SECRET).
func (s *Store) WithPseudonyms(keyer pseudonym.Keyer) *Store {
	c := *s
	c.pseudonyms = keyer
	return &c
}

// Table is the name of the table the store uses.
func (s *Store) Table() string { return s.table }

// key builds a primary key.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// IsPermanent reports whether DynamoDB refused a request for what it is
// (an item over 400 KB, an expression over its limits, a malformed value):
// sending it again cannot succeed, unlike a throttle or an outage.
func IsPermanent(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ValidationException", "ItemCollectionSizeLimitExceededException", "SerializationException":
		return true
	}
	return false
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// expired reports whether an item's ttl (epoch seconds) has passed. DynamoDB
// deletes expired items late and the emulator never does, so every read
// treats an expired item as absent.
func expired(item map[string]types.AttributeValue, now time.Time) bool {
	v, ok := item["ttl"].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	ttl, err := strconv.ParseInt(v.Value, 10, 64)
	return err == nil && ttl <= now.Unix()
}

// sortTime writes a time for sort keys: UTC with all nine fractional
// digits, so that string order is time order (RFC 3339 with trimmed
// fractions is not: "…:00Z" sorts after "…:00.5Z").
func sortTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

func ttlValue(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// getItem reads one item with a strongly consistent read; a missing or
// expired item returns nil.
func (s *Store) getItem(ctx context.Context, pk, sk string, now time.Time) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 || expired(out.Item, now) {
		return nil, nil
	}
	return out.Item, nil
}

// getDecoded reads one item with a strongly consistent read and decodes
// it into a T; a missing or expired item returns ErrNotFound.
func getDecoded[T any](ctx context.Context, s *Store, pk, sk string) (T, error) {
	var it T
	item, err := s.getItem(ctx, pk, sk, time.Now())
	if err != nil {
		return it, err
	}
	if item == nil {
		return it, ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return it, fmt.Errorf("decode: %w", err)
	}
	return it, nil
}

// putNew writes an item unless one with its key is stored, and reports
// whether this call wrote it.
func (s *Store) putNew(ctx context.Context, item map[string]types.AttributeValue) (bool, error) {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// putOnce writes a marker item that expires after retention, unless a
// live copy of it is stored already: the write that reports true is the
// first, every later one (a duplicate) reports false. An expired marker is
// written over, as if it had never been.
func (s *Store) putOnce(ctx context.Context, item map[string]types.AttributeValue, retention time.Duration, now time.Time) (bool, error) {
	item["ttl"] = ttlValue(now.Add(retention))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": ttlValue(now)},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// queryAll runs a Query through all its pages and decodes every item into
// a T.
func queryAll[T any](ctx context.Context, db *dynamodb.Client, in *dynamodb.QueryInput) ([]T, error) {
	var out []T
	p := dynamodb.NewQueryPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, item := range page.Items {
			var it T
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, fmt.Errorf("decode item: %w", err)
			}
			out = append(out, it)
		}
	}
	return out, nil
}

// queryPartitionSince reads a gsi1 partition from a time on (sort keys
// that start with a sortTime), oldest first, decoding each item into a T.
func queryPartitionSince[T any](ctx context.Context, s *Store, partition string, since time.Time) ([]T, error) {
	return queryAll[T](ctx, s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk >= :since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    &types.AttributeValueMemberS{Value: partition},
			":since": &types.AttributeValueMemberS{Value: sortTime(since)},
		},
	})
}

func marshalMap(v any) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.OmitEmptyTime = true })
	if err != nil {
		return nil, fmt.Errorf("marshal item: %w", err)
	}
	return m, nil
}
