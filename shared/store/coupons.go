package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Coupon is one issued, single-use coupon.
type Coupon struct {
	Code     string `dynamodbav:"code"`
	Campaign string `dynamodbav:"campaign_id"`
	// Variant is the campaign's A/B variant that issued it, if any.
	Variant    string    `dynamodbav:"variant,omitempty"`
	CustomerID string    `dynamodbav:"customer_id"`
	TriggerKey string    `dynamodbav:"trigger_key"`
	Name       string    `dynamodbav:"name"`
	PercentOff int       `dynamodbav:"percent_off,omitempty"`
	AmountOff  int64     `dynamodbav:"amount_off,omitempty"`
	Currency   string    `dynamodbav:"currency"`
	MinOrder   int64     `dynamodbav:"min_order"`
	IssuedAt   time.Time `dynamodbav:"issued_at"`
	ExpiresAt  time.Time `dynamodbav:"expires_at"`
	// RedeemedOrder and RedeemedAt are set once an order used it.
	RedeemedOrder string    `dynamodbav:"redeemed_order,omitempty"`
	RedeemedAt    time.Time `dynamodbav:"redeemed_at"`
}

type couponItem struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	TTL int64  `dynamodbav:"ttl"`
	Coupon
}

// couponRetention keeps a coupon's record a year past its expiry, for reports.
const couponRetention = 365 * 24 * time.Hour

func couponPK(code string) string { return "COUPON#" + code }

// IssueCoupon stores a coupon unless one with its code exists, and returns
// the stored one and whether this call issued it. Codes are derived from
// (campaign, trigger, customer), so issuing again for the same trigger
// returns the first coupon unchanged (and false).
func (s *Store) IssueCoupon(ctx context.Context, c Coupon) (Coupon, bool, error) {
	item, err := marshalMap(couponItem{PK: couponPK(c.Code), SK: "COUPON", TTL: c.ExpiresAt.Add(couponRetention).Unix(), Coupon: c})
	if err != nil {
		return Coupon{}, false, err
	}
	issued, err := s.putNew(ctx, item)
	switch {
	case err != nil:
		return Coupon{}, false, fmt.Errorf("issue coupon for %s/%s: %w", c.Campaign, c.CustomerID, err)
	case issued:
		return c, true, nil
	}
	stored, err := s.GetCoupon(ctx, c.Code)
	return stored, false, err
}

// GetCoupon reads a coupon by code; an unknown code returns ErrNotFound.
func (s *Store) GetCoupon(ctx context.Context, code string) (Coupon, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(couponPK(code), "COUPON"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Coupon{}, fmt.Errorf("get coupon: %w", err)
	}
	if len(out.Item) == 0 {
		return Coupon{}, fmt.Errorf("get coupon: %w", ErrNotFound)
	}
	var it couponItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Coupon{}, fmt.Errorf("decode coupon: %w", err)
	}
	return it.Coupon, nil
}

// RedeemCoupon records that an order used a coupon. It returns the coupon
// (with the campaign it came from) and whether this order's use counts:
// false for an unknown code, one used by another order, one past its expiry
// when the order was placed, or another customer's. An order without a
// customer (customerID "": a draft or point-of-sale order the shop took the
// code on) redeems it whoever it was issued to. Recording the same order
// again is harmless.
func (s *Store) RedeemCoupon(ctx context.Context, code, orderID, customerID string, at time.Time) (Coupon, bool, error) {
	c, err := s.GetCoupon(ctx, code)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Coupon{}, false, nil
		}
		return Coupon{}, false, err
	}
	switch {
	case c.RedeemedOrder == orderID:
		return c, true, nil
	case c.RedeemedOrder != "", customerID != "" && c.CustomerID != customerID, !at.Before(c.ExpiresAt):
		return c, false, nil
	}
	upd := expression.Set(expression.Name("redeemed_order"), expression.Value(orderID)).
		Set(expression.Name("redeemed_at"), expression.Value(at.UTC().Format(time.RFC3339Nano)))
	cond := expression.AttributeNotExists(expression.Name("redeemed_order")).Or(expression.Name("redeemed_order").Equal(expression.Value(orderID)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return Coupon{}, false, fmt.Errorf("build coupon redemption: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(couponPK(code), "COUPON"),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return c, false, nil // another order took it first
	}
	if err != nil {
		return Coupon{}, false, fmt.Errorf("redeem coupon: %w", err)
	}
	c.RedeemedOrder, c.RedeemedAt = orderID, at.UTC()
	return c, true, nil
}

// ThankyouView is the record of an order's thank-you page being seen, with
// the next-order coupon it hands out (Coupon.Code is "" when the shop gives
// none).
type ThankyouView struct {
	OrderID string
	Coupon  Coupon
	At      time.Time
	// NoCampaigns records the view as needing no campaigns (none listens),
	// so that no later write is needed.
	NoCampaigns bool
}

func thankyouPK(orderID string) string { return "THANKYOU#" + orderID }

// RecordThankyouView writes the first view of an order's thank-you page,
// and with it the next-order coupon, in one conditional write, without
// reading: the coupon's code and expiry are derived from the order, so
// every reload shows the same coupon. first is true until the view's
// campaigns are marked done (FinishThankyouView), so a first view whose
// campaigns failed is retried by the next view.
func (s *Store) RecordThankyouView(ctx context.Context, v ThankyouView) (first bool, err error) {
	pk, sk := thankyouPK(v.OrderID), "VIEW"
	var item map[string]types.AttributeValue
	if v.Coupon.Code != "" {
		// The coupon item is the view's record: redeeming works by code.
		pk, sk = couponPK(v.Coupon.Code), "COUPON"
		item, err = marshalMap(couponItem{PK: pk, SK: sk, TTL: v.Coupon.ExpiresAt.Add(couponRetention).Unix(), Coupon: v.Coupon})
	} else {
		item, err = marshalMap(struct {
			PK      string    `dynamodbav:"pk"`
			SK      string    `dynamodbav:"sk"`
			OrderID string    `dynamodbav:"order_id"`
			At      time.Time `dynamodbav:"viewed_at"`
			TTL     int64     `dynamodbav:"ttl"`
		}{pk, sk, v.OrderID, v.At.UTC(), v.At.Add(couponRetention).Unix()})
	}
	if err != nil {
		return false, err
	}
	item["view_order"] = &types.AttributeValueMemberS{Value: v.OrderID}
	item["campaigns_done"] = &types.AttributeValueMemberBOOL{Value: v.NoCampaigns}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR (campaigns_done = :false AND attribute_not_exists(redeemed_order))"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record thank-you view of %s: %w", v.OrderID, err)
	}
	return true, nil
}

// FinishThankyouView marks a view's campaigns done, so later views only read.
func (s *Store) FinishThankyouView(ctx context.Context, v ThankyouView) error {
	k := key(thankyouPK(v.OrderID), "VIEW")
	if v.Coupon.Code != "" {
		k = key(couponPK(v.Coupon.Code), "COUPON")
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: k,
		UpdateExpression:          aws.String("SET campaigns_done = :true"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}},
	})
	if err != nil {
		return fmt.Errorf("finish thank-you view of %s: %w", v.OrderID, err)
	}
	return nil
}
