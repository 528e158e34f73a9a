package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// shopifyOrderOf is an orders/create body with n line items, each a
// different product, in as few bytes as Shopify's fields allow (so that
// even 2,000 lines fit the 256 KiB body limit).
func shopifyOrderOf(id, n int) []byte {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"sku":"B%04d","name":"茶%d","price":"1","quantity":1}`, i, i)
	}
	return []byte(fmt.Sprintf(`{"id":%d,"email":"bulk@example.jp","created_at":"2026-11-21T09:30:00+09:00","currency":"JPY","total_price":"%d",
"customer":{"id":77001,"email":"bulk@example.jp","first_name":"一郎","last_name":"大口"},
"line_items":[%s],"discount_codes":[]}`, id, n, strings.Join(lines, ",")))
}

// genericOrderOf is a generic order.created with n different products.
func genericOrderOf(deliveryID, orderID string, n int) []byte {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"sku":"MIX-%04d","name":"詰め合わせ %d","category":"sweets","price":100,"quantity":1}`, i, i)
	}
	return []byte(fmt.Sprintf(`{"id":%q,"type":"order.created","occurred_at":"2026-11-21T09:30:00+09:00",
"order":{"id":%q,"currency":"JPY","total":%d,"customer":{"id":"c-mix","email":"mix@example.jp","accepts_marketing":false},
"items":[%s]}}`, deliveryID, orderID, n*100, strings.Join(items, ",")))
}

// Orders as large as a shop can send are stored and answered at once
// (DynamoDB's request limits hold: the test client refuses what AWS would);
// larger ones get a 400 naming the lines, and nothing is stored.
func TestLargeOrders(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		shopify  bool
		status   int
		badField string
		firstSKU string
	}{
		{"generic order of 500 products (the schema's most)", genericOrderOf("evt-500", "L-500", 500), false, http.StatusOK, "", "MIX-0000"},
		{"Shopify order of 1,000 lines", shopifyOrderOf(6001, order.MaxLines), true, http.StatusOK, "", "B0000"},
		{"Shopify order of 2,000 lines", shopifyOrderOf(6002, 2000), true, http.StatusBadRequest, "line_items", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			req := genericRequest(tt.body)
			if tt.shopify {
				req = shopifyRequest("orders/create", "wh-"+tt.name, tt.body)
			}
			before := testenv.Snapshot(t, e.table)
			resp, err := e.h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.badField != "" {
				var a answerBody
				if err := json.Unmarshal([]byte(resp.Body), &a); err != nil || len(a.Fields) != 1 || a.Fields[0].Field != tt.badField {
					t.Errorf("answer %.300s: want one bad field %s", resp.Body, tt.badField)
				}
				if changed := testenv.Changed(before, testenv.Snapshot(t, e.table)); len(changed) > 0 {
					t.Errorf("a refused order changed %d items", len(changed))
				}
				return
			}
			var a answerBody
			if err := json.Unmarshal([]byte(resp.Body), &a); err != nil || !a.Accepted {
				t.Fatalf("answer %.300s", resp.Body)
			}
			// What the order teaches is learnt, from its first products.
			cat, err := e.store.ReadCatalog(context.Background(), store.CatalogQuery{Affinity: []string{tt.firstSKU}})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cat.Affinity[tt.firstSKU]); got != 19 {
				t.Errorf("%s was bought with %d products, want 19 (the first 20 products teach)", tt.firstSKU, got)
			}
		})
	}
}

// A profile stays bounded however many orders its customer places, through
// the real webhook, and its figures stay exact.
func TestManyOrdersOneCustomer(t *testing.T) {
	e := newEnv(t)
	const n = customer.MaxRecentOrders + 50
	for i := range n {
		id := fmt.Sprintf("M%04d", i)
		body := []byte(fmt.Sprintf(`{"id":"evt-%s","type":"order.created","occurred_at":"2026-11-21T09:30:00+09:00",
"order":{"id":%q,"currency":"JPY","total":1000,"customer":{"id":"c-regular","email":"regular@example.jp","accepts_marketing":false},
"items":[{"sku":"TEA-%d","name":"煎茶","category":"tea","price":1000,"quantity":1}]}}`, id, id, i%7))
		if resp, err := e.h.Handle(context.Background(), genericRequest(body)); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("order %d: %v %d %.200s", i, err, resp.StatusCode, resp.Body)
		}
	}
	cancel := []byte(`{"id":"evt-cancel-first","type":"order.cancelled","occurred_at":"2026-11-21T10:30:00+09:00","order":{"id":"M0000"}}`)
	if resp, err := e.h.Handle(context.Background(), genericRequest(cancel)); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %v %d %.200s", err, resp.StatusCode, resp.Body)
	}
	p, err := e.store.GetProfile(context.Background(), "c-regular")
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != n-1 || p.TotalSpent != int64(n-1)*1000 || len(p.Orders) > customer.MaxRecentOrders {
		t.Errorf("count %d spent %d listed %d, want %d %d at most %d", p.OrderCount, p.TotalSpent, len(p.Orders), n-1, (n-1)*1000, customer.MaxRecentOrders)
	}
}

// failProfileWrites makes every write of a customer profile fail with an
// error code, as DynamoDB fails a request.
func failProfileWrites(code string) func(*dynamodb.Options) {
	fail := func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if put, ok := in.Parameters.(*dynamodb.PutItemInput); ok {
			if sk, ok := put.Item["sk"].(*types.AttributeValueMemberS); ok && sk.Value == "PROFILE" {
				return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: code, Message: "refused in the test"}
			}
		}
		return next.HandleInitialize(ctx, in)
	}
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("FailProfileWrites", fail), middleware.Before)
		})
	}
}

// A signed order the database refuses for good (here: the profile write,
// as DynamoDB refuses an item over 400 KB) is answered 400, not a 503 the
// shop would retry for days, and the refusal is recorded for the operator;
// an outage still answers 503.
func TestPermanentFailureAnswered(t *testing.T) {
	tests := []struct {
		name     string
		code     string
		status   int
		recorded int
	}{
		{"item too large", "ValidationException", http.StatusBadRequest, 1},
		{"throttled", "ProvisionedThroughputExceededException", http.StatusServiceUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, testenv.DynamoDB(failProfileWrites(tt.code)), testenv.SES())
			resp, err := e.h.Handle(context.Background(), genericRequest(genericBody("evt-refused", "order.created", "R-1", "refused@example.jp", false)))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, resp.Body)
			}
			got, err := e.store.RejectionsOn(context.Background(), fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.recorded {
				t.Fatalf("%d rejections recorded, want %d", len(got), tt.recorded)
			}
			if tt.recorded > 0 {
				r := got[0]
				if r.Source != "generic" || r.DeliveryID != "evt-refused" || r.OrderID != "R-1" || !strings.Contains(r.Reason, "ValidationException") || !r.At.Equal(fixedNow) {
					t.Errorf("rejection %+v", r)
				}
				if strings.Contains(fmt.Sprintf("%+v", r), "refused@example.jp") {
					t.Error("the rejection record carries the address")
				}
			}
		})
	}
}
