package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// OrderState is an order as stored: its details (once any delivery carried
// them) and the furthest lifecycle status any delivery reported.
type OrderState struct {
	Order    order.Order
	Status   order.EventType
	StatusAt time.Time
	// Recommend are the SKUs chosen, when the order arrived, to suggest
	// after it (the thank-you page picks the in-stock ones).
	Recommend []string
	// Change is what the delivery that ApplyOrderEvent merged did to the
	// order's status (its first attempt or this retry): empty when it
	// moved nothing.
	Change customer.Transition
	// NewRefund is set by RecordRefund when this call recorded the
	// refund's amount (it was not recorded before).
	NewRefund bool
	// refundIDs are the refunds recorded (RecordRefund).
	refundIDs []string
}

// Known reports whether the order's details are stored with a customer,
// whose profile counts the order.
func (o OrderState) Known() bool { return o.Order.Customer != nil }

// HasDetails reports whether the order's details (lines, total) are
// stored, with a customer or without one (a draft or point-of-sale order).
func (o OrderState) HasDetails() bool { return o.Order.HasDetails() }

type orderItem struct {
	PK          string          `dynamodbav:"pk"`
	SK          string          `dynamodbav:"sk"`
	GSI1PK      string          `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK      string          `dynamodbav:"gsi1sk,omitempty"`
	OrderID     string          `dynamodbav:"order_id"`
	CustomerID  string          `dynamodbav:"customer_id,omitempty"`
	Currency    string          `dynamodbav:"currency,omitempty"`
	Total       int64           `dynamodbav:"total"`
	PlacedAt    time.Time       `dynamodbav:"placed_at"`
	Items       []orderLineItem `dynamodbav:"items,omitempty"`
	CouponCodes []string        `dynamodbav:"coupon_codes,omitempty"`
	Recommend   []string        `dynamodbav:"recommend,omitempty"`
	Status      string          `dynamodbav:"status"`
	StatusRank  int             `dynamodbav:"status_rank"`
	StatusAt    time.Time       `dynamodbav:"status_at"`
	// StatusBy is the latest delivery (DeliveryKey) that changed what a
	// profile counts of the order: moved its status or brought its
	// details. StatusPrev is the status before it, and KnownPrev the
	// customer id the order had then (noStatus: none, so no profile had
	// counted the order).
	StatusPrev string `dynamodbav:"status_prev,omitempty"`
	StatusBy   string `dynamodbav:"status_by,omitempty"`
	KnownPrev  string `dynamodbav:"known_prev,omitempty"`
	// RevisedAt is when the shop last changed the order as stored
	// (sortTime, so string order is time order): a later revision's
	// total and lines replace these.
	RevisedAt string `dynamodbav:"revised_at,omitempty"`
	// RefundIDs are the refunds recorded, Refunded their sum in Currency,
	// and Revision counts the changes to the order's amounts (revisions
	// and refunds), so a profile takes the latest.
	RefundIDs []string `dynamodbav:"refund_ids,omitempty,stringset"`
	Refunded  int64    `dynamodbav:"refunded,omitempty"`
	Revision  int      `dynamodbav:"revision,omitempty"`
}

type orderLineItem struct {
	SKU       string `dynamodbav:"sku,omitempty"`
	Name      string `dynamodbav:"name"`
	Category  string `dynamodbav:"category,omitempty"`
	Brand     string `dynamodbav:"brand,omitempty"`
	UnitPrice int64  `dynamodbav:"unit_price"`
	Quantity  int    `dynamodbav:"quantity"`
	Kind      string `dynamodbav:"kind,omitempty"`
	ProductID string `dynamodbav:"product_id,omitempty"`
}

func lineItem(it order.Item) orderLineItem {
	return orderLineItem{SKU: it.SKU, Name: it.Name, Category: it.Category, Brand: it.Brand, UnitPrice: it.UnitPrice, Quantity: it.Quantity, Kind: string(it.Kind), ProductID: it.ProductID}
}

func (li orderLineItem) item() order.Item {
	return order.Item{SKU: li.SKU, Name: li.Name, Category: li.Category, Brand: li.Brand, UnitPrice: li.UnitPrice, Quantity: li.Quantity, Kind: order.ItemKind(li.Kind), ProductID: li.ProductID}
}

func orderPK(id string) string { return "ORDER#" + id }

// OrdersByDayPartition is the gsi1 partition holding the orders placed on a
// UTC calendar day, sorted by placement time.
func OrdersByDayPartition(day time.Time) string { return "ORDERS#" + day.UTC().Format(time.DateOnly) }

// ApplyOrderEvent merges one delivery into the stored order and returns the
// result. The status only moves forward (created < fulfilled < delivered <
// cancelled) and details (with the recommendations chosen for the order)
// are written once, by whichever delivery carries them first, so
// deliveries in any order and any number converge.
func (s *Store) ApplyOrderEvent(ctx context.Context, ev order.Event, recommend []string) (OrderState, error) {
	details, err := orderDetails(ev.Order, recommend)
	if err != nil {
		return OrderState{}, err
	}
	status := ev.Type.Status()
	rank := status.Rank()
	by := DeliveryKey(ev.Source, ev.DeliveryID)
	// Every operand is read from the item as it was before this update, so
	// status_prev takes the status being replaced.
	advance := expression.Set(expression.Name("order_id"), expression.Value(ev.Order.ID)).
		Set(expression.Name("status_prev"), expression.IfNotExists(expression.Name("status"), expression.Value(noStatus))).
		Set(expression.Name("known_prev"), expression.IfNotExists(expression.Name("customer_id"), expression.Value(noStatus))).
		Set(expression.Name("status_by"), expression.Value(by)).
		Set(expression.Name("status"), expression.Value(string(status))).
		Set(expression.Name("status_rank"), expression.Value(rank)).
		Set(expression.Name("status_at"), expression.Value(ev.OccurredAt.UTC().Format(time.RFC3339Nano)))
	for name, v := range details {
		advance = advance.Set(expression.Name(name), expression.IfNotExists(expression.Name(name), expression.Value(v)))
	}
	onlyForward := expression.AttributeNotExists(expression.Name("status_rank")).
		Or(expression.Name("status_rank").LessThan(expression.Value(rank)))
	st, applied, err := s.updateOrder(ctx, ev.Order.ID, by, advance, onlyForward)
	if err != nil || applied {
		return st, err
	}
	// The stored status is already as far or further. Fill in details if this
	// delivery is the first to carry them; otherwise read what is there.
	if len(details) > 0 {
		fill := expression.Set(expression.Name("status_by"), expression.Value(by)).
			Set(expression.Name("status_prev"), expression.Name("status")).
			Set(expression.Name("known_prev"), expression.Value(noStatus))
		for name, v := range details {
			fill = fill.Set(expression.Name(name), expression.Value(v))
		}
		// placed_at is in every order's details, with a customer or not.
		notYetKnown := expression.AttributeExists(expression.Name("pk")).And(expression.AttributeNotExists(expression.Name("placed_at")))
		if st, applied, err := s.updateOrder(ctx, ev.Order.ID, by, fill, notYetKnown); err != nil || applied {
			return st, err
		}
	}
	item, err := s.getItem(ctx, orderPK(ev.Order.ID), "ORDER", time.Now())
	if err != nil {
		return OrderState{}, fmt.Errorf("get order %s: %w", ev.Order.ID, err)
	}
	if item == nil {
		return OrderState{}, fmt.Errorf("get order %s: %w", ev.Order.ID, ErrNotFound)
	}
	return decodeOrder(item, by)
}

// noStatus is status_prev for an order the store had not seen.
const noStatus = "none"

// DeliveryKey is the short, stable name of one delivery (source and id)
// that the order and profile remember it by.
func DeliveryKey(source, deliveryID string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + deliveryID))
	return hex.EncodeToString(sum[:8])
}

// updateOrder applies a conditional update; applied is false when the
// condition did not hold.
func (s *Store) updateOrder(ctx context.Context, id, by string, update expression.UpdateBuilder, cond expression.ConditionBuilder) (st OrderState, applied bool, err error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return OrderState{}, false, fmt.Errorf("build order %s update: %w", id, err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(orderPK(id), "ORDER"),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return OrderState{}, false, nil
	}
	if err != nil {
		return OrderState{}, false, fmt.Errorf("update order %s: %w", id, err)
	}
	st, err = decodeOrder(out.Attributes, by)
	return st, err == nil, err
}

// GetOrder reads an order; an unknown order returns ErrNotFound.
func (s *Store) GetOrder(ctx context.Context, id string) (OrderState, error) {
	item, err := s.getItem(ctx, orderPK(id), "ORDER", time.Now())
	if err != nil {
		return OrderState{}, fmt.Errorf("get order %s: %w", id, err)
	}
	if item == nil {
		return OrderState{}, fmt.Errorf("get order %s: %w", id, ErrNotFound)
	}
	return decodeOrder(item, "")
}

// orderDetails returns the order's detail attributes by name, or nothing
// when the delivery carries no details.
func orderDetails(o order.Order, recommend []string) (map[string]types.AttributeValue, error) {
	if !o.HasDetails() {
		return nil, nil
	}
	it := orderItem{
		GSI1PK: OrdersByDayPartition(o.PlacedAt), GSI1SK: sortTime(o.PlacedAt) + "#" + o.ID,
		Currency: o.Currency, Total: o.Total, PlacedAt: o.PlacedAt.UTC(), CouponCodes: o.CouponCodes, Recommend: recommend,
	}
	if o.Customer != nil {
		it.CustomerID = o.Customer.ID
	}
	if !o.RevisedAt.IsZero() {
		it.RevisedAt = sortTime(o.RevisedAt)
	}
	for _, li := range o.Items {
		it.Items = append(it.Items, lineItem(li))
	}
	m, err := marshalMap(it)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"pk", "sk", "order_id", "status", "status_rank", "status_at", "status_prev", "status_by", "known_prev"} {
		delete(m, k)
	}
	return m, nil
}

// decodeOrder decodes an order item; by names the delivery being merged,
// whose change is reported when it was the one that moved the status.
func decodeOrder(item map[string]types.AttributeValue, by string) (OrderState, error) {
	var it orderItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return OrderState{}, fmt.Errorf("decode order: %w", err)
	}
	st := OrderState{Status: order.EventType(it.Status), StatusAt: it.StatusAt, Recommend: it.Recommend}
	if by != "" && it.StatusBy == by {
		st.Change = customer.Transition{Key: by}
		if it.KnownPrev != noStatus {
			st.Change.From = order.EventType(strings.TrimPrefix(it.StatusPrev, noStatus))
		}
	}
	st.Order = order.Order{ID: it.OrderID, Currency: it.Currency, Total: it.Total, PlacedAt: it.PlacedAt, CouponCodes: it.CouponCodes,
		Refunded: it.Refunded, Revision: it.Revision}
	st.refundIDs = it.RefundIDs
	if it.RevisedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, it.RevisedAt); err == nil {
			st.Order.RevisedAt = t
		}
	}
	if it.CustomerID != "" {
		st.Order.Customer = &order.Customer{ID: it.CustomerID}
	}
	for _, li := range it.Items {
		st.Order.Items = append(st.Order.Items, li.item())
	}
	return st, nil
}

// OrdersPlacedOn lists the orders placed on a UTC calendar day, in placement
// order (access pattern 8: a Query of gsi1, never a Scan).
func (s *Store) OrdersPlacedOn(ctx context.Context, day time.Time) ([]OrderState, error) {
	var out []OrderState
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: OrdersByDayPartition(day)},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list orders of %s: %w", day.Format(time.DateOnly), err)
		}
		for _, item := range page.Items {
			st, err := decodeOrder(item, "")
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}
