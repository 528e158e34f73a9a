package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
)

// suppressionPK is where an address's suppression is kept: under its
// keyed hash (pseudonym.Keyer.AddressHash), never the address itself, so
// the table alone does not confirm an address.
func (s *Store) suppressionPK(email string) string {
	return "SUPPRESSED#" + s.pseudonyms.AddressHash(email)
}

// Suppress stops marketing email to an address for good (a hard bounce or
// a complaint), keeping only its keyed hash, the reason and when.
func (s *Store) Suppress(ctx context.Context, email, reason string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(s.suppressionPK(email), "SUPPRESSION"),
		UpdateExpression: aws.String("SET suppressed = :true, reason = if_not_exists(reason, :reason), suppressed_at = if_not_exists(suppressed_at, :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":reason": &types.AttributeValueMemberS{Value: reason},
			":at": timeValue(at),
		},
	})
	if err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	return nil
}

// CountSoftBounce counts a temporary delivery failure of one SES message
// (sesMessageID) for an address; it does not suppress it. SES and
// EventBridge deliver events at least once and the handler may be retried,
// so each message counts once per address: the item keeps a short digest of
// every message it counted (soft_bounce_ids, a string set) and the write is
// conditioned on the digest being new. A message already counted changes
// nothing.
func (s *Store) CountSoftBounce(ctx context.Context, email, sesMessageID string, at time.Time) error {
	if sesMessageID == "" {
		return fmt.Errorf("count soft bounce: %w", errNoMessageID)
	}
	id := softBounceID(sesMessageID)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(s.suppressionPK(email), "SUPPRESSION"),
		UpdateExpression:    aws.String("ADD soft_bounces :one, soft_bounce_ids :ids SET last_soft_bounce_at = :at"),
		ConditionExpression: aws.String("NOT contains(soft_bounce_ids, :id)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": intValue(1), ":at": timeValue(at),
			":ids": &types.AttributeValueMemberSS{Value: []string{id}}, ":id": &types.AttributeValueMemberS{Value: id},
		},
	})
	if isConditionFailed(err) {
		return nil // this message was counted already
	}
	if err != nil {
		return fmt.Errorf("count soft bounce: %w", err)
	}
	return nil
}

// errNoMessageID: soft bounces are counted by SES message id.
var errNoMessageID = errors.New("no SES message id")

// softBounceID is the digest a counted message is remembered by: 64 bits
// of SHA-256 keep the set small on an item read before every send.
func softBounceID(sesMessageID string) string {
	sum := sha256.Sum256([]byte(sesMessageID))
	return hex.EncodeToString(sum[:8])
}

// Suppression is what is known of an address's deliverability.
type Suppression struct {
	Suppressed  bool
	Reason      string
	SoftBounces int
}

// legacySuppressionPK is where versions before keyed hashes kept an
// address's suppression: under its plain SHA-256. Those items are still
// read (never written), so an address suppressed then stays suppressed.
func legacySuppressionPK(email string) string {
	sum := sha256.Sum256([]byte(pseudonym.NormalizeAddress(email)))
	return "SUPPRESSED#" + hex.EncodeToString(sum[:])
}

// SuppressionOf reads an address's suppression record (zero when none):
// the one under its keyed hash, or else one stored by an earlier version
// under the plain hash.
func (s *Store) SuppressionOf(ctx context.Context, email string) (Suppression, error) {
	item, err := s.getItem(ctx, s.suppressionPK(email), "SUPPRESSION", time.Now())
	if err == nil && item == nil {
		item, err = s.getItem(ctx, legacySuppressionPK(email), "SUPPRESSION", time.Now())
	}
	if err != nil {
		return Suppression{}, fmt.Errorf("read suppression: %w", err)
	}
	var out Suppression
	if b, ok := item["suppressed"].(*types.AttributeValueMemberBOOL); ok {
		out.Suppressed = b.Value
	}
	if r, ok := item["reason"].(*types.AttributeValueMemberS); ok {
		out.Reason = r.Value
	}
	soft, err := intAttr(item, "soft_bounces")
	if err != nil {
		return Suppression{}, fmt.Errorf("read suppression: %w", err)
	}
	out.SoftBounces = int(soft)
	return out, nil
}

// Delivery outcomes: what the mail service reported about a sent message,
// as RecordDeliveryEvent stores them in the message log (MessageRecord.Delivery).
const (
	DeliveryDelivered   = "delivered"
	DeliverySoftBounced = "soft_bounced"
	DeliveryBounced     = "bounced"
	DeliveryComplained  = "complained"
)

// deliverySeverity lists the delivery outcomes from the least to the most
// severe.
var deliverySeverity = []string{DeliveryDelivered, DeliverySoftBounced, DeliveryBounced, DeliveryComplained}

// RecordDeliveryEvent notes on a sent message's log entry what the mail
// service later reported about it (one of the Delivery outcomes), and when.
//
// SES and EventBridge deliver events out of order and at least once, so the
// outcome only ever moves up this order of severity:
//
//	delivered < soft_bounced < bounced < complained
//
// A bounce reported after a delivery is the receiving server returning mail
// it had accepted, so the mail did not reach the inbox; a permanent bounce
// says more than a temporary one; a complaint comes from a recipient who
// got the mail and outranks everything, even a bounce reported late. An
// event that would not raise the outcome (an older one, or the same one
// again) changes nothing, delivery_at included. The rule is the write's
// condition (the stored outcome is absent or one of the less severe ones),
// so concurrent events converge on the most severe, in whatever order they
// land. A key this table never logged (another stack's mail) is ignored.
// It returns the entry as the event left it and whether the event raised
// the outcome (so the caller counts each outcome of a message once).
func (s *Store) RecordDeliveryEvent(ctx context.Context, messageKey, outcome string, at time.Time) (MessageRecord, bool, error) {
	rank := slices.Index(deliverySeverity, outcome)
	if rank < 0 {
		return MessageRecord{}, false, fmt.Errorf("record delivery event of %s: unknown outcome %q", messageKey, outcome)
	}
	vals := map[string]types.AttributeValue{
		":outcome": &types.AttributeValueMemberS{Value: outcome},
		":at":      timeValue(at),
	}
	cond := "attribute_not_exists(delivery)"
	if rank > 0 {
		lower := make([]string, rank)
		for i, o := range deliverySeverity[:rank] {
			lower[i] = fmt.Sprintf(":lower%d", i)
			vals[lower[i]] = &types.AttributeValueMemberS{Value: o}
		}
		cond += " OR delivery IN (" + strings.Join(lower, ", ") + ")"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(messagePK(messageKey), "MESSAGE"),
		UpdateExpression:          aws.String("SET delivery = :outcome, delivery_at = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND (" + cond + ")"),
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return MessageRecord{}, false, nil // not more severe than what is stored, or not this table's message
	}
	if err != nil {
		return MessageRecord{}, false, fmt.Errorf("record delivery event of %s: %w", messageKey, err)
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return MessageRecord{}, false, fmt.Errorf("decode message %s: %w", messageKey, err)
	}
	return it.MessageRecord, true, nil
}
