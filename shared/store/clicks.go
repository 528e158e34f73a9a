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

// ClickRetention is how long a click item is kept after the click: as
// long as the message log keeps its message.
const ClickRetention = MessageRetention

// Click is a person's first click on one link of one campaign message, as
// the redirect (GET /r/{token}) recorded it.
type Click struct {
	MessageKey string `dynamodbav:"message_key"`
	CampaignID string `dynamodbav:"campaign_id"`
	Variant    string `dynamodbav:"variant,omitempty"`
	CustomerID string `dynamodbav:"customer_id"`
	// Link is the link's index in its message (the first distinct target
	// is 0).
	Link int       `dynamodbav:"link"`
	URL  string    `dynamodbav:"url"`
	At   time.Time `dynamodbav:"at"`
}

type clickItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	TTL    int64  `dynamodbav:"ttl"`
	Click
}

// CustomerClicksPartition is the gsi1 partition holding a customer's
// clicks, sorted by time.
func CustomerClicksPartition(customerID string) string { return "CLICKS#" + customerID }

func clickPK(messageKey string, link int) string {
	return "CLICK#" + messageKey + "#" + strconv.Itoa(link)
}

// RecordClick records the first click of a message's link: a PutItem
// conditioned on no live click of that message and link. It reports
// whether this call wrote it; a later click on the same link, or a retry,
// reports false and writes nothing.
func (s *Store) RecordClick(ctx context.Context, c Click) (bool, error) {
	c.At = c.At.UTC()
	suffix := strconv.Itoa(c.Link)
	item, err := marshalMap(clickItem{
		PK: clickPK(c.MessageKey, c.Link), SK: "CLICK",
		GSI1PK: CustomerClicksPartition(c.CustomerID), GSI1SK: sortTime(c.At) + "#" + c.MessageKey + "#" + suffix,
		Click: c,
	})
	if err != nil {
		return false, err
	}
	first, err := s.putOnce(ctx, item, ClickRetention, c.At)
	if err != nil {
		return false, fmt.Errorf("record click of message %s link %d: %w", c.MessageKey, c.Link, err)
	}
	return first, nil
}

// CustomerClicks lists a customer's clicks since a time, newest last.
func (s *Store) CustomerClicks(ctx context.Context, customerID string, since time.Time) ([]Click, error) {
	items, err := queryPartitionSince[clickItem](ctx, s, CustomerClicksPartition(customerID), since)
	if err != nil {
		return nil, fmt.Errorf("list clicks of %s: %w", customerID, err)
	}
	now := time.Now().Unix()
	var out []Click
	for _, it := range items {
		if it.TTL > now {
			out = append(out, it.Click)
		}
	}
	return out, nil
}

// MarkMessageClicked sets clicked_at on a message's log entry, once: it
// reports whether this call set it. A message already clicked (through
// the redirect or an SES click event), or whose entry is gone or expired,
// reports false. The redirect counts a message as clicked only when this
// reports true, so neither source counts a message twice.
func (s *Store) MarkMessageClicked(ctx context.Context, messageKey string, at time.Time) (bool, error) {
	_, first, err := s.markMessage(ctx, messageKey, "SET clicked_at = :at", "attribute_not_exists(clicked_at)", types.ReturnValueNone, at)
	if err != nil {
		return false, fmt.Errorf("mark message %s clicked: %w", messageKey, err)
	}
	return first, nil
}

// MarkMessageOpened sets opened_at on a message's log entry, once (an
// SES open event). It returns the entry and whether this call set it.
func (s *Store) MarkMessageOpened(ctx context.Context, messageKey string, at time.Time) (MessageRecord, bool, error) {
	rec, first, err := s.markMessage(ctx, messageKey, "SET opened_at = :at", "attribute_not_exists(opened_at)", types.ReturnValueAllNew, at)
	if err != nil {
		return MessageRecord{}, false, fmt.Errorf("mark message %s opened: %w", messageKey, err)
	}
	return rec, first, nil
}

// MarkMessageSESClicked records SES's click event on a message's log
// entry, once: it sets ses_clicked_at and, unless the redirect marked a
// click already, clicked_at. It returns the entry as it was and whether
// this call set ses_clicked_at; the message is newly clicked when that is
// true and the returned entry has no ClickedAt.
func (s *Store) MarkMessageSESClicked(ctx context.Context, messageKey string, at time.Time) (MessageRecord, bool, error) {
	rec, first, err := s.markMessage(ctx, messageKey, "SET ses_clicked_at = :at, clicked_at = if_not_exists(clicked_at, :at)",
		"attribute_not_exists(ses_clicked_at)", types.ReturnValueAllOld, at)
	if err != nil {
		return MessageRecord{}, false, fmt.Errorf("mark message %s clicked by ses: %w", messageKey, err)
	}
	return rec, first, nil
}

// markMessage updates a live message log entry when cond holds, and
// reports whether it did, with the entry the update returned.
func (s *Store) markMessage(ctx context.Context, messageKey, update, cond string, returns types.ReturnValue, at time.Time) (MessageRecord, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(messagePK(messageKey), "MESSAGE"),
		UpdateExpression:         aws.String(update),
		ConditionExpression:      aws.String("attribute_exists(pk) AND #ttl > :now AND " + cond),
		ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": timeValue(at), ":now": ttlValue(time.Now()),
		},
		ReturnValues: returns,
	})
	if isConditionFailed(err) {
		return MessageRecord{}, false, nil
	}
	if err != nil {
		return MessageRecord{}, false, err
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return MessageRecord{}, false, fmt.Errorf("decode message: %w", err)
	}
	return it.MessageRecord, true, nil
}
