package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ShopRedaction is a shop's request (Shopify's shop/redact, 48 hours after
// the shop uninstalled the app) to erase every customer's personal data.
// The webhook only records it; a job does the erasing.
type ShopRedaction struct {
	ShopID      string    `dynamodbav:"shop_id"`
	ShopDomain  string    `dynamodbav:"shop_domain"`
	RequestedAt time.Time `dynamodbav:"requested_at"`
	// FinishedAt is when the job finished (zero while pending).
	FinishedAt time.Time `dynamodbav:"finished_at,omitempty"`
	// Erased counts the customer profiles the job went through.
	Erased int `dynamodbav:"erased"`
}

type shopRedactionItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
	ShopRedaction
}

// pendingShopRedactions is the gsi1 partition of the shop redactions not
// finished yet: a sparse index, so the job reads only what is due.
const pendingShopRedactions = "SHOPREDACTS#PENDING"

func shopRedactionPK(shopID string) string { return "SHOPREDACT#" + shopID }

// RecordShopRedaction records a shop's redaction request as pending. A
// request already pending stays as it is (reported false); a finished one
// is asked for again (the shop installed the app again, then uninstalled
// it).
func (s *Store) RecordShopRedaction(ctx context.Context, r ShopRedaction) (bool, error) {
	r.RequestedAt, r.FinishedAt, r.Erased = r.RequestedAt.UTC(), time.Time{}, 0
	item, err := marshalMap(shopRedactionItem{PK: shopRedactionPK(r.ShopID), SK: "REQUEST",
		GSI1PK: pendingShopRedactions, GSI1SK: sortTime(r.RequestedAt) + "#" + r.ShopID, ShopRedaction: r})
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk) OR attribute_exists(finished_at)"),
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record shop redaction: %w", err)
	}
	return true, nil
}

// PendingShopRedactions lists the shop redactions not finished yet (a
// Query of the sparse gsi1 partition; nothing pending reads nothing).
func (s *Store) PendingShopRedactions(ctx context.Context) ([]ShopRedaction, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pending"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": &types.AttributeValueMemberS{Value: pendingShopRedactions}},
	})
	var out []ShopRedaction
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list pending shop redactions: %w", err)
		}
		for _, item := range page.Items {
			var it shopRedactionItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, fmt.Errorf("decode shop redaction: %w", err)
			}
			out = append(out, it.ShopRedaction)
		}
	}
	return out, nil
}

// GetShopRedaction reads a shop's redaction request; none is ErrNotFound.
func (s *Store) GetShopRedaction(ctx context.Context, shopID string) (ShopRedaction, error) {
	item, err := s.getItem(ctx, shopRedactionPK(shopID), "REQUEST", time.Now())
	if err != nil {
		return ShopRedaction{}, fmt.Errorf("get shop redaction: %w", err)
	}
	if item == nil {
		return ShopRedaction{}, fmt.Errorf("get shop redaction: %w", ErrNotFound)
	}
	var it shopRedactionItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return ShopRedaction{}, fmt.Errorf("decode shop redaction: %w", err)
	}
	return it.ShopRedaction, nil
}

// FinishShopRedaction marks a request done with the number of profiles
// erased, taking it out of the pending index. A request asked for again
// since (a later requested_at) is left pending.
func (s *Store) FinishShopRedaction(ctx context.Context, r ShopRedaction, erased int, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(shopRedactionPK(r.ShopID), "REQUEST"),
		UpdateExpression:    aws.String("SET finished_at = :at, erased = :erased REMOVE gsi1pk, gsi1sk"),
		ConditionExpression: aws.String("requested_at = :requested"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": timeValue(at), ":erased": intValue(int64(erased)), ":requested": timeValue(r.RequestedAt),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("finish shop redaction: %w", err)
	}
	return nil
}

// ScanCheckpoint is how far one scan segment of a shop redaction got, so
// that a job stopped part way (its time ran out, or it failed) goes on
// from there.
type ScanCheckpoint struct {
	// Segment is the parallel scan segment.
	Segment int `dynamodbav:"segment"`
	// LastPK and LastSK are the key the next page starts after (empty: the
	// segment's start).
	LastPK string `dynamodbav:"last_pk,omitempty"`
	LastSK string `dynamodbav:"last_sk,omitempty"`
	// Done is true once the whole segment was erased.
	Done bool `dynamodbav:"done"`
	// Erased counts the customer profiles of the segment erased so far
	// (each once, whether it still held personal data or not).
	Erased int `dynamodbav:"erased"`
}

type checkpointItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	// Run is the request's requested_at: a checkpoint of an earlier
	// request of the same shop counts for nothing.
	Run string `dynamodbav:"run"`
	ScanCheckpoint
}

func checkpointSK(segment int) string { return "SEGMENT#" + strconv.Itoa(segment) }

// ShopRedactionCheckpoint reads how far a segment of a request got (the
// zero checkpoint when it has not started).
func (s *Store) ShopRedactionCheckpoint(ctx context.Context, r ShopRedaction, segment int) (ScanCheckpoint, error) {
	item, err := s.getItem(ctx, shopRedactionPK(r.ShopID), checkpointSK(segment), time.Now())
	if err != nil {
		return ScanCheckpoint{}, fmt.Errorf("get shop redaction checkpoint: %w", err)
	}
	var it checkpointItem
	if item != nil {
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return ScanCheckpoint{}, fmt.Errorf("decode shop redaction checkpoint: %w", err)
		}
	}
	if item == nil || it.Run != sortTime(r.RequestedAt) {
		return ScanCheckpoint{Segment: segment}, nil
	}
	return it.ScanCheckpoint, nil
}

// SaveShopRedactionCheckpoint records how far a segment got.
func (s *Store) SaveShopRedactionCheckpoint(ctx context.Context, r ShopRedaction, cp ScanCheckpoint) error {
	item, err := marshalMap(checkpointItem{PK: shopRedactionPK(r.ShopID), SK: checkpointSK(cp.Segment), Run: sortTime(r.RequestedAt), ScanCheckpoint: cp})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("save shop redaction checkpoint: %w", err)
	}
	return nil
}

// EraseShopPage reads one page (at most limit items) of a parallel scan
// segment after the checkpoint and erases the personal data on it, as of
// at: each customer profile is erased as EraseCustomer does, and data
// exports, LINE links and account-link nonces (which name a LINE user)
// are deleted. It returns the checkpoint after the page. This is a job's
// whole-table read, never a request's.
func (s *Store) EraseShopPage(ctx context.Context, cp ScanCheckpoint, segments int, limit int32, at time.Time) (ScanCheckpoint, error) {
	in := &dynamodb.ScanInput{
		TableName: aws.String(s.table), Segment: aws.Int32(int32(cp.Segment)), TotalSegments: aws.Int32(int32(segments)), Limit: aws.Int32(limit),
		FilterExpression: aws.String("sk = :profile OR begins_with(pk, :export) OR begins_with(pk, :lineuser) OR begins_with(pk, :nonce)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":profile":  &types.AttributeValueMemberS{Value: "PROFILE"},
			":export":   &types.AttributeValueMemberS{Value: exportPrefix},
			":lineuser": &types.AttributeValueMemberS{Value: lineUserPK("")},
			":nonce":    &types.AttributeValueMemberS{Value: linkNoncePK("")},
		},
		ProjectionExpression: aws.String("pk, sk"),
	}
	if cp.LastPK != "" {
		in.ExclusiveStartKey = key(cp.LastPK, cp.LastSK)
	}
	page, err := s.db.Scan(ctx, in)
	if err != nil {
		return cp, fmt.Errorf("scan for shop redaction, segment %d: %w", cp.Segment, err)
	}
	for _, item := range page.Items {
		pk, _ := item["pk"].(*types.AttributeValueMemberS)
		sk, _ := item["sk"].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			continue
		}
		if id, ok := strings.CutPrefix(pk.Value, customerPK("")); ok && sk.Value == "PROFILE" {
			if _, err := s.EraseCustomer(ctx, id, at); err != nil {
				return cp, err
			}
			cp.Erased++
			continue
		}
		if err := s.deleteItem(ctx, pk.Value, sk.Value); err != nil {
			return cp, err
		}
	}
	cp.LastPK, cp.LastSK = "", ""
	if last := page.LastEvaluatedKey; len(last) > 0 {
		lpk, _ := last["pk"].(*types.AttributeValueMemberS)
		lsk, _ := last["sk"].(*types.AttributeValueMemberS)
		if lpk == nil || lsk == nil {
			return cp, fmt.Errorf("scan for shop redaction, segment %d: a last key without pk and sk", cp.Segment)
		}
		cp.LastPK, cp.LastSK = lpk.Value, lsk.Value
	} else {
		cp.Done = true
	}
	return cp, nil
}
