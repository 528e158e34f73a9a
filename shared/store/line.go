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

// lineLinksPartition is the gsi1 partition of a customer's LINE items:
// the LINE users linked to the customer (gsi1sk: the LINE user id) and the
// account-link nonces issued for the customer (gsi1sk: linkNonceSortKey and
// the nonce), so that erasing the customer finds every one.
func lineLinksPartition(customerID string) string { return "LINELINKS#" + customerID }

// linkNonceSortKey starts the gsi1sk of a nonce in lineLinksPartition (a
// LINE user id starts with "U").
const linkNonceSortKey = "NONCE#"

func linkNoncePK(nonce string) string { return "LINKNONCE#" + nonce }
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
	// FirstLinkOnly is set when the shop's word was weaker than a login
	// (an order's thank-you signature): the nonce may link a customer who
	// has no LINE user yet, never move an existing link.
	FirstLinkOnly bool
}

// IssueLinkNonce stores a nonce for a customer, spendable for
// LinkNonceLifetime. It is indexed among the customer's LINE items (gsi1
// LINELINKS#<customer id>), so that erasing the customer deletes it and the
// LINE user id that spent it.
func (s *Store) IssueLinkNonce(ctx context.Context, n LinkNonce) error {
	item := key(linkNoncePK(n.Nonce), "NONCE")
	item["customer_id"] = &types.AttributeValueMemberS{Value: n.CustomerID}
	item["gsi1pk"] = &types.AttributeValueMemberS{Value: lineLinksPartition(n.CustomerID)}
	item["gsi1sk"] = &types.AttributeValueMemberS{Value: linkNonceSortKey + n.Nonce}
	item["issued_at"] = timeValue(n.IssuedAt)
	item["ttl"] = ttlValue(n.IssuedAt.Add(LinkNonceLifetime))
	if n.FirstLinkOnly {
		item["first_link_only"] = &types.AttributeValueMemberBOOL{Value: true}
	}
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
// completed at at, and returns it (the customer it was issued for, and
// whether it may only make a first link). A
// nonce is spent once: an unknown nonce, one expired at at, or one another
// LINE user spent returns ErrNotFound. The same LINE user spending it
// again gets the same customer, so a retried event converges. The nonce
// keeps the LINE user id that spent it until the nonce is deleted, by
// DynamoDB once expired or by EraseCustomer.
func (s *Store) SpendLinkNonce(ctx context.Context, nonce, userID string, at time.Time) (LinkNonce, error) {
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
		return LinkNonce{}, fmt.Errorf("spend link nonce: %w", ErrNotFound)
	}
	if err != nil {
		return LinkNonce{}, fmt.Errorf("spend link nonce: %w", err)
	}
	v, ok := out.Attributes["customer_id"].(*types.AttributeValueMemberS)
	if !ok || v.Value == "" {
		return LinkNonce{}, errors.New("spend link nonce: stored without a customer")
	}
	n := LinkNonce{Nonce: nonce, CustomerID: v.Value}
	if f, ok := out.Attributes["first_link_only"].(*types.AttributeValueMemberBOOL); ok {
		n.FirstLinkOnly = f.Value
	}
	return n, nil
}

// LineEventDone reports whether a webhook event (by webhookEventId) was
// processed within LineEventRetention.
func (s *Store) LineEventDone(ctx context.Context, eventID string, now time.Time) (bool, error) {
	item, err := s.getItem(ctx, lineEventPK(eventID), "EVENT", now)
	if err != nil {
		return false, fmt.Errorf("get line event: %w", err)
	}
	return item != nil, nil
}

// MarkLineEventDone records that a webhook event was processed. It is
// written after every effect of the event, so its presence means done. It
// returns false when another copy of the event was recorded first.
func (s *Store) MarkLineEventDone(ctx context.Context, eventID, eventType string, now time.Time) (bool, error) {
	item := key(lineEventPK(eventID), "EVENT")
	item["event_type"] = &types.AttributeValueMemberS{Value: eventType}
	item["done_at"] = timeValue(now)
	first, err := s.putOnce(ctx, item, LineEventRetention, now)
	if err != nil {
		return false, fmt.Errorf("mark line event: %w", err)
	}
	return first, nil
}

// A campaign's LINE budget: how many LINE pushes it may send in a month.
// The month's counter item (sk BUDGET) counts the places, and each message
// key holding one has a reservation item (sk RESERVATION#<key>).

