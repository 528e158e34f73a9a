package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// noticePK keys the claim of one notice to the shop's staff (the weekly
// report of a week, an alert of a day and cause).
func noticePK(name string) string { return "NOTICE#" + name }

// ClaimNotice claims the sending of the notice name (such as
// "report-weekly#2026-W48"): of every tick that tries, only one gets true,
// so the staff get it once. The claim is kept for retention; a claim whose
// sending failed is given back with ReleaseNotice so a later tick sends it.
func (s *Store) ClaimNotice(ctx context.Context, name string, at time.Time, retention time.Duration) (bool, error) {
	item := key(noticePK(name), "NOTICE")
	item["claimed_at"] = timeValue(at)
	ok, err := s.putOnce(ctx, item, retention, at)
	if err != nil {
		return false, fmt.Errorf("claim notice %s: %w", name, err)
	}
	return ok, nil
}

// ReleaseNotice gives back the claim made at at, so the next tick sends
// the notice; a claim another call holds is left alone.
func (s *Store) ReleaseNotice(ctx context.Context, name string, at time.Time) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(noticePK(name), "NOTICE"),
		ConditionExpression:       aws.String("claimed_at = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release notice %s: %w", name, err)
	}
	return nil
}
