package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// NoticeStaleAfter is how long a claim whose send was never recorded
// holds: a tick that died between claiming and sending (a timeout, a
// crash) is taken over by a later one, so nothing is lost; at worst the
// staff get an email twice.
const NoticeStaleAfter = 10 * time.Minute

// noticePK keys the claim of one notice to the shop's staff (the weekly
// report of a week, an alert of a day and cause, a support case).
func noticePK(name string) string { return "NOTICE#" + name }

// ClaimNotice claims the sending of the notice name (such as
// "report-weekly#2026-W48#<recipient>"): of every tick that tries, only
// one gets true, so the staff get it once. The claim is kept for
// retention; a claim whose sending failed is given back with
// ReleaseNotice, one whose send went is marked with MarkNoticeSent, and
// one left neither given back nor marked is taken over after
// NoticeStaleAfter.
func (s *Store) ClaimNotice(ctx context.Context, name string, at time.Time, retention time.Duration) (bool, error) {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: noticePK(name)}, "sk": &types.AttributeValueMemberS{Value: "NOTICE"},
			"claimed_at": timeValue(at), "claimed_unix": unixValue(at), "ttl": ttlValue(at.Add(retention)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR #ttl <= :now OR (attribute_not_exists(sent_at) AND claimed_unix <= :stale)"),
		ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": ttlValue(at), ":stale": unixValue(at.Add(-NoticeStaleAfter)),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim notice %s: %w", name, err)
	}
	return true, nil
}

func unixValue(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// MarkNoticeSent records that the notice claimed at at went out.
func (s *Store) MarkNoticeSent(ctx context.Context, name string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(noticePK(name), "NOTICE"),
		UpdateExpression:          aws.String("SET sent_at = :at"),
		ConditionExpression:       aws.String("claimed_at = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("mark notice %s sent: %w", name, err)
	}
	return nil
}

// NoticeSent reports whether the notice name went out (MarkNoticeSent).
func (s *Store) NoticeSent(ctx context.Context, name string) (bool, error) {
	item, err := s.getItem(ctx, noticePK(name), "NOTICE", time.Now())
	if err != nil {
		return false, fmt.Errorf("get notice %s: %w", name, err)
	}
	_, sent := item["sent_at"]
	return sent, nil
}

// ReleaseNotice gives back the claim made at at, so the next tick sends
// the notice; a claim another call holds is left alone.
func (s *Store) ReleaseNotice(ctx context.Context, name string, at time.Time) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(noticePK(name), "NOTICE"),
		ConditionExpression:       aws.String("claimed_at = :at AND attribute_not_exists(sent_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release notice %s: %w", name, err)
	}
	return nil
}
