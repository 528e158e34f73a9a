package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Case is a customer's problem the shop's support should hear of first: a
// complaint, a low score, a poor review. Its ID names the cause and what
// raised it ("complaint#<message key>"), so the same event opens it once.
type Case struct {
	ID         string `dynamodbav:"case_id"`
	Cause      string `dynamodbav:"cause"`
	CustomerID string `dynamodbav:"customer_id"`
	OrderID    string `dynamodbav:"order_id,omitempty"`
	CampaignID string `dynamodbav:"campaign_id,omitempty"`
	// About says what the case is about, beyond its cause ("★2 SWEET-YOKAN").
	About string `dynamodbav:"about,omitempty"`
	// Said is what the customer said, as they said it (a comment, a
	// review's text); shown escaped.
	Said string    `dynamodbav:"said,omitempty"`
	At   time.Time `dynamodbav:"at"`
	// ToldAt is when the shop's support was told; zero while open.
	ToldAt time.Time `dynamodbav:"told_at"`
}

// CaseRetention is how long a case is kept.
const CaseRetention = 400 * 24 * time.Hour

// openCasesPartition is the sparse gsi1 partition of the cases support has
// not been told of yet.
const openCasesPartition = "CASES#OPEN"

func casePK(id string) string { return "CASE#" + id }

type caseItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	Case
}

// OpenCase records c unless a case of its ID is recorded already, and
// reports whether this call recorded it. An open case waits in the open
// cases index until TellCase.
func (s *Store) OpenCase(ctx context.Context, c Case) (bool, error) {
	item, err := attributevalue.MarshalMap(caseItem{PK: casePK(c.ID), SK: "CASE", GSI1PK: openCasesPartition, GSI1SK: c.At.UTC().Format(time.RFC3339Nano) + "#" + c.ID, Case: c})
	if err != nil {
		return false, fmt.Errorf("encode case %s: %w", c.ID, err)
	}
	ok, err := s.putOnce(ctx, item, CaseRetention, c.At)
	if err != nil {
		return false, fmt.Errorf("open case %s: %w", c.ID, err)
	}
	return ok, nil
}

// OpenCases lists the cases support has not been told of, oldest first:
// one Query of the sparse open index, never the table.
func (s *Store) OpenCases(ctx context.Context) ([]Case, error) {
	items, err := queryAll[caseItem](ctx, s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: openCasesPartition}},
	})
	if err != nil {
		return nil, fmt.Errorf("list open cases: %w", err)
	}
	out := make([]Case, len(items))
	for i, it := range items {
		out[i] = it.Case
	}
	return out, nil
}

// TellCase records that support was told of case id at at, taking it out
// of the open index. Telling it again changes nothing.
func (s *Store) TellCase(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(casePK(id), "CASE"),
		UpdateExpression:          aws.String("SET told_at = :at REMOVE gsi1pk, gsi1sk"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_exists(gsi1pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("record case %s told: %w", id, err)
	}
	return nil
}

// ReasonDeliveryWatch is the reason of the timer that checks, some days
// after an order was fulfilled, whether it was reported delivered.
const ReasonDeliveryWatch = "delivery_watch"

// ArmDeliveryWatch arms the timer that checks at due whether an order
// fulfilled for customerID was delivered (one conditional PutItem in the
// sharded due index, one per order however often its fulfilment is
// heard of): true when this call armed it.
func (s *Store) ArmDeliveryWatch(ctx context.Context, customerID, orderID string, due time.Time) (bool, error) {
	return s.ArmTimer(ctx, Timer{Key: "delivery-watch#" + orderID, DueAt: due.UTC(), Campaign: "support", CustomerID: customerID,
		Trigger: "order.fulfilled", TriggerKey: "order:" + orderID + ":order.fulfilled", OrderID: orderID, Reason: ReasonDeliveryWatch})
}
