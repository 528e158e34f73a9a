package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Lift groups an assignment entry of the message log belongs to. A
// campaign's customers are in its treatment or its holdout; the global
// control group's assignments count as control, everyone else's marketing
// assignments as exposed too, both on the campaign's own counters (in the
// same update as its treatment and holdout), so the global comparison is
// the sum of the campaigns' control and exposed counters.
const (
	GroupTreatment = "treatment"
	GroupHoldout   = "holdout"
	GroupControl   = "control"
	GroupExposed   = "exposed"
)

// Conversion is what one order did to one assignment: whether it was the
// assignment's first conversion, and the customer's revenue in the
// assignment's conversion window before and after it.
type Conversion struct {
	First             bool
	Before, After     int64
	CampaignID, Group string
	Variant           string
	AssignedAt        time.Time
}

// ConvertAssignment adds an order to an assignment entry of the message
// log (one with a group): it sets converted_at the first time, and adds
// the order's total to window_revenue once per order (window_orders
// remembers them). It reports false when the order was added before (a
// retried delivery) or the entry is no assignment; nothing then changes.
func (s *Store) ConvertAssignment(ctx context.Context, messageKey, orderID string, total int64, at time.Time) (Conversion, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(messagePK(messageKey), "MESSAGE"),
		UpdateExpression:         aws.String("SET converted_at = if_not_exists(converted_at, :at) ADD window_revenue :total, window_orders :order"),
		ConditionExpression:      aws.String("attribute_exists(#group) AND NOT contains(window_orders, :id)"),
		ExpressionAttributeNames: map[string]string{"#group": "group"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at":    &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
			":total": &types.AttributeValueMemberN{Value: strconv.FormatInt(total, 10)},
			":order": &types.AttributeValueMemberSS{Value: []string{orderID}},
			":id":    &types.AttributeValueMemberS{Value: orderID},
		},
		ReturnValues: types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return Conversion{}, false, nil
	}
	if err != nil {
		return Conversion{}, false, fmt.Errorf("convert assignment %s: %w", messageKey, err)
	}
	var old struct {
		messageItem
		ConvertedAt   string `dynamodbav:"converted_at"`
		WindowRevenue int64  `dynamodbav:"window_revenue"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &old); err != nil {
		return Conversion{}, false, fmt.Errorf("decode assignment %s: %w", messageKey, err)
	}
	return Conversion{First: old.ConvertedAt == "", Before: old.WindowRevenue, After: old.WindowRevenue + total,
		CampaignID: old.CampaignID, Group: old.Group, Variant: old.Variant, AssignedAt: old.ClaimedAt}, true, nil
}

// Attribution is the campaign message an order is attributed to, kept
// once per order.
type Attribution struct {
	OrderID    string `dynamodbav:"order_id"`
	CustomerID string `dynamodbav:"customer_id"`
	CampaignID string `dynamodbav:"campaign_id"`
	Variant    string `dynamodbav:"variant,omitempty"`
	// Via is how: "coupon", "click" or "receive".
	Via string `dynamodbav:"via"`
	// MessageKey is the message clicked or received ("" for a coupon,
	// which names its campaign and trigger), Code the coupon's code.
	MessageKey string `dynamodbav:"message_key,omitempty"`
	Code       string `dynamodbav:"code,omitempty"`
	Total      int64  `dynamodbav:"total"`
	Currency   string `dynamodbav:"currency"`
	// PlacedAt is when the order was placed: its revenue counts on that
	// shop-zone day, and refunds and a cancellation take it back there.
	PlacedAt time.Time `dynamodbav:"placed_at"`
	// TakenBack is what refunds and a cancellation took back so far.
	TakenBack int64 `dynamodbav:"taken_back"`
}

type attributionItem struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	TTL int64  `dynamodbav:"ttl"`
	Attribution
}

func attributionPK(orderID string) string { return "ATTRIBUTION#" + orderID }

// RecordAttribution keeps an order's attribution unless one is kept: it
// reports whether this call wrote it, so the campaign's conversion is
// counted once per order.
func (s *Store) RecordAttribution(ctx context.Context, a Attribution) (bool, error) {
	a.PlacedAt = a.PlacedAt.UTC()
	item, err := marshalMap(attributionItem{PK: attributionPK(a.OrderID), SK: "ATTRIBUTION", TTL: a.PlacedAt.Add(StatsRetention).Unix(), Attribution: a})
	if err != nil {
		return false, err
	}
	first, err := s.putNew(ctx, item)
	if err != nil {
		return false, fmt.Errorf("record attribution of order %s: %w", a.OrderID, err)
	}
	return first, nil
}

// TakeBackRefund takes a refund out of an attributed order's revenue, once
// per refund id: it returns the attribution and the amount to take back,
// or false when the order is not attributed, is cancelled (all taken back
// already), the refund was taken back before, or is in another currency.
func (s *Store) TakeBackRefund(ctx context.Context, orderID, refundID string, amount int64, currency string) (Attribution, int64, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(attributionPK(orderID), "ATTRIBUTION"),
		UpdateExpression: aws.String("ADD taken_back :amount, refund_ids :ids"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(cancelled_at) AND currency = :currency " +
			"AND NOT contains(refund_ids, :id)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":amount":   &types.AttributeValueMemberN{Value: strconv.FormatInt(amount, 10)},
			":ids":      &types.AttributeValueMemberSS{Value: []string{refundID}},
			":id":       &types.AttributeValueMemberS{Value: refundID},
			":currency": &types.AttributeValueMemberS{Value: currency},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	a, ok, err := decodeTakeBack(out, err, "take back refund "+refundID+" of order "+orderID)
	return a, amount, ok, err
}

// TakeBackCancellation takes what is left of a cancelled, attributed
// order's revenue back, once: it returns the attribution and the amount,
// or false when the order is not attributed or was taken back before.
func (s *Store) TakeBackCancellation(ctx context.Context, orderID string, at time.Time) (Attribution, int64, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(attributionPK(orderID), "ATTRIBUTION"),
		UpdateExpression:          aws.String("SET cancelled_at = :at, taken_back = #total"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(cancelled_at)"),
		ExpressionAttributeNames:  map[string]string{"#total": "total"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}},
		ReturnValues:              types.ReturnValueAllOld,
	})
	a, ok, err := decodeTakeBack(out, err, "take back cancelled order "+orderID)
	return a, a.Total - a.TakenBack, ok, err
}

// decodeTakeBack reads the attribution a conditional take-back returned;
// a failed condition is no error, and takes nothing back.
func decodeTakeBack(out *dynamodb.UpdateItemOutput, err error, op string) (Attribution, bool, error) {
	if isConditionFailed(err) {
		return Attribution{}, false, nil
	}
	if err != nil {
		return Attribution{}, false, fmt.Errorf("%s: %w", op, err)
	}
	var it attributionItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Attribution{}, false, fmt.Errorf("%s: decode: %w", op, err)
	}
	return it.Attribution, true, nil
}

// GetAttribution reads an order's attribution; none returns ErrNotFound.
func (s *Store) GetAttribution(ctx context.Context, orderID string) (Attribution, error) {
	it, err := getDecoded[attributionItem](ctx, s, attributionPK(orderID), "ATTRIBUTION")
	if err != nil {
		return Attribution{}, fmt.Errorf("get attribution of order %s: %w", orderID, err)
	}
	return it.Attribution, nil
}
