package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// SegmentStats are the whole-population figures the nightly segment job
// computes and the rules use: decile bounds of total spent and quintile
// bounds of the RFM inputs.
type SegmentStats struct {
	ComputedAt time.Time `dynamodbav:"computed_at"`
	Customers  int       `dynamodbav:"customers"`
	// Deciles are nine ascending bounds of total spent: a customer whose
	// spend reaches bound i is in decile i+2.
	Deciles [9]int64 `dynamodbav:"deciles"`
	// RecencyDays, FrequencyOrders and Monetary are the quintile bounds of
	// days since the last order, order count and total spent.
	RecencyDays     [4]int   `dynamodbav:"recency_days"`
	FrequencyOrders [4]int   `dynamodbav:"frequency_orders"`
	Monetary        [4]int64 `dynamodbav:"monetary"`
}

// SaveSegmentStats stores the latest figures.
func (s *Store) SaveSegmentStats(ctx context.Context, st SegmentStats) error {
	item, err := marshalMap(struct {
		PK string `dynamodbav:"pk"`
		SK string `dynamodbav:"sk"`
		SegmentStats
	}{"CONFIG#segments", "STATS", st})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("save segment stats: %w", err)
	}
	return nil
}

// SegmentStats reads the latest figures; found is false before the first
// nightly run.
func (s *Store) SegmentStats(ctx context.Context) (st SegmentStats, found bool, err error) {
	item, err := s.getItem(ctx, "CONFIG#segments", "STATS", time.Now())
	if err != nil || item == nil {
		return SegmentStats{}, false, err
	}
	if err := attributevalue.UnmarshalMap(item, &st); err != nil {
		return SegmentStats{}, false, fmt.Errorf("decode segment stats: %w", err)
	}
	return st, true, nil
}

// ScanProfiles reads every customer profile with a parallel Scan in
// segments (the nightly job's whole-population read; never used on a
// request or schedule path) and calls visit for each, from several
// goroutines at once.
func (s *Store) ScanProfiles(ctx context.Context, segments int, visit func(customer.Profile)) error {
	return s.ScanNightly(ctx, segments, time.Now(), visit, nil)
}

// ScanNightly is the nightly job's one parallel Scan in segments: it calls
// profile (when not nil) for every customer profile and source (when not
// nil) for every live item the campaign counters are counted from (message log
// entries, clicks, attributions, coupons; expired ones, as of now, are
// absent), from several goroutines at once. A Scan reads every item
// whatever its filter, so the sources cost no second pass; with sources
// the scan reads consistently (twice the read units), so that an event
// recorded before the scan is seen by it.
func (s *Store) ScanNightly(ctx context.Context, segments int, now time.Time, profile func(customer.Profile), source func(CounterSource)) error {
	var kinds []expression.OperandBuilder
	if profile != nil {
		kinds = append(kinds, expression.Value("PROFILE"))
	}
	if source != nil {
		for _, k := range counterSourceKinds {
			kinds = append(kinds, expression.Value(k))
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	cond := expression.Name("sk").Equal(kinds[0])
	if len(kinds) > 1 {
		cond = expression.Name("sk").In(kinds[0], kinds[1:]...)
	}
	filt, err := expression.NewBuilder().WithFilter(cond).Build()
	if err != nil {
		return fmt.Errorf("build nightly scan filter: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	for seg := range segments {
		g.Go(func() error {
			p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
				TableName: aws.String(s.table), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(segments)),
				FilterExpression: filt.Filter(), ExpressionAttributeNames: filt.Names(), ExpressionAttributeValues: filt.Values(),
				ConsistentRead: aws.Bool(source != nil),
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return fmt.Errorf("scan profiles, segment %d: %w", seg, err)
				}
				for _, item := range page.Items {
					sk, _ := item["sk"].(*types.AttributeValueMemberS)
					if sk != nil && sk.Value != "PROFILE" {
						if expired(item, now) {
							continue
						}
						src, err := decodeCounterSource(sk.Value, item)
						if err != nil {
							return err
						}
						source(src)
						continue
					}
					var it profileItem
					if err := attributevalue.UnmarshalMap(item, &it); err != nil {
						return fmt.Errorf("decode profile: %w", err)
					}
					profile(it.Profile)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
