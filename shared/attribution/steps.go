package attribution

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the steps need of the store.
type Store interface {
	GetCoupon(ctx context.Context, code string) (store.Coupon, error)
	CustomerMessages(ctx context.Context, customerID string, since time.Time) ([]store.MessageRecord, error)
	RecordAttribution(ctx context.Context, a store.Attribution) (bool, error)
	ConvertAssignment(ctx context.Context, messageKey, orderID string, total int64, at time.Time) (store.Conversion, bool, error)
	TakeBackRefund(ctx context.Context, orderID, refundID string, amount int64, currency string) (store.Attribution, int64, bool, error)
	TakeBackCancellation(ctx context.Context, orderID string, at time.Time) (store.Attribution, int64, bool, error)
	AddCounts(ctx context.Context, pk, sk string, day time.Time, counts store.Counts) error
}

// Clicks lists a customer's clicks on campaign messages since a time
// (store.Store.CustomerClicks: the click redirect's records).
type Clicks interface {
	CustomerClicks(ctx context.Context, customerID string, since time.Time) ([]store.Click, error)
}

// Steps carries orders, refunds and cancellations out into attributions
// and counters. Nothing it does fails the order: a failure is logged and
// counted as the CounterUpdateFailed metric, and the nightly job can
// rebuild the figures. Every counter is added only after the write that
// recorded its event succeeded for the first time, so a retried or
// duplicated delivery adds nothing.
type Steps struct {
	Store Store
	// Clicks lists the click redirect's clicks; nil: only the clicks the
	// mail service reported on the message log attribute.
	Clicks Clicks
	Rules  *rules.Set
}

// Delivery is one delivery of an order, applied to the order and its
// customer's profile, as OrderApplied counts it.
type Delivery struct {
	// Order is the order as stored, Status its status after the delivery.
	Order  order.Order
	Status order.EventType
	// Created is true for an order.created delivery; At is when it happened.
	Created bool
	At      time.Time
	// Counts is what the delivery did to the shop's counters
	// (customer.Profile.OrderCounts).
	Counts customer.Counts
}

// OrderApplied counts what one applied delivery of an order did: the
// shop's counters and, for an order newly placed or created by this
// delivery (a retried one finishes what a failed attempt left), its
// attribution and the conversions of the customer's lift assignments; for
// a cancelled order, the attributed revenue taken back.
func (s *Steps) OrderApplied(ctx context.Context, d Delivery) {
	t := &store.Tally{}
	loc, c := s.Rules.Settings.Location, d.Counts
	err := s.placed(ctx, t, d.Order, d.Status, d.Created || c.Placed, c.Placed)
	if d.Status == order.Cancelled {
		err = errors.Join(err, s.cancelled(ctx, t, d.Order.ID, d.At))
	}
	for name, n := range c.Counts {
		t.Add(store.ShopStatsPartition, store.DayKey(c.Day, loc), c.Day, name, n)
	}
	if err = errors.Join(err, t.Write(ctx, s.Store.AddCounts)); err != nil {
		logging.CounterUpdateFailed(ctx, "order", err)
	}
}

// placed attributes a standing order and converts the assignments it
// concludes; redeemed coupons count for their campaigns when the order is
// new.
func (s *Steps) placed(ctx context.Context, t *store.Tally, o order.Order, status order.EventType, run, fresh bool) error {
	if !run || status == order.Cancelled || o.Customer == nil || !o.HasDetails() {
		return nil
	}
	m, loc := s.Rules.Settings.Measurement, s.Rules.Settings.Location
	coupons, err := s.coupons(ctx, o)
	if err != nil {
		return err
	}
	if fresh {
		for _, c := range coupons {
			t.Add(store.CampaignStatsPartition(c.CampaignID), store.CampaignStatsKey(o.PlacedAt, loc, c.Variant), o.PlacedAt, "coupons_redeemed", 1)
		}
	}
	since := o.PlacedAt.Add(-max(m.ConversionWindow, m.ClickWindow, m.ReceiveWindow))
	messages, err := s.Store.CustomerMessages(ctx, o.Customer.ID, since)
	if err != nil {
		return err
	}
	var clicks []store.Click
	if s.Clicks != nil && len(coupons) == 0 { // a coupon is owed the order whatever was clicked
		if clicks, err = s.Clicks.CustomerClicks(ctx, o.Customer.ID, o.PlacedAt.Add(-m.ClickWindow)); err != nil {
			return err
		}
	}
	// What the order came to, less what was refunded before it was
	// attributed (later refunds are taken back as they come).
	total := o.Spent()
	if o.Currency != s.Rules.Settings.Shop.Currency {
		total = 0 // counted as an order, not as revenue in the shop's currency
	}
	err = s.attribute(ctx, t, o, total, coupons, clicks, messages)
	return errors.Join(err, s.convert(ctx, t, o, total, messages))
}

