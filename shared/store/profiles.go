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

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// maxProfileAttempts bounds optimistic-concurrency retries on one profile.
const maxProfileAttempts = 12

type profileItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Version int64  `dynamodbav:"version"`
	customer.Profile
}

func customerPK(id string) string { return "CUSTOMER#" + id }

// GetProfile reads a customer's profile; an unknown customer returns ErrNotFound.
func (s *Store) GetProfile(ctx context.Context, id string) (customer.Profile, error) {
	p, _, err := s.getProfile(ctx, id)
	if err != nil {
		return customer.Profile{}, err
	}
	if p.ID == "" {
		return customer.Profile{}, fmt.Errorf("get profile %s: %w", id, ErrNotFound)
	}
	return p, nil
}

func (s *Store) getProfile(ctx context.Context, id string) (customer.Profile, int64, error) {
	item, err := s.getItem(ctx, customerPK(id), "PROFILE", time.Now())
	if err != nil {
		return customer.Profile{}, 0, fmt.Errorf("get profile %s: %w", id, err)
	}
	if item == nil {
		return customer.Profile{}, 0, nil
	}
	var it profileItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return customer.Profile{}, 0, fmt.Errorf("decode profile %s: %w", id, err)
	}
	return it.Profile, it.Version, nil
}

// UpdateProfile reads a customer's profile (a new, empty one for an unknown
// customer), lets change modify it, and writes it back only if nobody wrote
// it in between, retrying on conflict. change reports whether it changed
// anything; when it did not, nothing is written. The profile as stored
// afterwards is returned.
func (s *Store) UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error) {
	for attempt := 0; attempt < maxProfileAttempts; attempt++ {
		p, version, err := s.getProfile(ctx, id)
		if err != nil {
			return customer.Profile{}, err
		}
		if p.ID == "" {
			p.ID = id
		}
		if !change(&p) {
			return p, nil
		}
		// Evidence first: a consent change is recorded before the profile
		// says it, so no change is ever without its record.
		if err := s.recordConsent(ctx, id, p.ConsentChanges()); err != nil {
			return customer.Profile{}, err
		}
		item, err := marshalMap(profileItem{PK: customerPK(id), SK: "PROFILE", Version: version + 1, Profile: p})
		if err != nil {
			return customer.Profile{}, err
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
		if version == 0 {
			in.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			in.ConditionExpression = aws.String("version = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(version)}}
		}
		_, err = s.db.PutItem(ctx, in)
		if err == nil {
			return p, nil
		}
		if !isConditionFailed(err) {
			return customer.Profile{}, fmt.Errorf("put profile %s: %w", id, err)
		}
		// Someone else wrote first: back off, re-read, re-apply. The wait
		// doubles (full jitter, up to a second), so that a burst of
		// deliveries for one customer (Shopify sends orders/create,
		// orders/paid and orders/updated at once) spreads out instead of
		// colliding again.
		select {
		case <-ctx.Done():
			return customer.Profile{}, ctx.Err()
		case <-time.After(time.Duration(rand.IntN(min(10<<attempt, 1000))+1) * time.Millisecond):
		}
	}
	return customer.Profile{}, fmt.Errorf("update profile %s: still conflicting after %d attempts", id, maxProfileAttempts)
}

// ProfileSize is the size DynamoDB counts for a customer's profile item
// (the 400 KB item limit and the write units a profile write costs).
func (s *Store) ProfileSize(ctx context.Context, id string) (int, error) {
	item, err := s.getItem(ctx, customerPK(id), "PROFILE", time.Now())
	if err != nil {
		return 0, fmt.Errorf("get profile %s: %w", id, err)
	}
	return ItemSize(item), nil
}

// CoolCustomerOff keeps marketing away from a customer until until (the
// profile's cooling_until), unless it already keeps away as long; it
// reports whether it changed the profile. A customer without a profile
// (never profiled, or erased and gone) is left alone: no profile is made
// for it. One UpdateItem that also moves the profile's version, so a
// read-modify-write of the profile meanwhile reads it again.
func (s *Store) CoolCustomerOff(ctx context.Context, id string, until time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(customerPK(id), "PROFILE"),
		UpdateExpression:    aws.String("SET cooling_until = :until, version = version + :one"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(cooling_until) OR cooling_until < :until)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			// Whole seconds in UTC, so the stored strings order as times.
			":until": timeValue(until.Truncate(time.Second)), ":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cool off customer %s: %w", id, err)
	}
	return true, nil
}
