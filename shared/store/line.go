package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
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
	if t, ok := out.Attributes["issued_at"].(*types.AttributeValueMemberS); ok {
		n.IssuedAt, _ = time.Parse(time.RFC3339Nano, t.Value)
	}
	return n, nil
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
	first, err := s.putOnce(ctx, item, LineEventRetention, now)
	if err != nil {
		return false, fmt.Errorf("mark line event: %w", err)
	}
	return first, nil
}

// A campaign's LINE budget: how many LINE pushes it may send in a month
// (see lineBudget for how a place is counted once).

// LineBudgetRetention is how long a month's LINE budget items (the
// counter and the reservations) are kept after the month ends: a year and
// a month, so that the month can be compared with the same month of the
// year before.
const LineBudgetRetention = 400 * 24 * time.Hour

const (
	// lineBudgetBuckets is how many settle numbers a counter keeps (s00
	// to s31): settling a change only sends attempts of message keys of
	// the same bucket back to read again.
	lineBudgetBuckets = 32
	// lineBudgetAttempts bounds how often one change reads the budget
	// again after other writers got in between.
	lineBudgetAttempts = 12
)

// errLineBudgetBusy means a change kept losing races to other writers;
// the caller may try again.
var errLineBudgetBusy = errors.New("too many concurrent changes, try again")

// ReserveLineBudget counts one LINE push of a campaign against its monthly
// budget (month as "2026-11"), atomically: of any number of concurrent
// reservations, no more than budget succeed. It reports false when the
// budget is spent. Reserving the same message key again succeeds without
// counting twice, so a retried push keeps its place; ReleaseLineBudget
// gives the place back when the push is not sent after all.
func (s *Store) ReserveLineBudget(ctx context.Context, campaignID, month string, budget int, messageKey string) (bool, error) {
	b, err := s.lineBudget(campaignID, month, messageKey)
	if err != nil {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	ok, err := b.change(ctx, true, budget)
	if err != nil {
		return false, fmt.Errorf("reserve line budget of %s: %w", campaignID, err)
	}
	return ok, nil
}

// ReleaseLineBudget gives back the place a message key reserved in a
// campaign's monthly budget (month as "2026-11"), for a push that was not
// sent after all (LINE's own quota was spent, or LINE refused the
// message). It reports whether a place was given back: a key that holds
// none (never reserved, or released already) changes nothing, so a
// retried release converges. Reserving the key again counts it again.
func (s *Store) ReleaseLineBudget(ctx context.Context, campaignID, month, messageKey string) (bool, error) {
	b, err := s.lineBudget(campaignID, month, messageKey)
	if err != nil {
		return false, fmt.Errorf("release line budget of %s: %w", campaignID, err)
	}
	released, err := b.change(ctx, false, 0)
	if err != nil {
		return false, fmt.Errorf("release line budget of %s: %w", campaignID, err)
	}
	return released, nil
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

// lineBudget is one message key's place in a campaign's monthly budget.
//
// Each message key holds its place in a reservation item (reserved true,
// or false once released, kept with the generation of its last change),
// and the month's counter item counts the places. Without transactions
// (DESIGN.md; the emulator has none either) the two cannot be written
// together, so a change is made in two steps of conditional single-item
// writes:
//
//  1. count: the counter adds or takes away one and records the change as
//     pending under the message key, conditioned on the budget (sent <
//     budget), on no change of that key pending, and on the settle number
//     of the key's bucket being what it was when the attempt began;
//  2. settle: the reservation item is written with the change's
//     generation (the settle number it was counted at; unless a later
//     generation is written already), then the counter drops the pending
//     change and increases the bucket's settle number.
//
// An attempt reads the counter, then the reservation. A pending change of
// its key (left by an attempt that stopped between the steps) is settled
// first. Counting is refused when any change of a key in the bucket was
// settled since the counter was read, so an attempt that read the
// reservation before another attempt settled it reads again instead of
// counting the key twice. The counter holds only the changes in flight,
// so it stays small however many messages a month sends.
type lineBudget struct {
	s  *Store
	pk string
	// reservation is the sort key of the key's reservation item.
	reservation string
	messageKey  string
	// pending and settled name the counter's attributes for the key: its
	// change in flight, and its bucket's settle number.
	pending, settled string
	ttl              types.AttributeValue
}

func (s *Store) lineBudget(campaignID, month, messageKey string) (lineBudget, error) {
	if messageKey == "" {
		return lineBudget{}, errors.New("empty message key")
	}
	start, err := time.Parse("2006-01", month)
	if err != nil {
		return lineBudget{}, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	h := fnv.New32a()
	h.Write([]byte(messageKey))
	return lineBudget{
		s: s, pk: lineBudgetPK(campaignID, month), reservation: "RESERVATION#" + messageKey, messageKey: messageKey,
		pending: "p#" + messageKey, settled: fmt.Sprintf("s%02d", h.Sum32()%lineBudgetBuckets),
		ttl: ttlValue(start.AddDate(0, 1, 0).Add(LineBudgetRetention)),
	}, nil
}

// lineBudgetState is what one attempt read.
type lineBudgetState struct {
	used     int64
	settled  int64  // the settle number of the key's bucket (0: none yet)
	pending  string // the key's change counted but not settled, if any
	reserved bool   // the key holds a place
}

// change reserves (reserve true) or releases the key's place, and
// reports whether it holds one (reserve) or gave one back (release).
func (b lineBudget) change(ctx context.Context, reserve bool, budget int) (bool, error) {
	for attempt := range lineBudgetAttempts {
		st, err := b.read(ctx)
		if err != nil {
			return false, err
		}
		if st.pending != "" {
			// Another attempt counted a change of this key and has not
			// settled it (it may have stopped): settle it, then decide.
			if err := b.settle(ctx, st.pending); err != nil {
				return false, err
			}
			continue
		}
		switch {
		case reserve && st.reserved:
			return true, nil // reserved before: the place is kept
		case reserve && st.used >= int64(budget):
			return false, nil
		case !reserve && !st.reserved:
			return false, nil // nothing to give back
		}
		op := "release"
		if reserve {
			op = "reserve"
		}
		change := op + "@" + strconv.FormatInt(st.settled, 10)
		counted, err := b.count(ctx, reserve, change, st.settled, budget)
		if err != nil {
			return false, err
		}
		if counted {
			if err := b.settle(ctx, change); err != nil {
				return false, err
			}
			return true, nil
		}
		// Another writer got in between: read again, after a short pause.
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))):
		}
	}
	return false, errLineBudgetBusy
}

