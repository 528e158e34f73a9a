package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MessageRetention is how long the message log keeps an entry: long enough
// for "at most once per 12 months" rules and for a year of history.
const MessageRetention = 400 * 24 * time.Hour

// MessageStatus is where a message stands in the log.
type MessageStatus string

// Message statuses. Sending is a claim: one worker is sending it now.
// Failed is retryable; Sent, Rejected and Skipped are final.
const (
	MessageSending  MessageStatus = "sending"
	MessageSent     MessageStatus = "sent"
	MessageFailed   MessageStatus = "failed"
	MessageRejected MessageStatus = "rejected"
	MessageSkipped  MessageStatus = "skipped"
	// MessageDryRun is a message rendered and recorded but not sent, for a
	// channel that is not configured.
	MessageDryRun MessageStatus = "dry_run"
	// MessageAssigned is no message but a campaign's treatment assignment:
	// the customer was decided to receive it (Group treatment).
	MessageAssigned MessageStatus = "assigned"
)

// MessageRecord is one entry of the message log, keyed by the message's
// deterministic key, so a retried send finds the entry of the first try.
type MessageRecord struct {
	Key        string `dynamodbav:"message_key"`
	CampaignID string `dynamodbav:"campaign_id"`
	// Variant is the campaign's A/B variant the message belongs to, if any.
	Variant string `dynamodbav:"variant,omitempty"`
	// Group is the lift group of an assignment entry (GroupTreatment,
	// GroupHoldout, GroupControl); "" for a message that is no assignment.
	Group      string        `dynamodbav:"group,omitempty"`
	Channel    string        `dynamodbav:"channel"`
	CustomerID string        `dynamodbav:"customer_id"`
	Status     MessageStatus `dynamodbav:"status"`
	Reason     string        `dynamodbav:"reason,omitempty"`
	ProviderID string        `dynamodbav:"provider_id,omitempty"`
	Attempts   int           `dynamodbav:"attempts"`
	ClaimedAt  time.Time     `dynamodbav:"claimed_at"`
	FinishedAt time.Time     `dynamodbav:"finished_at"`
	// Delivery is what the mail service reported afterwards: delivered,
	// bounced, soft_bounced or complained.
	Delivery string `dynamodbav:"delivery,omitempty"`
	// OpenedAt is when the mail service first reported the message opened.
	OpenedAt time.Time `dynamodbav:"opened_at"`
	// ClickedAt is the message's first click, through the redirect or as
	// the mail service reported it; SESClickedAt is the mail service's
	// first report of a click.
	ClickedAt    time.Time `dynamodbav:"clicked_at"`
	SESClickedAt time.Time `dynamodbav:"ses_clicked_at"`
}

type messageItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	TTL    int64  `dynamodbav:"ttl"`
	MessageRecord
}

func messagePK(key string) string { return "MESSAGE#" + key }

// CustomerMessagesPartition is the gsi1 partition holding a customer's
// message log, sorted by time.
func CustomerMessagesPartition(customerID string) string { return "MESSAGES#" + customerID }

// ClaimMessage takes the right to send the message rec describes. It
// succeeds when the key is new or its last attempt failed retryably. When it
// does not, the existing entry is returned so the caller can tell a message
// already sent from one another worker is sending right now.
//
// Each call carries a random claim token, which the condition also
// accepts: when the store wrote the claim but its answer was lost, the
// SDK's retry of the same request finds its own token and succeeds, instead
// of mistaking its own claim for another worker's.
func (s *Store) ClaimMessage(ctx context.Context, rec MessageRecord, now time.Time) (claimed bool, existing MessageRecord, err error) {
	rec.Status, rec.ClaimedAt = MessageSending, now.UTC()
	vals, err := marshalMap(rec)
	if err != nil {
		return false, MessageRecord{}, err
	}
	variantSet := ""
	if rec.Variant != "" {
		variantSet = ", variant = :variant"
	}
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(messagePK(rec.Key), "MESSAGE"),
		UpdateExpression: aws.String("SET message_key = :message_key, campaign_id = :campaign_id, channel = :channel, customer_id = :customer_id, " +
			"#status = :status, claimed_at = :claimed_at, claim_token = :token, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk, #ttl = :ttl" + variantSet + " REMOVE reason ADD attempts :one"),
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR #status = :failed OR claim_token = :token"),
		ExpressionAttributeNames: map[string]string{"#status": "status", "#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":message_key": vals["message_key"], ":campaign_id": vals["campaign_id"], ":channel": vals["channel"],
			":customer_id": vals["customer_id"], ":status": vals["status"], ":claimed_at": vals["claimed_at"],
			":gsi1pk": &types.AttributeValueMemberS{Value: CustomerMessagesPartition(rec.CustomerID)},
			":gsi1sk": &types.AttributeValueMemberS{Value: sortTime(rec.ClaimedAt) + "#" + rec.Key},
			":ttl":    ttlValue(now.Add(MessageRetention)),
			":one":    &types.AttributeValueMemberN{Value: "1"},
			":failed": &types.AttributeValueMemberS{Value: string(MessageFailed)},
			":token":  &types.AttributeValueMemberS{Value: rand.Text()},
		},
	}
	if rec.Variant != "" {
		in.ExpressionAttributeValues[":variant"] = vals["variant"]
	}
	_, err = s.db.UpdateItem(ctx, in)
	if err == nil {
		return true, MessageRecord{}, nil
	}
	if !isConditionFailed(err) {
		return false, MessageRecord{}, fmt.Errorf("claim message %s: %w", rec.Key, err)
	}
	existing, err = s.GetMessage(ctx, rec.Key)
	return false, existing, err
}

