package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TimerShards spreads pending timers over this many gsi1 partitions, so no
// partition of the due-time index is hot.
const TimerShards = 16

// timerRetention keeps a finished timer's record for a while, for support.
const timerRetention = 30 * 24 * time.Hour

// Timer is a campaign step waiting for its time (a delay, or quiet
// hours), or an order's points waiting for its return window.
type Timer struct {
	Key        string    `dynamodbav:"timer_key" json:"timer_key"`
	DueAt      time.Time `dynamodbav:"due_at" json:"due_at"`
	Campaign   string    `dynamodbav:"campaign_id" json:"campaign_id"`
	CustomerID string    `dynamodbav:"customer_id" json:"customer_id"`
	Trigger    string    `dynamodbav:"trigger" json:"trigger"`
	TriggerKey string    `dynamodbav:"trigger_key" json:"trigger_key"`
	OrderID    string    `dynamodbav:"order_id,omitempty" json:"order_id,omitempty"`
	// SKU is the product a replenishment timer is about.
	SKU string `dynamodbav:"sku,omitempty" json:"sku,omitempty"`
	// ExpiresAt is when, with no later order, the points of a points
	// approval timer's customer expire (zero when they never do), or the
	// expiry a points expiry warning warns of (its timer, and a campaign's
	// wait after it: delay or quiet hours).
	ExpiresAt time.Time `dynamodbav:"expires_at,omitempty" json:"expires_at,omitzero"`
	// Reason is why it waits: "delay", "quiet_hours", "replenishment",
	// "birthday", ReasonPointsApproval or ReasonPointsExpiry.
	Reason string `dynamodbav:"reason" json:"reason"`
	// Status is "armed" until it fires or is cancelled.
	Status string `dynamodbav:"status" json:"status"`
}

// Timer statuses.
const (
	TimerArmed     = "armed"
	TimerFired     = "fired"
	TimerCancelled = "cancelled"
)

type timerItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
	TTL    int64  `dynamodbav:"ttl"`
	Timer
}

func timerPK(key string) string { return "TIMER#" + key }

// TimerShard is the due-index partition a timer key belongs to.
func TimerShard(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % TimerShards)
}

// DuePartition is the gsi1 partition of one shard of pending timers.
func DuePartition(shard int) string { return fmt.Sprintf("DUE#%02d", shard) }

// armedTimerItem is a timer's item while it waits: in the due index.
func armedTimerItem(t Timer) (map[string]types.AttributeValue, error) {
	t.Status = TimerArmed
	return marshalMap(timerItem{
		PK: timerPK(t.Key), SK: "TIMER",
		GSI1PK: DuePartition(TimerShard(t.Key)), GSI1SK: sortTime(t.DueAt) + "#" + t.Key,
		TTL: t.DueAt.Add(timerRetention).Unix(), Timer: t,
	})
}

// ArmTimer stores a pending timer unless one with its key exists (the same
// trigger seen twice arms one timer). It reports whether this call armed it.
func (s *Store) ArmTimer(ctx context.Context, t Timer) (bool, error) {
	item, err := armedTimerItem(t)
	if err != nil {
		return false, err
	}
	armed, err := s.putNew(ctx, item)
	if err != nil {
		return false, fmt.Errorf("arm timer %s: %w", t.Key, err)
	}
	return armed, nil
}

// FinishTimer moves an armed timer to a final status (fired or cancelled)
// and takes it out of the due index. It reports whether this call did it;
// false means someone else finished it first.
func (s *Store) FinishTimer(ctx context.Context, key, status string) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: timerPK(key)}, "sk": &types.AttributeValueMemberS{Value: "TIMER"}},
		UpdateExpression:          aws.String("SET #status = :final REMOVE gsi1pk, gsi1sk"),
		ConditionExpression:       aws.String("#status = :armed"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":final": &types.AttributeValueMemberS{Value: status}, ":armed": &types.AttributeValueMemberS{Value: TimerArmed}},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("finish timer %s: %w", key, err)
	}
	return true, nil
}

// GetTimer reads a timer; an unknown key returns ErrNotFound.
func (s *Store) GetTimer(ctx context.Context, key string) (Timer, error) {
	it, err := getDecoded[timerItem](ctx, s, timerPK(key), "TIMER")
	if err != nil {
		return Timer{}, fmt.Errorf("get timer %s: %w", key, err)
	}
	return it.Timer, nil
}

// DueTimers reads up to limit armed timers of one shard due at or before
// upTo, earliest first (access pattern 9: a Query of the sparse due index,
// which holds armed timers only, so every item read is a due timer).
func (s *Store) DueTimers(ctx context.Context, shard int, upTo time.Time, limit int) ([]Timer, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk <= :upTo"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: DuePartition(shard)},
			":upTo": &types.AttributeValueMemberS{Value: sortTime(upTo) + "#\uffff"},
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("read due timers of shard %d: %w", shard, err)
	}
	timers := make([]Timer, 0, len(out.Items))
	for _, item := range out.Items {
		var it timerItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode timer: %w", err)
		}
		timers = append(timers, it.Timer)
	}
	return timers, nil
}
