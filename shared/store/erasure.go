package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// Exports counts the data exports kept about the customer that were
	// removed.
	Exports int `json:"data_exports_removed"`
}

// EraseCustomer removes a customer's personal data from every item that
// holds it: the profile's contact details, LINE user and birthday, the
// index items that name a LINE user: the customer's LINE links and
// account-link nonces (a spent nonce keeps the LINE user who spent it),
// the data exports kept for the shop about the customer, and the marks
// (keyed hashes of contact details) of their referral code entries.
// What stays is anonymous: order summaries and counts, the message log
// (campaign, channel, status), the consent ledger (which ends with the
// erasure) and coupons, all keyed by the shop's customer id. A suppressed
// address stays suppressed: the suppression list keeps only a one-way hash
// of it. Each step is idempotent, so erasing again, or retrying after a
// failure, converges.
func (s *Store) EraseCustomer(ctx context.Context, customerID string, at time.Time) (Erasure, error) {
	// The referral code's marks (keyed hashes of contact details), known
	// profile or not.
	if err := s.eraseReferralMarks(ctx, customerID); err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	p, err := s.GetProfile(ctx, customerID)
	if errors.Is(err, ErrNotFound) {
		// Unknown here (its orders failed, come later, or came before the
		// shop installed tsunagu), but an order placed before now, replayed
		// or delivered late, must not bring the customer's data in: the
		// profile keeps only the time of the erasure.
		if _, err := s.UpdateProfile(ctx, customerID, func(p *customer.Profile) bool { return p.Erase(at) }); err != nil {
			return Erasure{}, fmt.Errorf("erase customer: %w", err)
		}
		return Erasure{}, nil
	}
	if err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	// The index first: once the profile is erased, it no longer names the
	// LINE user, and a retry must still find the link.
	idx, err := s.lineItemsOf(ctx, customerID)
	if err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	if p.LineUserID != "" {
		idx.users[p.LineUserID] = true
	}
	for _, nonce := range idx.nonces {
		if err := s.deleteLinkNonce(ctx, nonce, customerID); err != nil {
			return Erasure{}, fmt.Errorf("erase customer: %w", err)
		}
	}
	e := Erasure{Known: true}
	for user := range idx.users {
		removed, err := s.unlinkLineUser(ctx, user, customerID)
		if err != nil {
			return Erasure{}, fmt.Errorf("erase customer: %w", err)
		}
		if removed {
			e.LineLinks++
		}
	}
	if e.Exports, err = s.deleteExportsOf(ctx, customerID); err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	if _, err := s.UpdateProfile(ctx, customerID, func(p *customer.Profile) bool {
		e.Profile = p.Erase(at)
		return e.Profile
	}); err != nil {
		return Erasure{}, fmt.Errorf("erase customer: %w", err)
	}
	return e, nil
}

// lineItems are a customer's LINE index items.
type lineItems struct {
	users  map[string]bool // LINE users linked to the customer
	nonces []string        // account-link nonces issued for the customer
}

// lineItemsOf lists a customer's LINE index items (gsi1
// LINELINKS#<customer id>): links (sk LINK) and nonces (sk NONCE).
func (s *Store) lineItemsOf(ctx context.Context, customerID string) (lineItems, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :links"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":links": &types.AttributeValueMemberS{Value: lineLinksPartition(customerID)}},
		ProjectionExpression:      aws.String("pk, sk, line_user_id"),
	})
	idx := lineItems{users: map[string]bool{}}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return lineItems{}, fmt.Errorf("list line items of customer: %w", err)
		}
		for _, item := range page.Items {
			pk, _ := item["pk"].(*types.AttributeValueMemberS)
			sk, _ := item["sk"].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil {
				continue
			}
			switch sk.Value {
			case "LINK":
				if v, ok := item["line_user_id"].(*types.AttributeValueMemberS); ok {
					idx.users[v.Value] = true
				}
			case "NONCE":
				if nonce, ok := strings.CutPrefix(pk.Value, linkNoncePK("")); ok {
					idx.nonces = append(idx.nonces, nonce)
				}
			}
		}
	}
	return idx, nil
}

// deleteLinkNonce deletes an account-link nonce issued for the customer,
// spent or not.
func (s *Store) deleteLinkNonce(ctx context.Context, nonce, customerID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(linkNoncePK(nonce), "NONCE"),
		ConditionExpression:       aws.String("customer_id = :customer"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":customer": &types.AttributeValueMemberS{Value: customerID}},
	})
	if err != nil && !isConditionFailed(err) { // failed: gone already
		return fmt.Errorf("remove link nonce of customer: %w", err)
	}
	return nil
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
