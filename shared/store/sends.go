package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Send is one marketing message counted against a customer's caps.
type Send struct {
	Key      string    `dynamodbav:"key"`
	At       time.Time `dynamodbav:"at"`
	Campaign string    `dynamodbav:"campaign"`
	Channel  string    `dynamodbav:"channel"`
}

// CapCheck decides, from the sends already counted, whether one more may go.
// It returns "" to allow, or the reason it may not ("1 per 24h0m0s").
type CapCheck func(sent []Send) string

type sendsItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Version int64  `dynamodbav:"version"`
	Sends   []Send `dynamodbav:"sends"`
}

// RecentSends returns the marketing sends counted for a customer (for
// previews and simulations; sending itself goes through ReserveSend).
func (s *Store) RecentSends(ctx context.Context, customerID string) ([]Send, error) {
	it, err := s.getSends(ctx, customerID)
	return it.Sends, err
}

func (s *Store) getSends(ctx context.Context, customerID string) (sendsItem, error) {
	item, err := s.getItem(ctx, customerPK(customerID), "SENDS", time.Now())
	if err != nil {
		return sendsItem{}, fmt.Errorf("get sends of %s: %w", customerID, err)
	}
	var it sendsItem
	if item != nil {
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return sendsItem{}, fmt.Errorf("decode sends of %s: %w", customerID, err)
		}
	}
	return it, nil
}

// ReserveSend counts one marketing message against the customer's caps, if
// check allows it, atomically: two messages racing for the last slot cannot
// both get it. Reserving the same key again succeeds without counting twice,
// so a retried send keeps its slot. Sends older than keep are forgotten.
func (s *Store) ReserveSend(ctx context.Context, customerID string, send Send, keep time.Duration, check CapCheck) (reason string, err error) {
	for attempt := 0; attempt < maxProfileAttempts; attempt++ {
		it, err := s.getSends(ctx, customerID)
		if err != nil {
			return "", err
		}
		kept := it.Sends[:0]
		for _, x := range it.Sends {
			if x.Key == send.Key {
				return "", nil // already counted: this is a retry
			}
			if send.At.Sub(x.At) < keep {
				kept = append(kept, x)
			}
		}
		if reason := check(kept); reason != "" {
			return reason, nil
		}
		next := sendsItem{PK: customerPK(customerID), SK: "SENDS", Version: it.Version + 1, Sends: append(kept, send)}
		item, err := marshalMap(next)
		if err != nil {
			return "", err
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
		if it.Version == 0 {
			in.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			in.ConditionExpression = aws.String("version = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(it.Version)}}
		}
		_, err = s.db.PutItem(ctx, in)
		if err == nil {
			return "", nil
		}
		if !isConditionFailed(err) {
			return "", fmt.Errorf("reserve send for %s: %w", customerID, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Duration(rand.IntN(5*(attempt+1))) * time.Millisecond):
		}
	}
	return "", fmt.Errorf("reserve send for %s: still conflicting after %d attempts", customerID, maxProfileAttempts)
}