// read reads the counter, then the reservation: count relies on that
// order. Both are read as stored, expired or not, because the conditions
// compare stored values (the items outlive their month by
// LineBudgetRetention, far longer than any retry).
func (b lineBudget) read(ctx context.Context) (lineBudgetState, error) {
	get := func(sk string) (map[string]types.AttributeValue, error) {
		out, err := b.s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b.s.table), Key: key(b.pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, err
		}
		return out.Item, nil
	}
	counter, err := get("BUDGET")
	if err != nil {
		return lineBudgetState{}, fmt.Errorf("read line budget counter: %w", err)
	}
	reservation, err := get(b.reservation)
	if err != nil {
		return lineBudgetState{}, fmt.Errorf("read line budget reservation: %w", err)
	}
	var st lineBudgetState
	if st.used, err = intAttr(counter, "sent"); err != nil {
		return lineBudgetState{}, err
	}
	if st.settled, err = intAttr(counter, b.settled); err != nil {
		return lineBudgetState{}, err
	}
	if v, ok := counter[b.pending].(*types.AttributeValueMemberS); ok {
		st.pending = v.Value
	}
	if v, ok := reservation["reserved"].(*types.AttributeValueMemberBOOL); ok {
		st.reserved = v.Value
	}
	return st, nil
}

// count is step 1: it counts the change on the counter and records it as
// pending, and reports false when the condition failed (budget spent, a
// change of the key pending, or a change in the bucket settled since the
// read).
func (b lineBudget) count(ctx context.Context, reserve bool, change string, settled int64, budget int) (bool, error) {
	values := map[string]types.AttributeValue{
		":delta": &types.AttributeValueMemberN{Value: "-1"}, ":change": &types.AttributeValueMemberS{Value: change}, ":ttl": b.ttl,
	}
	cond := "attribute_not_exists(#pending) AND attribute_exists(sent)"
	if reserve {
		values[":delta"] = &types.AttributeValueMemberN{Value: "1"}
		values[":budget"] = &types.AttributeValueMemberN{Value: strconv.Itoa(budget)}
		cond = "attribute_not_exists(#pending) AND (attribute_not_exists(sent) OR sent < :budget)"
	}
	if settled == 0 {
		cond += " AND attribute_not_exists(#settled)"
	} else {
		values[":settled"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(settled, 10)}
		cond += " AND #settled = :settled"
	}
	_, err := b.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(b.s.table),
		Key:                       key(b.pk, "BUDGET"),
		UpdateExpression:          aws.String("ADD sent :delta SET #pending = :change, #ttl = if_not_exists(#ttl, :ttl)"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#pending": b.pending, "#settled": b.settled, "#ttl": "ttl"},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count line budget change: %w", err)
	}
	return true, nil
}

// settle is step 2 for a change counted as pending ("reserve@<n>" or
// "release@<n>", n the bucket's settle number it was counted at; n only
// grows from one change of a key to the next, so it orders them).
func (b lineBudget) settle(ctx context.Context, change string) error {
	op, n, _ := strings.Cut(change, "@")
	if _, err := strconv.ParseInt(n, 10, 64); err != nil || (op != "reserve" && op != "release") {
		return fmt.Errorf("settle line budget change %q: not understood", change)
	}
	_, err := b.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(b.s.table),
		Key:                      key(b.pk, b.reservation),
		UpdateExpression:         aws.String("SET message_key = :key, #reserved = :reserved, #gen = :gen, changed_at = :now, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#gen) OR #gen <= :gen"),
		ExpressionAttributeNames: map[string]string{"#reserved": "reserved", "#gen": "generation", "#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":key": &types.AttributeValueMemberS{Value: b.messageKey}, ":reserved": &types.AttributeValueMemberBOOL{Value: op == "reserve"},
			":gen": &types.AttributeValueMemberN{Value: n}, ":now": timeValue(time.Now()), ":ttl": b.ttl,
		},
	})
	if err != nil && !isConditionFailed(err) { // failed: a later change is written already
		return fmt.Errorf("write line budget reservation: %w", err)
	}
	_, err = b.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(b.s.table),
		Key:                       key(b.pk, "BUDGET"),
		UpdateExpression:          aws.String("REMOVE #pending ADD #settled :one"),
		ConditionExpression:       aws.String("#pending = :change"),
		ExpressionAttributeNames:  map[string]string{"#pending": b.pending, "#settled": b.settled},
		ExpressionAttributeValues: map[string]types.AttributeValue{":change": &types.AttributeValueMemberS{Value: change}, ":one": &types.AttributeValueMemberN{Value: "1"}},
	})
	if err != nil && !isConditionFailed(err) { // failed: another attempt settled it
		return fmt.Errorf("settle line budget change: %w", err)
	}
	return nil
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
