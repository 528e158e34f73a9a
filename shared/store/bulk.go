package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// ImportProfiles writes customer profiles in bulk (25 per BatchWriteItem,
// several batches at once), for bringing a shop's existing customers in. It
// overwrites: use it for customers not yet in the table.
func (s *Store) ImportProfiles(ctx context.Context, profiles []customer.Profile) error {
	items := make([]map[string]types.AttributeValue, 0, len(profiles))
	for _, p := range profiles {
		item, err := marshalMap(profileItem{PK: customerPK(p.ID), SK: "PROFILE", Version: 1, Profile: p})
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	return s.batchPut(ctx, items)
}

// ArmTimers stores timers in bulk, for arming a campaign over imported
// customers. Unlike ArmTimer it overwrites: use it for keys known to be new.
func (s *Store) ArmTimers(ctx context.Context, timers []Timer) error {
	items := make([]map[string]types.AttributeValue, 0, len(timers))
	for _, t := range timers {
		item, err := armedTimerItem(t)
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	return s.batchPut(ctx, items)
}

// batchPut writes items 25 at a time, eight batches at once, retrying
// unprocessed items with backoff.
func (s *Store) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for start := 0; start < len(items); start += 25 {
		var batch []types.WriteRequest
		for _, it := range items[start:min(start+25, len(items))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		g.Go(func() error {
			for attempt := 1; ; attempt++ {
				out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: batch}})
				if err != nil {
					return fmt.Errorf("batch write: %w", err)
				}
				if batch = out.UnprocessedItems[s.table]; len(batch) == 0 {
					return nil
				}
				if err := waitUnprocessed(ctx, attempt); err != nil {
					return fmt.Errorf("batch write of %d items: %w", len(batch), err)
				}
			}
		})
	}
	return g.Wait()
}

// batchAttempts bounds how often a batch request is sent while DynamoDB
// leaves some of its items unprocessed (throttling).
const batchAttempts = 11

// waitUnprocessed waits before sending again the items a batch request's
// attempt left unprocessed, longer after each attempt, and gives up after
// batchAttempts.
func waitUnprocessed(ctx context.Context, attempt int) error {
	if attempt >= batchAttempts {
		return errors.New("items still unprocessed after retries")
	}
	select {
	case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
