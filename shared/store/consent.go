package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

func consentPK(customerID string) string { return "CONSENT#" + customerID }

// recordConsent writes consent changes to the customer's ledger; the sort
// key is derived from the content, so writing the same change again (a
// retry) adds nothing.
func (s *Store) recordConsent(ctx context.Context, customerID string, changes []customer.ConsentChange) error {
	for _, c := range changes {
		sum := sha256.Sum256([]byte(c.Channel + "\x00" + c.State + "\x00" + c.Source))
		item, err := marshalMap(struct {
			PK string `dynamodbav:"pk"`
			SK string `dynamodbav:"sk"`
			customer.ConsentChange
		}{consentPK(customerID), sortTime(c.At) + "#" + hex.EncodeToString(sum[:8]), c})
		if err != nil {
			return err
		}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
			return fmt.Errorf("record consent of %s: %w", customerID, err)
		}
	}
	return nil
}

// ConsentLedger lists a customer's consent changes, oldest first.
func (s *Store) ConsentLedger(ctx context.Context, customerID string) ([]customer.ConsentChange, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: consentPK(customerID)}},
		ConsistentRead:            aws.Bool(true),
	})
	var out []customer.ConsentChange
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read consent ledger of %s: %w", customerID, err)
		}
		for _, item := range page.Items {
			var c customer.ConsentChange
			if err := attributevalue.UnmarshalMap(item, &c); err != nil {
				return nil, fmt.Errorf("decode consent change: %w", err)
			}
			out = append(out, c)
		}
	}
	return out, nil // in time order: the sort key starts with the fixed-width time
}
