package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ReviewRequestInterval is how long after asking a customer to review a
// product tsunagu will not ask about that product again.
const ReviewRequestInterval = 365 * 24 * time.Hour

func reviewPK(customerID, sku string) string { return "REVIEW#" + customerID + "#" + sku }

// RecordReview notes that a customer reviewed a product (the review with
// reviewKey), so nobody asks them to review it again. The first review's
// note stays: a later one, or a retry, changes nothing.
func (s *Store) RecordReview(ctx context.Context, customerID, sku, reviewKey string, at time.Time) error {
	item := key(reviewPK(customerID, sku), "REVIEWED")
	item["reviewed_at"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}
	item["review_key"] = &types.AttributeValueMemberS{Value: reviewKey}
	if _, err := s.putNew(ctx, item); err != nil {
		return fmt.Errorf("record review of %s by %s: %w", sku, customerID, err)
	}
	return nil
}

// ClaimReviewRequest reserves the right to ask a customer about a product in
// the message with messageKey. It is refused when they reviewed it already
// (under sku or any of otherKeys, the other keys the product is known by:
// order.Item.OtherKeys) or were asked about it (by another message) in the
// last 12 months. The same message claiming again succeeds, so a retried
// send keeps its products.
func (s *Store) ClaimReviewRequest(ctx context.Context, customerID, sku, messageKey string, at time.Time, otherKeys ...string) (ok bool, reason string, err error) {
	for _, k := range append([]string{sku}, otherKeys...) {
		reviewed, err := s.getItem(ctx, reviewPK(customerID, k), "REVIEWED", at)
		if err != nil {
			return false, "", fmt.Errorf("get review of %s: %w", k, err)
		}
		if reviewed != nil {
			return false, "already_reviewed", nil
		}
	}
	pk := reviewPK(customerID, sku)
	item := key(pk, "REQUESTED")
	item["message_key"] = &types.AttributeValueMemberS{Value: messageKey}
	item["requested_at"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}
	item["ttl"] = ttlValue(at.Add(ReviewRequestInterval))
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR message_key = :key OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":key": item["message_key"], ":now": ttlValue(at)},
	})
	if isConditionFailed(err) {
		return false, "asked_within_12_months", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("claim review request for %s: %w", sku, err)
	}
	return true, "", nil
}