// LineBudgetRetention is how long a month's LINE budget items (the
// counter and the reservations) are kept after the month ends: a year and
// a month, so that the month can be compared with the same month of the
// year before.
const LineBudgetRetention = 400 * 24 * time.Hour

const lineBudgetReservation = "RESERVATION#"

// lineBudgetKeys are a message key's items in a campaign's monthly budget
// and when they expire.
func lineBudgetKeys(campaignID, month, messageKey string) (pk, reservation string, ttl types.AttributeValue, err error) {
	if messageKey == "" {
		return "", "", nil, errors.New("empty message key")
	}
	start, err := time.Parse("2006-01", month)
	if err != nil {
		return "", "", nil, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	return lineBudgetPK(campaignID, month), lineBudgetReservation + messageKey, ttlValue(start.AddDate(0, 1, 0).Add(LineBudgetRetention)), nil
}

// ReserveLineBudget counts one LINE push of a campaign against its monthly
// budget (month as "2026-11"): of any number of concurrent reservations of
// different messages, no more than budget succeed. It reports false when
// the budget is spent. A message key that holds a place keeps it without
// counting twice, so a retried push keeps its place; ReleaseLineBudget
// gives the place back when the push is not sent after all.
//
// The caller holds the message's claim, so one attempt per key runs at a
// time. Without transactions (DESIGN.md; the emulator has none either) the
// count comes first and the reservation second: an attempt that stops in
// between leaves a place counted but not held, and its retry counts again,
// so the campaign may send one message less, never one more.
func (s *Store) ReserveLineBudget(ctx context.Context, campaignID, month string, budget int, messageKey string) (bool, error) {
	pk, reservation, ttl, err := lineBudgetKeys(campaignID, month, messageKey)
	if err != nil {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	if budget <= 0 {
		return false, nil
	}
	held, err := s.getItem(ctx, pk, reservation, time.Now())
	if err != nil {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	if held != nil {
		return true, nil
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(pk, "BUDGET"),
		UpdateExpression:          aws.String("SET #ttl = :ttl ADD sent :one"),
		ConditionExpression:       aws.String("attribute_not_exists(sent) OR sent < :budget"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": ttl, ":one": intValue(1), ":budget": intValue(int64(budget))},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	item := key(pk, reservation)
	item["ttl"] = ttl
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	return true, nil
}

// ReleaseLineBudget gives back the place a message key reserved in a
// campaign's monthly budget (month as "2026-11"), for a push that was not
// sent after all (LINE's own quota was spent, LINE refused the message,
// or it was only a dry run). It reports whether a place was given back: a
// key that holds none (never reserved, or released already) changes
// nothing, so a retried release converges. As with reserving, the
// reservation goes first: an attempt that stops in between leaves the
// place counted, one message less, never more.
func (s *Store) ReleaseLineBudget(ctx context.Context, campaignID, month, messageKey string) (bool, error) {
	pk, reservation, _, err := lineBudgetKeys(campaignID, month, messageKey)
	if err != nil {
		return false, fmt.Errorf("release line budget of %s: %w", campaignID, err)
	}
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(pk, reservation), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return false, fmt.Errorf("release line budget of %s: %w", campaignID, err)
	}
	if len(out.Attributes) == 0 {
		return false, nil
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(pk, "BUDGET"),
		UpdateExpression:          aws.String("ADD sent :minus"),
		ConditionExpression:       aws.String("sent > :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": intValue(-1), ":zero": intValue(0)},
	})
	if err != nil && !isConditionFailed(err) {
		return false, fmt.Errorf("release line budget of %s: %w", campaignID, err)
	}
	return true, nil
}

// LineBudgetUsed counts the LINE pushes of a campaign reserved against its
// budget in a month ("2026-11") and not released.
func (s *Store) LineBudgetUsed(ctx context.Context, campaignID, month string) (int, error) {
	item, err := s.getItem(ctx, lineBudgetPK(campaignID, month), "BUDGET", time.Now())
	if err != nil {
		return 0, fmt.Errorf("read line budget of %s: %w", campaignID, err)
	}
	used, err := intAttr(item, "sent")
	if err != nil {
		return 0, fmt.Errorf("read line budget of %s: %w", campaignID, err)
	}
	return int(used), nil
}

func intValue(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// intAttr reads a number attribute of an item (0 when absent).
func intAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %q is not a whole number: %w", name, v.Value, err)
	}
	return n, nil
}
