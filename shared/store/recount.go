package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MessageOutcome is a message log entry as the campaign counters are
// counted from it: the record, and what became of it that MessageRecord
// does not carry (when the mail service's latest outcome came, and an
// assignment's conversion and revenue in its window).
type MessageOutcome struct {
	MessageRecord
	// DeliveryAt is when the outcome in Delivery was reported.
	DeliveryAt time.Time `dynamodbav:"delivery_at"`
	// ConvertedAt is an assignment's first order in its conversion window,
	// WindowRevenue the sum of its orders' totals there.
	ConvertedAt   time.Time `dynamodbav:"converted_at"`
	WindowRevenue int64     `dynamodbav:"window_revenue"`
}

// CounterSource is one live item the campaign counters are counted from
// (exactly one field is set): a message log entry, a click, an order's
// attribution or a coupon.
type CounterSource struct {
	Message     *MessageOutcome
	Click       *Click
	Attribution *Attribution
	Coupon      *Coupon
}

// counterSourceKinds are the sort keys of the items CounterSource holds.
var counterSourceKinds = []string{"MESSAGE", "CLICK", "ATTRIBUTION", "COUPON"}

// decodeCounterSource decodes a scanned item with one of
// counterSourceKinds' sort keys.
func decodeCounterSource(sk string, item map[string]types.AttributeValue) (CounterSource, error) {
	var src CounterSource
	var err error
	switch sk {
	case "MESSAGE":
		src.Message, err = decodeAs[MessageOutcome](item)
	case "CLICK":
		src.Click, err = decodeAs[Click](item)
	case "ATTRIBUTION":
		src.Attribution, err = decodeAs[Attribution](item)
	case "COUPON":
		src.Coupon, err = decodeAs[Coupon](item)
	default:
		err = fmt.Errorf("unknown kind")
	}
	if err != nil {
		return src, fmt.Errorf("decode counter source %s: %w", sk, err)
	}
	return src, nil
}

func decodeAs[T any](item map[string]types.AttributeValue) (*T, error) {
	v := new(T)
	return v, attributevalue.UnmarshalMap(item, v)
}

// maxCorrectionsPerUpdate keeps one conditional correction inside
// DynamoDB's expression limits: each counter costs a name, a delta and the
// value it must still hold.
const maxCorrectionsPerUpdate = 30

// CorrectCounts adds delta to the counters of the stats item pk/sk (kept
// for day), on condition that each counter it changes still holds what
// stored says (absent or 0 for 0): a live writer's ADD that landed since
// stored was read makes it change nothing and report false, so a
// correction computed before that ADD never counts it twice. Up to 30
// counters go in one UpdateItem; each update is conditioned on its own
// counters, so a refused one leaves the others applied (it reports false).
func (s *Store) CorrectCounts(ctx context.Context, pk, sk string, day time.Time, stored, delta Counts) (bool, error) {
	if stored == nil {
		stored = Counts{}
	}
	return s.addCounts(ctx, pk, sk, day, delta, stored, maxCorrectionsPerUpdate)
}
