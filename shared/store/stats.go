package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Counts are the named counters of one stats item: what happened in one
// shop-zone day to one campaign variant, or to the shop as a whole.
type Counts map[string]int64

// Add adds every counter of o to c.
func (c Counts) Add(o Counts) {
	for name, n := range o {
		c[name] += n
	}
}

// StatsRetention is how long a stats item is kept after its day: two
// years, so a report can compare a period with the same one a year before.
const StatsRetention = 2 * 366 * 24 * time.Hour

// maxCountsPerUpdate keeps one counter update well inside DynamoDB's 4 KB
// expression limit (each counter costs a name and a value placeholder).
const maxCountsPerUpdate = 60

// Stats partitions. A campaign's counters are kept per day and variant
// (CampaignStatsKey); the shop's per day (ShopStatsKey).
const (
	campaignStatsPrefix = "STATS#CAMPAIGN#"
	// ShopStatsPartition holds the shop's daily counters and snapshots.
	ShopStatsPartition = "STATS#SHOP"
)

// CampaignStatsPartition is the partition of one campaign's counters.
func CampaignStatsPartition(campaignID string) string { return campaignStatsPrefix + campaignID }

// DayKey is the sort key of the stats of one shop-zone day: DAY#YYYY-MM-DD.
func DayKey(at time.Time, loc *time.Location) string {
	return "DAY#" + at.In(loc).Format(time.DateOnly)
}

// CampaignStatsKey is the sort key of one variant's counters on one day;
// a campaign without variants counts under "-".
func CampaignStatsKey(at time.Time, loc *time.Location, variant string) string {
	if variant == "" {
		variant = "-"
	}
	return DayKey(at, loc) + "#" + variant
}

// AddCounts adds counts to the stats item pk/sk, creating it when absent,
// in one UpdateItem per 60 counters (ADD is atomic, so concurrent
// functions adding to the same day never lose a count). Zero counters are
// left out. ADD is not idempotent: callers add once per event they
// recorded first with a conditional write, so a retried delivery that
// finds its event recorded adds nothing again.
func (s *Store) AddCounts(ctx context.Context, pk, sk string, day time.Time, counts Counts) error {
	_, err := s.addCounts(ctx, pk, sk, day, counts, nil, maxCountsPerUpdate)
	return err
}

// addCounts adds counts to the stats item pk/sk in updates of at most
// chunk counters. With stored, each update is conditioned on its counters
// still holding what stored says (absent or 0 for 0): a refused update
// changes nothing and makes it report false; the others are applied.
func (s *Store) addCounts(ctx context.Context, pk, sk string, day time.Time, counts, stored Counts, chunk int) (bool, error) {
	names := make([]string, 0, len(counts))
	for name, n := range counts {
		if n != 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	applied := true
	for part := range slices.Chunk(names, chunk) {
		attrNames := map[string]string{"#ttl": "ttl"}
		values := map[string]types.AttributeValue{":ttl": ttlValue(day.Add(StatsRetention))}
		adds, conds := make([]string, len(part)), make([]string, 0, len(part))
		for i, name := range part {
			n, v := fmt.Sprintf("#c%d", i), fmt.Sprintf(":c%d", i)
			attrNames[n] = name
			values[v] = &types.AttributeValueMemberN{Value: strconv.FormatInt(counts[name], 10)}
			adds[i] = n + " " + v
			if stored == nil {
				continue
			}
			was := fmt.Sprintf(":s%d", i)
			values[was] = &types.AttributeValueMemberN{Value: strconv.FormatInt(stored[name], 10)}
			cond := n + " = " + was
			if stored[name] == 0 {
				cond = "(attribute_not_exists(" + n + ") OR " + cond + ")"
			}
			conds = append(conds, cond)
		}
		in := &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       key(pk, sk),
			UpdateExpression:          aws.String("SET #ttl = :ttl ADD " + strings.Join(adds, ", ")),
			ExpressionAttributeNames:  attrNames,
			ExpressionAttributeValues: values,
		}
		if len(conds) > 0 {
			in.ConditionExpression = aws.String(strings.Join(conds, " AND "))
		}
		_, err := s.db.UpdateItem(ctx, in)
		if stored != nil && isConditionFailed(err) {
			applied = false
			continue
		}
		if err != nil {
			return false, fmt.Errorf("add counts to %s %s: %w", pk, sk, err)
		}
	}
	return applied, nil
}

// StatsBetween reads the stats items of partition pk whose sort keys lie
// between from and to (inclusive; "DAY#2026-12-01" to "DAY#2026-12-31~"
// takes every variant of December), keyed by sort key. Only the counters
// are returned (numbers other than ttl).
func (s *Store) StatsBetween(ctx context.Context, pk, from, to string) (map[string]Counts, error) {
	out := map[string]Counts{}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: from},
			":to":   &types.AttributeValueMemberS{Value: to},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read stats %s %s..%s: %w", pk, from, to, err)
		}
		for _, item := range page.Items {
			sk, _ := item["sk"].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			c := Counts{}
			for name, v := range item {
				if n, ok := v.(*types.AttributeValueMemberN); ok && name != "ttl" {
					if c[name], err = strconv.ParseInt(n.Value, 10, 64); err != nil {
						return nil, fmt.Errorf("read stats %s %s: counter %s: %w", pk, sk.Value, name, err)
					}
				}
			}
			out[sk.Value] = c
		}
	}
	return out, nil
}