// FinishMessage records the outcome of a claimed message. Only the claim
// holder (same claimed_at) can finish it.
func (s *Store) FinishMessage(ctx context.Context, rec MessageRecord, status MessageStatus, reason, providerID string, now time.Time) error {
	set := "SET #status = :status, finished_at = :finished"
	vals := map[string]types.AttributeValue{
		":status":   &types.AttributeValueMemberS{Value: string(status)},
		":finished": &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		":sending":  &types.AttributeValueMemberS{Value: string(MessageSending)},
		":claimed":  &types.AttributeValueMemberS{Value: rec.ClaimedAt.UTC().Format(time.RFC3339Nano)},
	}
	if reason != "" {
		set += ", reason = :reason"
		vals[":reason"] = &types.AttributeValueMemberS{Value: reason}
	}
	if providerID != "" {
		set += ", provider_id = :provider"
		vals[":provider"] = &types.AttributeValueMemberS{Value: providerID}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(messagePK(rec.Key), "MESSAGE"),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("#status = :sending AND claimed_at = :claimed"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		return fmt.Errorf("finish message %s: %w", rec.Key, err)
	}
	return nil
}

// RecordSkipped logs a message that was decided against (no consent, held
// out, capped...) with the reason. The first decision for a key stands.
func (s *Store) RecordSkipped(ctx context.Context, rec MessageRecord, reason string, now time.Time) error {
	_, err := s.RecordDecision(ctx, rec, MessageSkipped, reason, now)
	return err
}

// RecordDecision logs a decision that sends nothing under rec's key (a
// skip, a held-out or a treatment assignment) with its status and reason,
// and reports whether this call wrote it: the first decision for a key
// stands, so a counter added only when this is true counts it once.
func (s *Store) RecordDecision(ctx context.Context, rec MessageRecord, status MessageStatus, reason string, now time.Time) (bool, error) {
	rec.Status, rec.Reason, rec.ClaimedAt, rec.FinishedAt = status, reason, now.UTC(), now.UTC()
	item, err := marshalMap(messageItem{
		PK: messagePK(rec.Key), SK: "MESSAGE",
		GSI1PK: CustomerMessagesPartition(rec.CustomerID), GSI1SK: sortTime(rec.ClaimedAt) + "#" + rec.Key,
		TTL: now.Add(MessageRetention).Unix(), MessageRecord: rec,
	})
	if err != nil {
		return false, err
	}
	first, err := s.putNew(ctx, item)
	if err != nil {
		return false, fmt.Errorf("record %s message %s: %w", status, rec.Key, err)
	}
	return first, nil
}

// GetMessage reads one message log entry; an unknown key returns ErrNotFound.
func (s *Store) GetMessage(ctx context.Context, key string) (MessageRecord, error) {
	it, err := getDecoded[messageItem](ctx, s, messagePK(key), "MESSAGE")
	if err != nil {
		return MessageRecord{}, fmt.Errorf("get message %s: %w", key, err)
	}
	return it.MessageRecord, nil
}

// CustomerMessages lists a customer's message log since a time, oldest first.
func (s *Store) CustomerMessages(ctx context.Context, customerID string, since time.Time) ([]MessageRecord, error) {
	items, err := queryPartitionSince[messageItem](ctx, s, CustomerMessagesPartition(customerID), since)
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", customerID, err)
	}
	var out []MessageRecord
	for _, it := range items {
		out = append(out, it.MessageRecord)
	}
	return out, nil
}
