package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// Referral items (README: Referral): a code's entry, a friend's use of a
// code, an advocate's referred orders of a week, and the referral of a
// friend's order.
func refCodePK(code string) string { return "REFCODE#" + code }
func refUsePK(code, friendID string) string {
	return "REFUSE#" + code + "#" + friendID
}
func refWeekPK(advocateID string, week time.Time) string {
	return "REFWEEK#" + advocateID + "#" + week.Format(time.DateOnly)
}
func referralPK(orderID string) string           { return "REFERRAL#" + orderID }
func referralsGSI(status referral.Status) string { return "REFERRALS#" + string(status) }
func refCodesGSI(customerID string) string       { return "REFCODES#" + customerID }

// refWeekRetention keeps a week's count past the week, for support.
const refWeekRetention = 60 * 24 * time.Hour

// IndexCode records a customer's referral code with the marks of one of
// their orders. It reads the entry first (GetItem) and writes only when
// the entry is missing or lacks one of the marks: one UpdateItem that
// sets the owner and adds the marks to a string set (adding a mark again
// changes nothing), conditioned on the code being new or the customer's.
// So a customer's first order writes the entry and a later order from the
// same address and number writes nothing. False when another customer
// has the code.
func (s *Store) IndexCode(ctx context.Context, o referral.Owner, at time.Time) (bool, error) {
	stored, found, err := s.CodeOwner(ctx, o.Code)
	if err != nil {
		return false, err
	}
	if found && stored.CustomerID != o.CustomerID {
		return false, nil
	}
	if found && !missing(o.Marks, stored.Marks) {
		return true, nil
	}
	values := map[string]types.AttributeValue{
		":c":   &types.AttributeValueMemberS{Value: o.CustomerID},
		":at":  &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
		":gpk": &types.AttributeValueMemberS{Value: refCodesGSI(o.CustomerID)},
		":gsk": &types.AttributeValueMemberS{Value: o.Code},
	}
	update := "SET customer_id = :c, first_at = if_not_exists(first_at, :at), gsi1pk = :gpk, gsi1sk = :gsk"
	if len(o.Marks) > 0 {
		values[":m"] = &types.AttributeValueMemberSS{Value: o.Marks}
		update += " ADD marks :m"
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(refCodePK(o.Code), "REFCODE"),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR customer_id = :c"),
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("index referral code of %s: %w", o.CustomerID, err)
	}
	return true, nil
}

// missing reports whether any of marks is not among stored.
func missing(marks, stored []string) bool {
	for _, m := range marks {
		if !slices.Contains(stored, m) {
			return true
		}
	}
	return false
}

// refCodeItem is a referral code's entry.
type refCodeItem struct {
	CustomerID string   `dynamodbav:"customer_id"`
	Marks      []string `dynamodbav:"marks,stringset,omitempty"`
}

// CodeOwner reads a referral code's entry (strongly consistent): false
// when no customer has the code.
func (s *Store) CodeOwner(ctx context.Context, code string) (referral.Owner, bool, error) {
	item, err := s.getItem(ctx, refCodePK(code), "REFCODE", time.Now())
	if err != nil || item == nil {
		if err != nil {
			err = fmt.Errorf("read referral code: %w", err)
		}
		return referral.Owner{}, false, err
	}
	var it refCodeItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return referral.Owner{}, false, fmt.Errorf("decode referral code: %w", err)
	}
	return referral.Owner{Code: code, CustomerID: it.CustomerID, Marks: it.Marks}, true, nil
}

// CountReferralVisit adds a visit of a referral link to its code's entry
// (visits, last_visit_at: no one's data), in one UpdateItem conditioned
// on the code being a customer's; false for an unknown code, which
// counts nothing.
func (s *Store) CountReferralVisit(ctx context.Context, code string, at time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(refCodePK(code), "REFCODE"),
		UpdateExpression:    aws.String("ADD visits :one SET last_visit_at = :at"),
		ConditionExpression: aws.String("attribute_exists(customer_id)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":at":  &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count referral visit: %w", err)
	}
	return true, nil
}

// ReferralVisits reads how many visits a code's link had (0 for an
// unknown code).
func (s *Store) ReferralVisits(ctx context.Context, code string) (int64, error) {
	it, err := getDecoded[struct {
		Visits int64 `dynamodbav:"visits"`
	}](ctx, s, refCodePK(code), "REFCODE")
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("read referral visits: %w", err)
	}
	return it.Visits, nil
}

