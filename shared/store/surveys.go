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

// SurveyRetention is how long a survey answer is kept.
const SurveyRetention = 400 * 24 * time.Hour

// ClaimSurvey takes the customer's one survey of the interval for the
// message messageKey: true when no other survey was sent to the customer
// within interval before at (or this very message claimed it before, on
// an earlier attempt). However many campaigns and channels ask at once,
// one gets it.
func (s *Store) ClaimSurvey(ctx context.Context, customerID, messageKey string, at time.Time, interval time.Duration) (bool, error) {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "SURVEYGATE#" + customerID}, "sk": &types.AttributeValueMemberS{Value: "GATE"},
			"message_key": &types.AttributeValueMemberS{Value: messageKey}, "at": timeValue(at), "ttl": ttlValue(at.Add(interval)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now OR message_key = :key"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": ttlValue(at), ":key": &types.AttributeValueMemberS{Value: messageKey}},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim survey of customer %s: %w", customerID, err)
	}
	return true, nil
}

// SurveyAnswer is a customer's answer to one survey message.
type SurveyAnswer struct {
	MessageKey string `dynamodbav:"message_key"`
	CampaignID string `dynamodbav:"campaign_id"`
	CustomerID string `dynamodbav:"customer_id"`
	OrderID    string `dynamodbav:"order_id,omitempty"`
	Scale      string `dynamodbav:"scale"`
	Score      int    `dynamodbav:"score"`
	// Stage is the customer's lifecycle stage when the survey was first
	// answered, which the answer counts under (NPS by stage).
	Stage string `dynamodbav:"stage,omitempty"`
	// Comment is what the customer wrote, as written; shown escaped.
	Comment string `dynamodbav:"comment,omitempty"`
	// FirstAt is when the survey was first answered; At the latest change.
	FirstAt time.Time `dynamodbav:"first_at"`
	At      time.Time `dynamodbav:"at"`
}

func surveyPK(messageKey string) string { return "SURVEY#" + messageKey }

// SaveSurveyAnswer records a's score (and its comment, when it has one)
// as the answer to its message: one item per survey message, so a second
// tap changes the score, not the count. It returns the score the answer
// had before, -1 when this is the message's first answer, and the stage
// the answer counts under: the one of its first answer.
func (s *Store) SaveSurveyAnswer(ctx context.Context, a SurveyAnswer) (previous int, stage string, err error) {
	update := "SET message_key = :key, campaign_id = :campaign, customer_id = :customer, scale = :scale, score = :score, #at = :at, first_at = if_not_exists(first_at, :at), #ttl = :ttl"
	values := map[string]types.AttributeValue{
		":campaign": &types.AttributeValueMemberS{Value: a.CampaignID}, ":customer": &types.AttributeValueMemberS{Value: a.CustomerID},
		":scale": &types.AttributeValueMemberS{Value: a.Scale}, ":score": &types.AttributeValueMemberN{Value: fmt.Sprint(a.Score)},
		":at": timeValue(a.At), ":ttl": ttlValue(a.At.Add(SurveyRetention)), ":key": &types.AttributeValueMemberS{Value: a.MessageKey},
	}
	if a.Stage != "" {
		update += ", stage = if_not_exists(stage, :stage)"
		values[":stage"] = &types.AttributeValueMemberS{Value: a.Stage}
	}
	if a.OrderID != "" {
		update += ", order_id = :order"
		values[":order"] = &types.AttributeValueMemberS{Value: a.OrderID}
	}
	names := map[string]string{"#at": "at", "#ttl": "ttl"}
	if a.Comment != "" {
		update += ", #comment = :comment"
		values[":comment"] = &types.AttributeValueMemberS{Value: a.Comment}
		names["#comment"] = "comment"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(surveyPK(a.MessageKey), "ANSWER"),
		UpdateExpression:          aws.String(update),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedOld,
	})
	if err != nil {
		return -1, "", fmt.Errorf("save survey answer of %s: %w", a.MessageKey, err)
	}
	var old struct {
		Score *int   `dynamodbav:"score"`
		Stage string `dynamodbav:"stage"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &old); err != nil || old.Score == nil {
		return -1, a.Stage, err
	}
	if old.Stage == "" {
		old.Stage = a.Stage // an answer from before stages were kept
	}
	return *old.Score, old.Stage, nil
}

// GetSurveyAnswer reads the answer to a survey message; ErrNotFound when
// it has none.
func (s *Store) GetSurveyAnswer(ctx context.Context, messageKey string) (SurveyAnswer, error) {
	a, err := getDecoded[SurveyAnswer](ctx, s, surveyPK(messageKey), "ANSWER")
	if err != nil {
		return SurveyAnswer{}, fmt.Errorf("get survey answer of %s: %w", messageKey, err)
	}
	return a, nil
}