// coupons are the tsunagu coupons the order redeemed.
func (s *Steps) coupons(ctx context.Context, o order.Order) ([]Coupon, error) {
	var out []Coupon
	for _, raw := range o.CouponCodes {
		c, err := s.Store.GetCoupon(ctx, coupon.Normalize(raw))
		if errors.Is(err, store.ErrNotFound) {
			continue // the shop's own code
		}
		if err != nil {
			return nil, err
		}
		if c.RedeemedOrder == o.ID && c.Campaign != "" {
			out = append(out, Coupon{Code: c.Code, CampaignID: c.Campaign, Variant: c.Variant})
		}
	}
	return out, nil
}

// attribute records the order's attribution once and counts it.
func (s *Steps) attribute(ctx context.Context, t *store.Tally, o order.Order, total int64, coupons []Coupon, clicks []store.Click, messages []store.MessageRecord) error {
	ch, ok := Attribute(o.PlacedAt, coupons, clicks, messages, s.Rules.Settings.Measurement)
	if !ok {
		return nil
	}
	first, err := s.Store.RecordAttribution(ctx, store.Attribution{OrderID: o.ID, CustomerID: o.Customer.ID, CampaignID: ch.CampaignID, Variant: ch.Variant,
		Via: ch.Via, MessageKey: ch.MessageKey, Code: ch.Code, Total: total, Currency: o.Currency, PlacedAt: o.PlacedAt})
	if err != nil || !first {
		return err
	}
	pk, sk := store.CampaignStatsPartition(ch.CampaignID), store.CampaignStatsKey(o.PlacedAt, s.Rules.Settings.Location, ch.Variant)
	t.Add(pk, sk, o.PlacedAt, "converted", 1)
	t.Add(pk, sk, o.PlacedAt, "revenue", total)
	return nil
}

// convert adds the order to every lift assignment of the customer whose
// conversion window it falls in, once per order: the assignment's first
// order counts converted_<group>, and each order its revenue, and the
// growth of the square of the customer's revenue in the window, on the day
// and variant of the assignment (and, for a campaign's groups, the global
// exposed group's).
func (s *Steps) convert(ctx context.Context, t *store.Tally, o order.Order, total int64, messages []store.MessageRecord) error {
	window, loc := s.Rules.Settings.Measurement.ConversionWindow, s.Rules.Settings.Location
	var errs []error
	for _, r := range messages {
		if r.Group == "" || r.ClaimedAt.After(o.PlacedAt) || o.PlacedAt.Sub(r.ClaimedAt) > window {
			continue
		}
		cv, ok, err := s.Store.ConvertAssignment(ctx, r.Key, o.ID, total, o.PlacedAt)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		add := func(campaignID, variant, group string) {
			pk, sk := store.CampaignStatsPartition(campaignID), store.CampaignStatsKey(cv.AssignedAt, loc, variant)
			if cv.First {
				t.Add(pk, sk, cv.AssignedAt, "converted_"+group, 1)
			}
			t.Add(pk, sk, cv.AssignedAt, "revenue_"+group, total)
			t.Add(pk, sk, cv.AssignedAt, "revenue_sq_"+group, cv.After*cv.After-cv.Before*cv.Before)
		}
		if cv.Group == store.GroupControl {
			add(cv.CampaignID, cv.Variant, store.GroupControl)
			continue
		}
		add(cv.CampaignID, cv.Variant, cv.Group)
		add(cv.CampaignID, cv.Variant, store.GroupExposed)
	}
	return errors.Join(errs...)
}

// cancelled takes what is left of a cancelled order's attributed revenue
// back, once, on the day it was counted.
func (s *Steps) cancelled(ctx context.Context, t *store.Tally, orderID string, at time.Time) error {
	a, amount, ok, err := s.Store.TakeBackCancellation(ctx, orderID, at)
	if ok && amount != 0 {
		s.takeBack(t, a, amount)
	}
	return err
}

// Refunded counts a refund the store has just recorded for the first
// time in the shop's counters (refunded: the amount, on the refund's day),
// and takes it out of the order's attributed revenue, once per refund id.
func (s *Steps) Refunded(ctx context.Context, orderID string, r order.Refund) {
	t := &store.Tally{}
	if r.Currency == s.Rules.Settings.Shop.Currency {
		t.Add(store.ShopStatsPartition, store.DayKey(r.At, s.Rules.Settings.Location), r.At, "refunded", r.Amount)
	}
	a, amount, ok, err := s.Store.TakeBackRefund(ctx, orderID, r.ID, r.Amount, r.Currency)
	if ok {
		s.takeBack(t, a, amount)
	}
	if err = errors.Join(err, t.Write(ctx, s.Store.AddCounts)); err != nil {
		logging.CounterUpdateFailed(ctx, "refund", fmt.Errorf("refund %s of order %s: %w", r.ID, orderID, err))
	}
}

// takeBack takes amount out of an attribution's revenue on its order's day.
func (s *Steps) takeBack(t *store.Tally, a store.Attribution, amount int64) {
	if a.Currency != s.Rules.Settings.Shop.Currency {
		return
	}
	t.Add(store.CampaignStatsPartition(a.CampaignID), store.CampaignStatsKey(a.PlacedAt, s.Rules.Settings.Location, a.Variant), a.PlacedAt, "revenue", -amount)
}
