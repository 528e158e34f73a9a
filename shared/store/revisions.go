package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// ReviseOrder replaces a stored order's total and lines with a later
// revision of them (an order edit, as orders/updated tells it), when the
// order's details are stored and o.RevisedAt is later than the stored
// revision. It reports whether the revision was applied; an older or equal
// one (a retry, or deliveries out of order) changes nothing. Each applied
// revision counts one more change of the order's amounts, so the profiles
// that count the order take the latest.
func (s *Store) ReviseOrder(ctx context.Context, o order.Order) (OrderState, bool, error) {
	if o.RevisedAt.IsZero() || !o.HasDetails() {
		return OrderState{}, false, nil
	}
	lines := make([]orderLineItem, 0, len(o.Items))
	for _, it := range o.Items {
		lines = append(lines, lineItem(it))
	}
	at := sortTime(o.RevisedAt)
	update := expression.Set(expression.Name("total"), expression.Value(o.Total)).
		Set(expression.Name("items"), expression.Value(lines)).
		Set(expression.Name("revised_at"), expression.Value(at)).
		Add(expression.Name("revision"), expression.Value(1))
	newer := expression.AttributeExists(expression.Name("placed_at")).And(
		expression.AttributeNotExists(expression.Name("revised_at")).Or(expression.Name("revised_at").LessThan(expression.Value(at))))
	st, applied, err := s.updateOrder(ctx, o.ID, "", update, newer)
	if err != nil {
		return OrderState{}, false, fmt.Errorf("revise order %s: %w", o.ID, err)
	}
	return st, applied, nil
}

// ErrRefundCurrency reports a refund in a currency other than its order's:
// it is recorded (once) but not taken out of the order's total.
var ErrRefundCurrency = errors.New("refund in another currency than its order")

// RecordRefund records a refund of an order once, by its ID: the refunded
// amount grows by it and the order's amounts count one more change. A
// refund recorded before (a retry, or the same refund heard of through
// refunds/create and an order body) changes nothing. A refund of an order
// not stored yet is kept on the order's item, and counts once the order's
// details arrive. A refund in another currency than the stored order's is
// recorded without its amount and reported with ErrRefundCurrency. The
// state returned has NewRefund set when this call took the amount out.
func (s *Store) RecordRefund(ctx context.Context, orderID string, r order.Refund) (OrderState, error) {
	ids := stringSet{r.ID}
	update := expression.Set(expression.Name("order_id"), expression.Value(orderID)).
		Add(expression.Name("refund_ids"), expression.Value(ids)).
		Add(expression.Name("refunded"), expression.Value(r.Amount)).
		Add(expression.Name("revision"), expression.Value(1))
	newRefund := expression.Not(expression.Contains(expression.Name("refund_ids"), r.ID))
	sameCurrency := expression.AttributeNotExists(expression.Name("currency")).Or(expression.Name("currency").Equal(expression.Value(r.Currency)))
	st, applied, err := s.updateOrder(ctx, orderID, "", update, newRefund.And(sameCurrency))
	if err != nil || applied {
		st.NewRefund = applied
		return st, err
	}
	st, err = s.GetOrder(ctx, orderID)
	if err != nil {
		return OrderState{}, err
	}
	if slices.Contains(st.refundIDs, r.ID) {
		return st, nil
	}
	// Another currency: keep the refund's ID, so it is reported once.
	only := expression.Set(expression.Name("order_id"), expression.Value(orderID)).Add(expression.Name("refund_ids"), expression.Value(ids))
	st, applied, err = s.updateOrder(ctx, orderID, "", only, newRefund)
	if err != nil {
		return OrderState{}, err
	}
	if !applied {
		return s.GetOrder(ctx, orderID)
	}
	return st, ErrRefundCurrency
}

// stringSet marshals as a DynamoDB string set (a []string marshals as a
// list), for ADD and contains.
type stringSet []string

// MarshalDynamoDBAttributeValue implements attributevalue.Marshaler.
func (s stringSet) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberSS{Value: s}, nil
}

// ClaimLearning claims an order's co-purchase learning, once: true for the
// first claim. The purchase webhook learns from an order without a
// customer under this claim (with a customer, the profile tells whether
// the order was counted before). A crash between the claim and the
// learning loses one order's counts rather than counting them twice.
func (s *Store) ClaimLearning(ctx context.Context, orderID string, at time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(orderPK(orderID), "ORDER"),
		UpdateExpression:          aws.String("SET learnt_at = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(learnt_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim learning from order %s: %w", orderID, err)
	}
	return true, nil
}
