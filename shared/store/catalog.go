package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

// Product is one catalog entry.
type Product struct {
	SKU      string `dynamodbav:"sku" json:"sku"`
	Name     string `dynamodbav:"name" json:"name"`
	Category string `dynamodbav:"category,omitempty" json:"category,omitempty"`
	Brand    string `dynamodbav:"brand,omitempty" json:"brand,omitempty"`
	Price    int64  `dynamodbav:"price" json:"price"`
	Currency string `dynamodbav:"currency" json:"currency"`
	URL      string `dynamodbav:"url" json:"url"`
	ImageURL string `dynamodbav:"image_url,omitempty" json:"image_url,omitempty"`
	InStock  bool   `dynamodbav:"in_stock" json:"in_stock"`
}

type productItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	UpdatedAt time.Time `dynamodbav:"updated_at"`
	Product
}

type categoryItem struct {
	PK   string   `dynamodbav:"pk"`
	SK   string   `dynamodbav:"sk"`
	SKUs []string `dynamodbav:"skus"`
}

func productPK(sku string) string       { return "PRODUCT#" + sku }
func categoryPK(category string) string { return "CATEGORY#" + category }
func affinityPK(sku string) string      { return "AFFINITY#" + sku }

// maxBatchGet is DynamoDB's limit of keys per BatchGetItem.
const maxBatchGet = 100

// ImportCatalog writes products (in BatchWriteItems) and rewrites each
// category's product list from them, in-stock products first. The products
// given are the whole catalog of their categories.
func (s *Store) ImportCatalog(ctx context.Context, products []Product, now time.Time) error {
	byCategory := map[string][]Product{}
	var items []map[string]types.AttributeValue
	for _, p := range products {
		item, err := marshalMap(productItem{PK: productPK(p.SKU), SK: "PRODUCT", UpdatedAt: now.UTC(), Product: p})
		if err != nil {
			return err
		}
		items = append(items, item)
		if p.Category != "" {
			byCategory[p.Category] = append(byCategory[p.Category], p)
		}
	}
	for c, ps := range byCategory {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].InStock && !ps[j].InStock })
		skus := make([]string, len(ps))
		for i, p := range ps {
			skus[i] = p.SKU
		}
		item, err := marshalMap(categoryItem{PK: categoryPK(c), SK: "PRODUCTS", SKUs: skus})
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	return s.batchPut(ctx, items)
}

// Catalog is what one BatchGetItem read of the catalog returned.
type Catalog struct {
	Products map[string]Product
	// Affinity holds, per SKU, the SKUs bought with or after it and how often.
	Affinity map[string]map[string]int
	// Categories holds each category's product SKUs, in-stock first.
	Categories map[string][]string
	// Profile is the customer's profile, when one was asked for and exists.
	Profile *customer.Profile
}

// CatalogQuery names what to read in one go.
type CatalogQuery struct {
	Products   []string
	Affinity   []string
	Categories []string
	// Customer, when set, also reads that customer's profile.
	Customer string
}

// ReadCatalog reads products, affinity lists, category lists and a profile
// with one BatchGetItem per 100 keys (one, in practice), retrying unprocessed
// keys. Missing items are simply absent from the result.
func (s *Store) ReadCatalog(ctx context.Context, q CatalogQuery) (Catalog, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	add := func(pk, sk string) {
		if !seen[pk] {
			seen[pk] = true
			keys = append(keys, key(pk, sk))
		}
	}
	for _, sku := range q.Products {
		add(productPK(sku), "PRODUCT")
	}
	for _, sku := range q.Affinity {
		add(affinityPK(sku), "AFFINITY")
	}
	for _, c := range q.Categories {
		add(categoryPK(c), "PRODUCTS")
	}
	if q.Customer != "" {
		add(customerPK(q.Customer), "PROFILE")
	}
	cat := Catalog{Products: map[string]Product{}, Affinity: map[string]map[string]int{}, Categories: map[string][]string{}}
	for len(keys) > 0 {
		n := min(maxBatchGet, len(keys))
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: keys[:n], ConsistentRead: aws.Bool(false)}}
		keys = keys[n:]
		for attempt := 1; ; attempt++ {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return Catalog{}, fmt.Errorf("read catalog: %w", err)
			}
			for _, item := range out.Responses[s.table] {
				if err := cat.add(item); err != nil {
					return Catalog{}, err
				}
			}
			if pending = out.UnprocessedKeys; len(pending[s.table].Keys) == 0 {
				break
			}
			if err := waitUnprocessed(ctx, attempt); err != nil {
				return Catalog{}, fmt.Errorf("read catalog: %w", err)
			}
		}
	}
	return cat, nil
}

func (c *Catalog) add(item map[string]types.AttributeValue) error {
	pk, _ := item["pk"].(*types.AttributeValueMemberS)
	if pk == nil {
		return nil
	}
	switch kind, id, _ := strings.Cut(pk.Value, "#"); kind {
	case "PRODUCT":
		var it productItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode product %s: %w", id, err)
		}
		c.Products[id] = it.Product
	case "CATEGORY":
		var it categoryItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode category %s: %w", id, err)
		}
		c.Categories[id] = it.SKUs
	case "AFFINITY":
		counts := map[string]int{}
		for name, v := range item {
			if other, ok := strings.CutPrefix(name, "n_"); ok {
				var n int
				if err := attributevalue.Unmarshal(v, &n); err == nil {
					counts[other] = n
				}
			}
		}
		c.Affinity[id] = counts
	case "CUSTOMER":
		var it profileItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return fmt.Errorf("decode profile %s: %w", id, err)
		}
		c.Profile = &it.Profile
	}
	return nil
}

// itemFull reports whether DynamoDB refused an update because the item
// would exceed 400 KB. DynamoDB gives it no code of its own (it is a
// ValidationException), so its message tells it from other refusals.
func itemFull(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationException" && strings.HasPrefix(api.ErrorMessage(), "Item size")
}

// affinityNamesPerUpdate bounds the counters one UpdateItem adds to, so
// its expression stays far below DynamoDB's 4 KB limit ("#n99 :one, " is
// 11 bytes).
const affinityNamesPerUpdate = 100

// LearnAffinity counts, for each SKU in from, that the customer also bought
// each SKU in to (together, or later). UpdateItems of at most
// affinityNamesPerUpdate counters add to each from SKU's item; the caller
// makes sure an order is learnt from once. A product whose item has
// reached DynamoDB's item size limit learns nothing more (logged), rather
// than failing the order.
func (s *Store) LearnAffinity(ctx context.Context, pairs map[string][]string) error {
	froms := make([]string, 0, len(pairs))
	for f := range pairs {
		froms = append(froms, f)
	}
	sort.Strings(froms)
	for _, from := range froms {
		for chunk := range slices.Chunk(pairs[from], affinityNamesPerUpdate) {
			var adds []string
			names := map[string]string{}
			for i, to := range chunk {
				alias := fmt.Sprintf("#n%d", i)
				names[alias] = "n_" + to
				adds = append(adds, alias+" :one")
			}
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(s.table),
				Key:                       key(affinityPK(from), "AFFINITY"),
				UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ")),
				ExpressionAttributeNames:  names,
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
			})
			if itemFull(err) {
				slog.WarnContext(ctx, "affinity item full", "sku", from)
				break
			}
			if err != nil {
				return fmt.Errorf("learn affinity of %s: %w", from, err)
			}
		}
	}
	return nil
}
