package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DeliveryRetention is how long a finished delivery id is remembered. Shops
// retry for hours (Shopify: 48 hours); a month covers manual re-sends too.
const DeliveryRetention = 30 * 24 * time.Hour

func deliveryPK(source, id string) string { return "DELIVERY#" + source + "#" + id }

// DeliveryDone reports whether a delivery with this id finished before.
func (s *Store) DeliveryDone(ctx context.Context, source, id string, now time.Time) (bool, error) {
	item, err := s.getItem(ctx, deliveryPK(source, id), "DELIVERY", now)
	if err != nil {
		return false, fmt.Errorf("get delivery %s/%s: %w", source, id, err)
	}
	return item != nil, nil
}

// MarkDelivered records that a delivery finished. It returns false when
// another copy of the same delivery finished first: that copy's answer was
// the first one, and this one is a duplicate.
func (s *Store) MarkDelivered(ctx context.Context, source, id, eventType, orderID string, now time.Time) (bool, error) {
	return s.MarkDeliveredFor(ctx, source, id, eventType, orderID, now, DeliveryRetention)
}

// MarkDeliveredFor is MarkDelivered with the delivery remembered for
// retention instead of DeliveryRetention.
func (s *Store) MarkDeliveredFor(ctx context.Context, source, id, eventType, orderID string, now time.Time, retention time.Duration) (bool, error) {
	item := key(deliveryPK(source, id), "DELIVERY")
	item["event_type"] = &types.AttributeValueMemberS{Value: eventType}
	item["order_id"] = &types.AttributeValueMemberS{Value: orderID}
	item["done_at"] = timeValue(now)
	first, err := s.putOnce(ctx, item, retention, now)
	if err != nil {
		return false, fmt.Errorf("mark delivery %s/%s: %w", source, id, err)
	}
	return first, nil
}
