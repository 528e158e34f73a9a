package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// LedgerPK is the partition of a customer's points ledger.
func LedgerPK(customerID string) string { return "LEDGER#" + customerID }

// movementItem is one movement of a points ledger.
type movementItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	CustomerID  string    `dynamodbav:"customer_id"`
	Kind        string    `dynamodbav:"kind"`
	OrderID     string    `dynamodbav:"order_id,omitempty"`
	Reason      string    `dynamodbav:"reason,omitempty"`
	Ref         string    `dynamodbav:"ref,omitempty"`
	Points      int64     `dynamodbav:"points"`
	Merchandise int64     `dynamodbav:"merchandise,omitempty"`
	Request     string    `dynamodbav:"request,omitempty"`
	At          time.Time `dynamodbav:"at"`
}

// PutMovement writes a movement into its customer's ledger under its
// deterministic id, unless it is there: true when this call wrote it. A
// retry or a duplicate delivery writes nothing, whatever it carries.
func (s *Store) PutMovement(ctx context.Context, m loyalty.Movement) (bool, error) {
	item, err := marshalMap(movementItem{PK: LedgerPK(m.CustomerID), SK: m.ID(), CustomerID: m.CustomerID, Kind: string(m.Kind),
		OrderID: m.OrderID, Reason: m.Reason, Ref: m.Ref, Points: m.Points, Merchandise: m.Merchandise, Request: m.Request, At: m.At.UTC()})
	if err != nil {
		return false, err
	}
	written, err := s.putNew(ctx, item)
	if err != nil {
		return false, fmt.Errorf("put %s movement %s of %s: %w", m.Kind, m.ID(), m.CustomerID, err)
	}
	return written, nil
}

// Ledger reads a customer's points ledger (one Query of its partition), in
// movement id order.
func (s *Store) Ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: LedgerPK(customerID)}},
		ConsistentRead:            aws.Bool(true),
	})
	var out []loyalty.Movement
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read points ledger of %s: %w", customerID, err)
		}
		for _, item := range page.Items {
			var it movementItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, fmt.Errorf("decode movement of %s: %w", customerID, err)
			}
			out = append(out, loyalty.Movement{CustomerID: it.CustomerID, Kind: loyalty.Kind(it.Kind), OrderID: it.OrderID, Reason: it.Reason,
				Ref: it.Ref, Points: it.Points, Merchandise: it.Merchandise, Request: it.Request, At: it.At})
		}
	}
	return out, nil
}

// ReasonPointsApproval is the reason of the timer that approves an
// order's points once its return window has passed.
const ReasonPointsApproval = "points_approval"

// PointsApprovalKey is the key of an order's approval timer: one per
// order, however often its delivery is heard of.
func PointsApprovalKey(orderID string) string { return "points-approval#" + orderID }

// ArmApproval arms the timer that approves an order's points at due (one
// conditional PutItem of a TIMER# item in the sharded due index), unless
// it is armed or finished already: true when this call armed it. It
// carries expiresAt, when the customer's points expire if this order
// stays the last (zero: never).
func (s *Store) ArmApproval(ctx context.Context, customerID, orderID string, due, expiresAt time.Time) (bool, error) {
	return s.ArmTimer(ctx, Timer{Key: PointsApprovalKey(orderID), DueAt: due.UTC(), Campaign: "loyalty", CustomerID: customerID,
		Trigger: "order.delivered", TriggerKey: "order:" + orderID + ":order.delivered", OrderID: orderID, Reason: ReasonPointsApproval,
		ExpiresAt: expiresAt.UTC()})
}

// ReasonPointsExpiry is the reason of the timer that expires a customer's
// points when an order stays their last for the programme's months.
const ReasonPointsExpiry = "points_expiry"

// PointsExpiryKey is the key of the expiry timer an order arms once it is
// approved: one per order.
func PointsExpiryKey(orderID string) string { return "points-expiry#" + orderID }

// ArmExpiry arms the timer that expires a customer's points at due unless
// the order is not their last by then (one conditional PutItem, once per
// order): true when this call armed it.
func (s *Store) ArmExpiry(ctx context.Context, customerID, orderID string, due time.Time) (bool, error) {
	return s.ArmTimer(ctx, Timer{Key: PointsExpiryKey(orderID), DueAt: due.UTC(), Campaign: "loyalty", CustomerID: customerID,
		Trigger: "loyalty.expiry", TriggerKey: "order:" + orderID + ":loyalty.expiry", OrderID: orderID, Reason: ReasonPointsExpiry})
}

// ReasonPointsExpiring is the reason of a timer that warns a customer
// before their points expire: it runs the loyalty.points_expiring
// campaigns (the sender's, as any campaign timer).
const ReasonPointsExpiring = "points_expiring"

// PointsExpiringKey is the key of the warning an approved order arms
// before before the points expire: one per order and warning. It shares
// the expiry timer's prefix (one grant arms both).
func PointsExpiringKey(orderID string, before time.Duration) string {
	return PointsExpiryKey(orderID) + "#warn#" + rules.FormatDuration(before)
}

// ArmExpiryWarning arms the timer that runs the loyalty.points_expiring
// campaigns at due, before before the customer's points expire at
// expires unless the order is not their last by then (one conditional
// PutItem, once per order and warning): true when this call armed it. Its
// trigger key names the order and the warning, so each warning is sent
// once.
func (s *Store) ArmExpiryWarning(ctx context.Context, customerID, orderID string, due, expires time.Time, before time.Duration) (bool, error) {
	return s.ArmTimer(ctx, Timer{Key: PointsExpiringKey(orderID, before), DueAt: due.UTC(), CustomerID: customerID,
		Trigger: string(rules.TriggerPointsExpiring), TriggerKey: "points-expiring:" + orderID + ":" + rules.FormatDuration(before), OrderID: orderID,
		Reason: ReasonPointsExpiring, ExpiresAt: expires.UTC()})
}
