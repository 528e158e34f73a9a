package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// AddressHash is the one-way hash an email address is kept under once it
// is suppressed: the address itself is never stored there.
func AddressHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

func suppressionPK(email string) string { return "SUPPRESSED#" + AddressHash(email) }

// Suppress stops marketing email to an address for good (a hard bounce or
// a complaint), keeping only its hash, the reason and when.
func (s *Store) Suppress(ctx context.Context, email, reason string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(suppressionPK(email), "SUPPRESSION"),
		UpdateExpression: aws.String("SET suppressed = :true, reason = if_not_exists(reason, :reason), suppressed_at = if_not_exists(suppressed_at, :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":reason": &types.AttributeValueMemberS{Value: reason},
			":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
		},
	})
	if err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	return nil
}

// CountSoftBounce counts a temporary delivery failure for an address; it
// does not suppress it.
func (s *Store) CountSoftBounce(ctx context.Context, email string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(suppressionPK(email), "SUPPRESSION"),
		UpdateExpression: aws.String("ADD soft_bounces :one SET last_soft_bounce_at = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"}, ":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
		},
	})
	if err != nil {
		return fmt.Errorf("count soft bounce: %w", err)
	}
	return nil
}

// Suppression is what is known of an address's deliverability.
type Suppression struct {
	Suppressed  bool
	Reason      string
	SoftBounces int
}

// SuppressionOf reads an address's suppression record (zero when none).
func (s *Store) SuppressionOf(ctx context.Context, email string) (Suppression, error) {
	item, err := s.getItem(ctx, suppressionPK(email), "SUPPRESSION", time.Now())
	if err != nil {
		return Suppression{}, fmt.Errorf("read suppression: %w", err)
	}
	var out Suppression
	if b, ok := item["suppressed"].(*types.AttributeValueMemberBOOL); ok {
		out.Suppressed = b.Value
	}
	if r, ok := item["reason"].(*types.AttributeValueMemberS); ok {
		out.Reason = r.Value
	}
	if n, ok := item["soft_bounces"].(*types.AttributeValueMemberN); ok {
		fmt.Sscan(n.Value, &out.SoftBounces) //nolint:errcheck // a number DynamoDB wrote
	}
	return out, nil
}

// RecordDeliveryEvent updates a sent message's log entry with what the mail
// service later reported (delivered, bounced, complained).
func (s *Store) RecordDeliveryEvent(ctx context.Context, messageKey, event string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(messagePK(messageKey), "MESSAGE"),
		UpdateExpression:          aws.String("SET delivery = :event, delivery_at = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":event": &types.AttributeValueMemberS{Value: event}, ":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}},
	})
	if isConditionFailed(err) {
		return nil // a message this table never logged (another stack's)
	}
	if err != nil {
		return fmt.Errorf("record delivery event of %s: %w", messageKey, err)
	}
	return nil
}
