package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ExportRetention is how long a customer data export is kept for the shop
// to fetch: Shopify gives an app 30 days to answer a data request.
const ExportRetention = 30 * 24 * time.Hour

// ExportRecord is a customer data export kept for the shop, answering one
// data request (Shopify's customers/data_request).
type ExportRecord struct {
	RequestID   string    `dynamodbav:"request_id"`
	CustomerID  string    `dynamodbav:"customer_id"`
	RequestedAt time.Time `dynamodbav:"requested_at"`
	ExpiresAt   time.Time `dynamodbav:"expires_at"`
	// Content is the export as dataexport.Marshal encodes it.
	Content []byte `dynamodbav:"content"`
	// NotifiedAt is when the shop was told the export is ready (zero: not yet).
	NotifiedAt time.Time `dynamodbav:"notified_at,omitempty"`
}

type exportItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	TTL    int64  `dynamodbav:"ttl"`
	ExportRecord
}

// exportPrefix starts the partition key of every export item.
const exportPrefix = "EXPORT#"

func exportPK(requestID string) string { return exportPrefix + requestID }

// exportsPartition is the gsi1 partition of a customer's exports, so that
// erasing the customer finds and deletes them.
func exportsPartition(customerID string) string { return "EXPORTS#" + customerID }

// SaveExport keeps an export for its request, unless one is kept already
// (a redelivered request): the first one stays, so every answer to one
// request is the same. It returns the record kept.
func (s *Store) SaveExport(ctx context.Context, rec ExportRecord) (ExportRecord, error) {
	rec.RequestedAt = rec.RequestedAt.UTC()
	rec.ExpiresAt = rec.RequestedAt.Add(ExportRetention)
	item, err := marshalMap(exportItem{PK: exportPK(rec.RequestID), SK: "EXPORT",
		GSI1PK: exportsPartition(rec.CustomerID), GSI1SK: rec.RequestID, TTL: rec.ExpiresAt.Unix(), ExportRecord: rec})
	if err != nil {
		return ExportRecord{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": ttlValue(rec.RequestedAt)},
	})
	if isConditionFailed(err) {
		return s.GetExport(ctx, rec.RequestID, rec.RequestedAt)
	}
	if err != nil {
		return ExportRecord{}, fmt.Errorf("save export of request %s: %w", rec.RequestID, err)
	}
	return rec, nil
}

// GetExport reads the export kept for a request; none (or expired) is
// ErrNotFound.
func (s *Store) GetExport(ctx context.Context, requestID string, now time.Time) (ExportRecord, error) {
	item, err := s.getItem(ctx, exportPK(requestID), "EXPORT", now)
	if err != nil {
		return ExportRecord{}, fmt.Errorf("get export of request %s: %w", requestID, err)
	}
	if item == nil {
		return ExportRecord{}, fmt.Errorf("get export of request %s: %w", requestID, ErrNotFound)
	}
	var it exportItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return ExportRecord{}, fmt.Errorf("decode export of request %s: %w", requestID, err)
	}
	return it.ExportRecord, nil
}

// ClaimExportNotice claims the telling of the shop that an export is
// ready: only one of several copies of a request gets true, so the shop is
// told once. A claim whose telling failed is given back with
// ReleaseExportNotice.
func (s *Store) ClaimExportNotice(ctx context.Context, requestID string, at time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(exportPK(requestID), "EXPORT"),
		UpdateExpression:          aws.String("SET notified_at = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(notified_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at)},
	})
	if isConditionFailed(err) { // told already, or erased since
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim export notice of request %s: %w", requestID, err)
	}
	return true, nil
}

// ReleaseExportNotice gives back a claim made at at, so a retry tells the
// shop.
func (s *Store) ReleaseExportNotice(ctx context.Context, requestID string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(exportPK(requestID), "EXPORT"),
		UpdateExpression:          aws.String("REMOVE notified_at"),
		ConditionExpression:       aws.String("notified_at = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release export notice of request %s: %w", requestID, err)
	}
	return nil
}

// deleteExportsOf deletes every export kept about a customer and counts
// them.
func (s *Store) deleteExportsOf(ctx context.Context, customerID string) (int, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :exports"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":exports": &types.AttributeValueMemberS{Value: exportsPartition(customerID)}},
		ProjectionExpression:      aws.String("pk"),
	})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("list exports of customer: %w", err)
		}
		for _, item := range page.Items {
			pk, _ := item["pk"].(*types.AttributeValueMemberS)
			if pk == nil || !strings.HasPrefix(pk.Value, exportPrefix) {
				continue
			}
			if err := s.deleteItem(ctx, pk.Value, "EXPORT"); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// deleteItem deletes one item; deleting what is gone already succeeds.
func (s *Store) deleteItem(ctx context.Context, pk, sk string) error {
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(pk, sk)}); err != nil {
		return fmt.Errorf("delete %s item: %w", strings.SplitN(pk, "#", 2)[0], err)
	}
	return nil
}