// ProfileContact is what a customer's profile says they are recognised
// by now: the email address and LINE user (the referral checks compare
// them as keyed hashes); the zero Contact for a customer without one.
func (s *Store) ProfileContact(ctx context.Context, customerID string) (referral.Contact, error) {
	p, err := s.GetProfile(ctx, customerID)
	switch {
	case errors.Is(err, ErrNotFound):
		return referral.Contact{}, nil
	case err != nil:
		return referral.Contact{}, err
	}
	return referral.Contact{Email: p.Email, LineUserID: p.LineUserID}, nil
}

// ClaimUse records that a friend used a code on an order: one PutItem
// conditioned on no use or this order's, so a retry of the same order
// claims it again; false when the friend used the code on another order.
func (s *Store) ClaimUse(ctx context.Context, code, friendID, orderID string, at time.Time) (bool, error) {
	item := key(refUsePK(code, friendID), "USE")
	item["order_id"] = &types.AttributeValueMemberS{Value: orderID}
	item["at"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR order_id = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": item["order_id"]},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim referral use of order %s: %w", orderID, err)
	}
	return true, nil
}

// CountWeek adds an order to an advocate's referred orders of a week (a
// string set: the same order counts once) and returns how many the week
// holds, in one UpdateItem.
func (s *Store) CountWeek(ctx context.Context, advocateID string, week time.Time, orderID string) (int, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(refWeekPK(advocateID, week), "WEEK"),
		UpdateExpression:         aws.String("ADD orders :o SET #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o":   &types.AttributeValueMemberSS{Value: []string{orderID}},
			":ttl": ttlValue(week.AddDate(0, 0, 7).Add(refWeekRetention)),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return 0, fmt.Errorf("count referred orders of %s: %w", advocateID, err)
	}
	orders, _ := out.Attributes["orders"].(*types.AttributeValueMemberSS)
	if orders == nil {
		return 0, nil
	}
	return len(orders.Value), nil
}

// referralItem is the referral of a friend's order.
type referralItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	GSI1PK     string    `dynamodbav:"gsi1pk"`
	GSI1SK     string    `dynamodbav:"gsi1sk"`
	OrderID    string    `dynamodbav:"order_id"`
	Code       string    `dynamodbav:"code"`
	AdvocateID string    `dynamodbav:"advocate_id"`
	FriendID   string    `dynamodbav:"friend_id"`
	Status     string    `dynamodbav:"status"`
	Reason     string    `dynamodbav:"reason"`
	PlacedAt   time.Time `dynamodbav:"placed_at"`
	At         time.Time `dynamodbav:"at"`
	Reward     string    `dynamodbav:"reward,omitempty"`
}

func (it referralItem) referral() referral.Referral {
	return referral.Referral{OrderID: it.OrderID, Code: it.Code, AdvocateID: it.AdvocateID, FriendID: it.FriendID,
		Status: referral.Status(it.Status), Reason: it.Reason, PlacedAt: it.PlacedAt, At: it.At, Reward: it.Reward}
}

// referralSortKey orders a status's referrals by when they got it.
func referralSortKey(at time.Time, orderID string) string { return sortTime(at) + "#" + orderID }

// PutReferral records the referral of a friend's order unless the order
// has one (PutItem attribute_not_exists), and returns the stored one and
// whether this call wrote it: the first decision stands.
func (s *Store) PutReferral(ctx context.Context, r referral.Referral) (referral.Referral, bool, error) {
	item, err := marshalMap(referralItem{PK: referralPK(r.OrderID), SK: "REFERRAL", GSI1PK: referralsGSI(r.Status), GSI1SK: referralSortKey(r.At, r.OrderID),
		OrderID: r.OrderID, Code: r.Code, AdvocateID: r.AdvocateID, FriendID: r.FriendID, Status: string(r.Status), Reason: r.Reason,
		PlacedAt: r.PlacedAt.UTC(), At: r.At.UTC(), Reward: r.Reward})
	if err != nil {
		return r, false, err
	}
	wrote, err := s.putNew(ctx, item)
	if err != nil {
		return r, false, fmt.Errorf("put referral of order %s: %w", r.OrderID, err)
	}
	if wrote {
		return r, true, nil
	}
	stored, _, err := s.GetReferral(ctx, r.OrderID)
	return stored, false, err
}

// GetReferral reads the referral of an order (strongly consistent); false
// when the order has none.
func (s *Store) GetReferral(ctx context.Context, orderID string) (referral.Referral, bool, error) {
	it, err := getDecoded[referralItem](ctx, s, referralPK(orderID), "REFERRAL")
	switch {
	case errors.Is(err, ErrNotFound):
		return referral.Referral{}, false, nil
	case err != nil:
		return referral.Referral{}, false, fmt.Errorf("read referral of order %s: %w", orderID, err)
	}
	return it.referral(), true, nil
}

