package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// Erasure reports what erasing a customer removed.
type Erasure struct {
	// Known is false when the table holds no profile of the customer.
	Known bool `json:"known"`
	// Profile is true when the profile still held personal data that is
	// now gone (false when it was erased already).
	Profile bool `json:"profile_erased"`
	// LineLinks counts the LINE user links removed.
	LineLinks int `json:"line_links_removed"`
}

// EraseCustomer removes a customer's personal data from every item that
// holds it: the profile's contact details, LINE user and birthday, and
// the index items keyed by a LINE user id. What stays is anonymous: order
// summaries and counts, the message log (campaign, channel, status), the
// consent ledger (which ends with the erasure) and coupons, all keyed by
// the shop's customer id. A suppressed address stays suppressed: the
// suppression list keeps only a one-way hash of it. Each step is
// idempotent, so erasing again, or retrying after a failure, converges.
func (s *Store) EraseCustomer(ctx context.Context, customerID string, at time.Time) (Erasure, error) {
	p, err := s.GetProfile(ctx, customerID)
	if errors.Is(err, ErrNotFound) {
		return Erasure{}, nil
	}
	if err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	// The index first: once the profile is erased, it no longer names the
	// LINE user, and a retry must still find the link.
	users, err := s.lineUsersOf(ctx, customerID)
	if err != nil {
		return Erasure{}, err
	}
	if p.LineUserID != "" {
		users[p.LineUserID] = true
	}
	e := Erasure{Known: true}
	for user := range users {
		removed, err := s.unlinkLineUser(ctx, user, customerID)
		if err != nil {
			return Erasure{}, err
		}
		if removed {
			e.LineLinks++
		}
	}
	if _, err := s.UpdateProfile(ctx, customerID, func(p *customer.Profile) bool {
		e.Profile = p.Erase(at)
		return e.Profile
	}); err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	return e, nil
}

// lineUsersOf lists the LINE users linked to a customer.
func (s *Store) lineUsersOf(ctx context.Context, customerID string) (map[string]bool, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :links"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":links": &types.AttributeValueMemberS{Value: lineLinksPartition(customerID)}},
		ProjectionExpression:      aws.String("line_user_id"),
	})
	users := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list line links of customer: %w", err)
		}
		for _, item := range page.Items {
			if v, ok := item["line_user_id"].(*types.AttributeValueMemberS); ok {
				users[v.Value] = true
			}
		}
	}
	return users, nil
}

// unlinkLineUser deletes a LINE user's link while it still names the
// customer (a link that moved to another customer is theirs, not this
// one's). It reports whether it deleted one.
func (s *Store) unlinkLineUser(ctx context.Context, userID, customerID string) (bool, error) {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(lineUserPK(userID), "LINK"),
		ConditionExpression:       aws.String("customer_id = :customer"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":customer": &types.AttributeValueMemberS{Value: customerID}},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove line link of customer: %w", err)
	}
	return true, nil
}
