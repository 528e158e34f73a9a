package support

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// NotDelivered: an order fulfilled (shipped) support.not_delivered_after
// ago has not been reported delivered.
const NotDelivered = "not_delivered"

// WatchStore is what the delivery watch reads and arms (a *store.Store).
type WatchStore interface {
	ArmDeliveryWatch(ctx context.Context, customerID, orderID string, due time.Time) (bool, error)
	GetOrder(ctx context.Context, id string) (store.OrderState, error)
}

// Watch keeps an eye on shipped orders: a fulfilment arms a check After
// later, and the check opens a not-delivered case when the order was
// neither delivered nor cancelled by then.
type Watch struct {
	Store WatchStore
	Cases *Opener
	// After is support.not_delivered_after; zero watches nothing.
	After time.Duration
}

// Fulfilled arms the check of an order a delivery says was fulfilled at.
func (w *Watch) Fulfilled(ctx context.Context, o order.Order, status order.EventType, at time.Time) error {
	if w.After <= 0 || o.Customer == nil || status != order.Fulfilled {
		return nil
	}
	_, err := w.Store.ArmDeliveryWatch(ctx, o.Customer.ID, o.ID, at.Add(w.After))
	return err
}

// Check opens the not-delivered case of an order whose check is due at,
// unless it was delivered or cancelled meanwhile. Opening is idempotent.
func (w *Watch) Check(ctx context.Context, customerID, orderID string, at time.Time) error {
	st, err := w.Store.GetOrder(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // erased since
	}
	if err != nil {
		return err
	}
	if st.Status == order.Delivered || st.Status == order.Cancelled {
		return nil
	}
	days := int(w.After.Hours() / 24)
	return w.Cases.Open(ctx, store.Case{ID: NotDelivered + "#" + orderID, Cause: NotDelivered, CustomerID: customerID, OrderID: orderID,
		About: fmt.Sprintf("発送から%d日、配達完了の連絡がありません", days), At: at})
}
