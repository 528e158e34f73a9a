package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LINE items: which customer a LINE user is linked to (with the latest
// follow state seen), the single-use nonces of LINE's account link, and
// the webhook events already processed.

// LinkNonceLifetime is how long an account-link nonce can be spent: as
// long as the LINE link token it travels with (10 minutes).
const LinkNonceLifetime = 10 * time.Minute

// LineEventRetention is how long a processed LINE webhook event id is
// remembered, so that a redelivery has no second effect.
const LineEventRetention = 30 * 24 * time.Hour

// LineLink is a LINE user linked to a customer.
type LineLink struct {
	UserID     string    `dynamodbav:"line_user_id"`
	CustomerID string    `dynamodbav:"customer_id"`
	LinkedAt   time.Time `dynamodbav:"linked_at"`
	// Following is the latest follow state seen (false after the user
	// blocked the account), as of FollowAt.
	Following bool      `dynamodbav:"following"`
	FollowAt  time.Time `dynamodbav:"follow_at"`
}

func lineUserPK(userID string) string { return "LINEUSER#" + userID }

// lineLinksPartition is the gsi1 partition of the LINE users linked to a
// customer, so that erasing the customer finds every link.
func lineLinksPartition(customerID string) string { return "LINELINKS#" + customerID }
func linkNoncePK(nonce string) string             { return "LINKNONCE#" + nonce }
func lineBudgetPK(campaignID, month string) string {
	return "LINEBUDGET#" + campaignID + "#" + month
}
func lineEventPK(id string) string { return "LINEEVENT#" + id }

// millis is an instant as the number conditions compare (LINE's own
// event timestamps are epoch milliseconds).
func millis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

func timeValue(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: t.UTC().Format(time.RFC3339Nano)}
}

// GetLineLink reads which customer a LINE user is linked to; a LINE user
// linked to nobody returns ErrNotFound.
func (s *Store) GetLineLink(ctx context.Context, userID string) (LineLink, error) {
	item, err := s.getItem(ctx, lineUserPK(userID), "LINK", time.Now())
	if err != nil {
		return LineLink{}, fmt.Errorf("get line link: %w", err)
	}
	if item == nil {
		return LineLink{}, fmt.Errorf("get line link: %w", ErrNotFound)
	}
	return decodeLineLink(item)
}

func decodeLineLink(item map[string]types.AttributeValue) (LineLink, error) {
	var l LineLink
	if err := attributevalue.UnmarshalMap(item, &l); err != nil {
		return LineLink{}, fmt.Errorf("decode line link: %w", err)
	}
	return l, nil
}

// LinkLineUser links LINE user userID to customerID as of at, unless a
// link made later is stored already (redelivered events can arrive out of
// order); it reports whether this link was applied. Applying the same link
// again is harmless, so a retried event converges.
func (s *Store) LinkLineUser(ctx context.Context, userID, customerID string, at time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(lineUserPK(userID), "LINK"),
		UpdateExpression:    aws.String("SET line_user_id = :user, customer_id = :customer, linked_at = :at, link_ms = :ms, gsi1pk = :links, gsi1sk = :user"),
		ConditionExpression: aws.String("attribute_not_exists(link_ms) OR link_ms <= :ms"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":user": &types.AttributeValueMemberS{Value: userID}, ":customer": &types.AttributeValueMemberS{Value: customerID},
			":at": timeValue(at), ":ms": millis(at), ":links": &types.AttributeValueMemberS{Value: lineLinksPartition(customerID)},
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("link line user to %s: %w", customerID, err)
	}
	return true, nil
}

// RecordLineFollow records that a linked LINE user followed (following
// true: added or unblocked the account) or unfollowed (blocked it) at at.
// It reports whether this is the latest follow state known, so the caller
// applies it to the customer's profile; an older event changes nothing. A
// LINE user linked to nobody returns ErrNotFound. The same event recorded
// again is still the latest, so a retried event converges.
func (s *Store) RecordLineFollow(ctx context.Context, userID string, following bool, at time.Time) (LineLink, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(lineUserPK(userID), "LINK"),
		UpdateExpression:    aws.String("SET following = :following, follow_at = :at, follow_ms = :ms"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(follow_ms) OR follow_ms <= :ms)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":following": &types.AttributeValueMemberBOOL{Value: following}, ":at": timeValue(at), ":ms": millis(at),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		// Linked to nobody, or a later follow state is stored: tell which.
		l, err := s.GetLineLink(ctx, userID)
		return l, false, err
	}
	if err != nil {
		return LineLink{}, false, fmt.Errorf("record line follow: %w", err)
	}
	l, err := decodeLineLink(out.Attributes)
	return l, err == nil, err
}

// LinkNonce is a single-use account-link nonce bound to the customer a
// shop's page vouched for.
type LinkNonce struct {
	Nonce      string
	CustomerID string
	IssuedAt   time.Time
}

