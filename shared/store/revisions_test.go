package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// draftEvent is an order with no customer (a draft or point-of-sale order)
// whose lines include a custom line and a gift card, as Shopify sends them.
func draftEvent(orderID string) order.Event {
	ev := createdEvent(orderID)
	ev.Order.Customer = nil
	ev.Order.RevisedAt = t0
	ev.Order.Items = append(ev.Order.Items,
		order.Item{Name: "名入れ加工", UnitPrice: 500, Quantity: 1, Kind: order.CustomLine},
		order.Item{Name: "ギフト券 3,000円", UnitPrice: 3000, Quantity: 1, Kind: order.GiftCardLine})
	ev.Order.Total = 7800
	return ev
}

func TestOrderWithoutCustomerKeepsItsDetails(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	ev := draftEvent("2001")
	st, err := s.ApplyOrderEvent(ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Known() || !st.HasDetails() || st.Order.Total != 7800 || len(st.Order.Items) != 3 {
		t.Fatalf("stored = %+v; want the lines and total kept, no customer", st)
	}
	got, err := s.GetOrder(ctx, "2001")
	if err != nil {
		t.Fatal(err)
	}
	if k := got.Order.Items[1].Kind; k != order.CustomLine || got.Order.Items[1].SKU != "" || got.Order.Items[2].Kind != order.GiftCardLine {
		t.Errorf("lines = %+v; want the custom line and the gift card kept as such, without SKU", got.Order.Items)
	}
	// A later delivery with details does not write them again.
	fulfilled := ev
	fulfilled.DeliveryID, fulfilled.Type, fulfilled.Order.Total = "d-f", order.Fulfilled, 1
	if st, err := s.ApplyOrderEvent(ctx, fulfilled, nil); err != nil || st.Order.Total != 7800 || st.Status != order.Fulfilled {
		t.Errorf("after fulfilled: %+v, %v", st, err)
	}
}

func TestReviseOrder(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	ev := draftEvent("2002")
	if _, err := s.ApplyOrderEvent(ctx, ev, nil); err != nil {
		t.Fatal(err)
	}
	edited := ev.Order
	edited.RevisedAt, edited.Total, edited.Items = t0.Add(time.Hour), 2150, ev.Order.Items[:1]
	tests := []struct {
		name      string
		o         order.Order
		applied   bool
		wantTotal int64
		revision  int
	}{
		{name: "a later edit replaces total and lines", o: edited, applied: true, wantTotal: 2150, revision: 1},
		{name: "the same edit again changes nothing", o: edited, applied: false, wantTotal: 2150, revision: 1},
		{name: "an older body changes nothing", o: ev.Order, applied: false, wantTotal: 2150, revision: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, applied, err := s.ReviseOrder(ctx, tt.o)
			if err != nil || applied != tt.applied {
				t.Fatalf("ReviseOrder = %v, %v; want %v", applied, err, tt.applied)
			}
			got, _ := s.GetOrder(ctx, "2002")
			if got.Order.Total != tt.wantTotal || got.Order.Revision != tt.revision || len(got.Order.Items) != 1 && tt.wantTotal == 2150 {
				t.Errorf("stored total %d, revision %d, %d lines; want %d, %d", got.Order.Total, got.Order.Revision, len(got.Order.Items), tt.wantTotal, tt.revision)
			}
		})
	}
	if _, applied, err := s.ReviseOrder(ctx, order.Order{ID: "unknown", RevisedAt: t0, Items: ev.Order.Items}); err != nil || applied {
		t.Errorf("revising an order never stored = %v, %v; want nothing done", applied, err)
	}
}

func TestRecordRefund(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	refund := order.Refund{ID: "r-1", Amount: 2150, Currency: "JPY", At: t0.Add(time.Hour)}
	// Before the order: kept on the order's item, counted once it arrives.
	st, err := s.RecordRefund(ctx, "2003", refund)
	if err != nil || st.Order.Refunded != 2150 || st.HasDetails() || st.Status != "" {
		t.Fatalf("refund before the order = %+v, %v", st, err)
	}
	if st, err = s.RecordRefund(ctx, "2003", refund); err != nil || st.Order.Refunded != 2150 || st.Order.Revision != 1 {
		t.Fatalf("the same refund again = refunded %d revision %d, %v; want it once", st.Order.Refunded, st.Order.Revision, err)
	}
	st, err = s.ApplyOrderEvent(ctx, createdEvent("2003"), nil)
	if err != nil || st.Order.Total != 4300 || st.Order.Refunded != 2150 || st.Order.Spent() != 2150 || st.Status != order.Created || !st.Known() {
		t.Fatalf("the order after its refund = %+v, %v", st, err)
	}
	second := order.Refund{ID: "r-2", Amount: 100, Currency: "JPY"}
	if st, err = s.RecordRefund(ctx, "2003", second); err != nil || st.Order.Refunded != 2250 || st.Order.Revision != 2 {
		t.Errorf("a second refund = refunded %d revision %d, %v", st.Order.Refunded, st.Order.Revision, err)
	}
	foreign := order.Refund{ID: "r-3", Amount: 5, Currency: "USD"}
	if _, err = s.RecordRefund(ctx, "2003", foreign); !errors.Is(err, ErrRefundCurrency) {
		t.Errorf("a refund in another currency = %v; want ErrRefundCurrency", err)
	}
	if st, err = s.RecordRefund(ctx, "2003", foreign); err != nil || st.Order.Refunded != 2250 {
		t.Errorf("the foreign refund again = refunded %d, %v; want it recorded once and never counted", st.Order.Refunded, err)
	}
}

func TestClaimLearning(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	if ok, err := s.ClaimLearning(ctx, "2004", t0); err != nil || ok {
		t.Fatalf("claim on an order never stored = %v, %v", ok, err)
	}
	if _, err := s.ApplyOrderEvent(ctx, draftEvent("2004"), nil); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if ok, err := s.ClaimLearning(ctx, "2004", t0); err != nil || ok != want {
			t.Errorf("claim %d = %v, %v; want %v", i+1, ok, err, want)
		}
	}
}
