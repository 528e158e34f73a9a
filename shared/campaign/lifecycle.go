package campaign

import (
	"context"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// CancelOrderTimers cancels the waits an order armed (delays and quiet
// hours of campaigns triggered by its events, and its replenishment
// reminders), when the order is cancelled. Their keys are deterministic, so
// no index is needed; only waits the rules can arm are tried (no delay
// timer for a campaign without a delay, no reminder for an item without a
// replenishment cycle). A wait armed under rules since changed is left to
// fire: at fire time the decider skips a cancelled order anyway.
func (r *Runner) CancelOrderTimers(ctx context.Context, o order.Order) error {
	cid := o.Customer.ID
	var keys []string
	for _, c := range r.Rules.Campaigns {
		switch {
		case c.Trigger == rules.TriggerReplenishment:
			for _, it := range o.Products() {
				if _, ok := r.Rules.Settings.Replenishment.Cycle(it.SKU, it.Category); ok {
					keys = append(keys, TimerKey(c.ID, replenishKey(o.ID, it.SKU), cid, "replenishment"))
				}
			}
		case strings.HasPrefix(string(c.Trigger), "order.") && c.Trigger != rules.TriggerOrderCancelled:
			reasons := []string{"quiet_hours"}
			if !c.Delay.IsZero() {
				reasons = append(reasons, "delay")
			}
			for _, reason := range reasons {
				keys = append(keys, TimerKey(c.ID, "order:"+o.ID+":"+string(c.Trigger), cid, reason))
			}
		}
	}
	for _, key := range keys {
		if _, err := r.Store.FinishTimer(ctx, key, store.TimerCancelled); err != nil {
			return err
		}
	}
	return nil
}

func replenishKey(orderID, sku string) string { return "replenish:" + orderID + ":" + sku }

// ArmLifecycle arms the lifecycle timers a customer's state calls for: a
// replenishment reminder per consumable in a new order (when it runs out),
// and the next birthday. Keys are deterministic, so arming again (a retried
// delivery, the next order) changes nothing.
func (r *Runner) ArmLifecycle(ctx context.Context, p customer.Profile, o order.Order, now time.Time) error {
	settings := r.Rules.Settings
	for _, c := range r.Rules.Campaigns {
		if !c.IsActive(now) {
			continue
		}
		switch c.Trigger {
		case rules.TriggerReplenishment:
			for _, it := range o.Products() {
				cycle, ok := settings.Replenishment.Cycle(it.SKU, it.Category)
				if !ok {
					continue
				}
				tk := replenishKey(o.ID, it.SKU)
				if _, err := r.Store.ArmTimer(ctx, store.Timer{Key: TimerKey(c.ID, tk, p.ID, "replenishment"), DueAt: o.PlacedAt.Add(cycle), Campaign: c.ID,
					CustomerID: p.ID, Trigger: string(c.Trigger), TriggerKey: tk, OrderID: o.ID, SKU: it.SKU, Reason: "replenishment"}); err != nil {
					return err
				}
			}
		case rules.TriggerBirthday:
			next, ok := p.NextBirthday(now, settings.Location)
			if !ok {
				continue
			}
			tk := "birthday:" + p.ID + ":" + next.In(settings.Location).Format("2006")
			if _, err := r.Store.ArmTimer(ctx, store.Timer{Key: TimerKey(c.ID, tk, p.ID, "birthday"), DueAt: next, Campaign: c.ID,
				CustomerID: p.ID, Trigger: string(c.Trigger), TriggerKey: tk, Reason: "birthday"}); err != nil {
				return err
			}
		}
	}
	return nil
}