// IssueLinkNonce stores a nonce for a customer, spendable for
// LinkNonceLifetime.
func (s *Store) IssueLinkNonce(ctx context.Context, n LinkNonce) error {
	item := key(linkNoncePK(n.Nonce), "NONCE")
	item["customer_id"] = &types.AttributeValueMemberS{Value: n.CustomerID}
	item["issued_at"] = timeValue(n.IssuedAt)
	item["ttl"] = ttlValue(n.IssuedAt.Add(LinkNonceLifetime))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return fmt.Errorf("issue link nonce: %w", err)
	}
	return nil
}

// SpendLinkNonce spends a nonce for the LINE user whose account link
// completed at at, and returns the customer the nonce was issued for. A
// nonce is spent once: an unknown nonce, one expired at at, or one another
// LINE user spent returns ErrNotFound. The same LINE user spending it
// again gets the same customer, so a retried event converges.
func (s *Store) SpendLinkNonce(ctx context.Context, nonce, userID string, at time.Time) (string, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(linkNoncePK(nonce), "NONCE"),
		UpdateExpression:         aws.String("SET spent_by = :user, spent_at = if_not_exists(spent_at, :at)"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND ((attribute_not_exists(spent_by) AND #ttl > :now) OR spent_by = :user)"),
		ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":user": &types.AttributeValueMemberS{Value: userID}, ":at": timeValue(at), ":now": ttlValue(at),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return "", fmt.Errorf("spend link nonce: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("spend link nonce: %w", err)
	}
	v, ok := out.Attributes["customer_id"].(*types.AttributeValueMemberS)
	if !ok || v.Value == "" {
		return "", errors.New("spend link nonce: stored without a customer")
	}
	return v.Value, nil
}

// LineEventDone reports whether a webhook event (by webhookEventId) was
// processed within LineEventRetention, and the digest of the request that
// carried it then (a replayed request carries the same one).
func (s *Store) LineEventDone(ctx context.Context, eventID string, now time.Time) (done bool, request string, err error) {
	item, err := s.getItem(ctx, lineEventPK(eventID), "EVENT", now)
	if err != nil {
		return false, "", fmt.Errorf("get line event: %w", err)
	}
	if item == nil {
		return false, "", nil
	}
	if v, ok := item["request"].(*types.AttributeValueMemberS); ok {
		request = v.Value
	}
	return true, request, nil
}

// MarkLineEventDone records that a webhook event was processed, carried
// by the request with the given digest. It is written after every effect
// of the event, so its presence means done. It returns false when another
// copy of the event was recorded first.
func (s *Store) MarkLineEventDone(ctx context.Context, eventID, eventType, request string, now time.Time) (bool, error) {
	item := key(lineEventPK(eventID), "EVENT")
	item["event_type"] = &types.AttributeValueMemberS{Value: eventType}
	item["request"] = &types.AttributeValueMemberS{Value: request}
	item["done_at"] = timeValue(now)
	item["ttl"] = ttlValue(now.Add(LineEventRetention))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": ttlValue(now)},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark line event: %w", err)
	}
	return true, nil
}

// ReserveLineBudget counts one LINE push of a campaign against its monthly
// budget (month as "2026-11"), atomically; it reports false when the
// budget is spent. Reserving the same message key again succeeds without
// counting twice, so a retried push keeps its place.
func (s *Store) ReserveLineBudget(ctx context.Context, campaignID, month string, budget int, messageKey string) (bool, error) {
	k := key(lineBudgetPK(campaignID, month), "BUDGET")
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      k,
		UpdateExpression:         aws.String("ADD sent :one, message_keys :keys SET #ttl = if_not_exists(#ttl, :ttl)"),
		ConditionExpression:      aws.String("(attribute_not_exists(sent) OR sent < :budget) AND NOT contains(message_keys, :key)"),
		ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"}, ":budget": &types.AttributeValueMemberN{Value: fmt.Sprint(budget)},
			":keys": &types.AttributeValueMemberSS{Value: []string{messageKey}}, ":key": &types.AttributeValueMemberS{Value: messageKey},
			":ttl": ttlValue(time.Now().Add(400 * 24 * time.Hour)),
		},
	})
	if err == nil {
		return true, nil
	}
	if !isConditionFailed(err) {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	item, err := s.getItem(ctx, lineBudgetPK(campaignID, month), "BUDGET", time.Now())
	if err != nil {
		return false, fmt.Errorf("read line budget of %s: %w", campaignID, err)
	}
	if keys, ok := item["message_keys"].(*types.AttributeValueMemberSS); ok {
		for _, k := range keys.Value {
			if k == messageKey {
				return true, nil // reserved by an earlier attempt of this message
			}
		}
	}
	return false, nil
}

// LineBudgetUsed counts the LINE pushes of a campaign reserved against its
// budget in a month ("2026-11").
func (s *Store) LineBudgetUsed(ctx context.Context, campaignID, month string) (int, error) {
	item, err := s.getItem(ctx, lineBudgetPK(campaignID, month), "BUDGET", time.Now())
	if err != nil {
		return 0, fmt.Errorf("read line budget of %s: %w", campaignID, err)
	}
	n, ok := item["sent"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	used, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, fmt.Errorf("read line budget of %s: count %q: %w", campaignID, n.Value, err)
	}
	return used, nil
}