// SetReferralStatus moves the referral of an order to a status with its
// reason (and the reward, when given), moving it to that status's index
// partition: one UpdateItem conditioned on the referral being in one of
// the statuses from. False when it is absent or in another status.
func (s *Store) SetReferralStatus(ctx context.Context, orderID string, from []referral.Status, to referral.Status, reason, reward string, at time.Time) (bool, error) {
	values := map[string]types.AttributeValue{
		":to": &types.AttributeValueMemberS{Value: string(to)}, ":reason": &types.AttributeValueMemberS{Value: reason},
		":at":  &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
		":gpk": &types.AttributeValueMemberS{Value: referralsGSI(to)}, ":gsk": &types.AttributeValueMemberS{Value: referralSortKey(at, orderID)},
	}
	update := "SET #status = :to, reason = :reason, #at = :at, gsi1pk = :gpk, gsi1sk = :gsk"
	if reward != "" {
		values[":reward"] = &types.AttributeValueMemberS{Value: reward}
		update += ", reward = :reward"
	}
	cond := "attribute_exists(pk) AND #status IN ("
	for i, st := range from {
		name := fmt.Sprintf(":from%d", i)
		values[name] = &types.AttributeValueMemberS{Value: string(st)}
		if i > 0 {
			cond += ", "
		}
		cond += name
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(referralPK(orderID), "REFERRAL"),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond + ")"),
		ExpressionAttributeNames:  map[string]string{"#status": "status", "#at": "at"},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("set referral of order %s to %s: %w", orderID, to, err)
	}
	return true, nil
}

// ReferralsByStatus lists the referrals in a status, oldest first: one
// Query of the status's gsi1 partition (REFERRALS#<status>).
func (s *Store) ReferralsByStatus(ctx context.Context, status referral.Status) ([]referral.Referral, error) {
	items, err := queryAll[referralItem](ctx, s.db, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: referralsGSI(status)}},
	})
	if err != nil {
		return nil, fmt.Errorf("list %s referrals: %w", status, err)
	}
	out := make([]referral.Referral, len(items))
	for i, it := range items {
		out[i] = it.referral()
	}
	return out, nil
}

// IssueReferralCoupon issues an advocate's reward coupon (COUPON#<code>,
// campaign referral, its trigger the referral's order) unless it was
// issued: true when this call issued it.
func (s *Store) IssueReferralCoupon(ctx context.Context, c referral.CouponReward) (bool, error) {
	_, issued, err := s.IssueCoupon(ctx, Coupon{Code: c.Code, Campaign: referral.CouponCampaign, CustomerID: c.CustomerID, TriggerKey: "referral:" + c.OrderID,
		Name: c.Spec.Name, PercentOff: c.Spec.PercentOff, AmountOff: c.Spec.AmountOff, Currency: c.Currency, MinOrder: c.Spec.MinOrder,
		IssuedAt: c.IssuedAt.UTC(), ExpiresAt: c.ExpiresAt.UTC()})
	return issued, err
}

// eraseReferralMarks removes the marks (keyed hashes of contact details)
// from a customer's referral code entries, found through gsi1
// REFCODES#<customer id>; the entry keeps its owner and visit count.
func (s *Store) eraseReferralMarks(ctx context.Context, customerID string) error {
	codes, err := queryAll[struct {
		PK    string   `dynamodbav:"pk"`
		Marks []string `dynamodbav:"marks,stringset,omitempty"`
	}](ctx, s.db, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: refCodesGSI(customerID)}},
	})
	if err != nil {
		return fmt.Errorf("find referral codes of %s: %w", customerID, err)
	}
	for _, c := range codes {
		if len(c.Marks) == 0 {
			continue
		}
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: key(c.PK, "REFCODE"),
			UpdateExpression:          aws.String("REMOVE marks"),
			ConditionExpression:       aws.String("customer_id = :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: customerID}},
		})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("erase referral marks of %s: %w", customerID, err)
		}
	}
	return nil
}

// ReasonReferralRewarded is the reason of the timer that runs the
// referral.reward_approved campaigns for an advocate just rewarded.
const ReasonReferralRewarded = "referral_rewarded"

// ArmRewardNotice arms, due at, the timer that runs the
// referral.reward_approved campaigns for the advocate of the referred
// order orderID (one conditional PutItem, once per referred order): true
// when this call armed it. The sender reads the reward from the referral.
func (s *Store) ArmRewardNotice(ctx context.Context, advocateID, orderID string, at time.Time) (bool, error) {
	return s.ArmTimer(ctx, Timer{Key: "referral-reward#" + orderID, DueAt: at.UTC(), CustomerID: advocateID,
		Trigger: string(rules.TriggerReferralRewarded), TriggerKey: "referral:" + orderID + ":" + string(rules.TriggerReferralRewarded),
		OrderID: orderID, Reason: ReasonReferralRewarded})
}
