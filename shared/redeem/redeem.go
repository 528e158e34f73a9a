// Package redeem exchanges a customer's approved points for a single-use
// coupon (loyalty.yaml rewards:), for every channel that offers it: the
// thank-you page, LINE, the signed link in emails.
//
// Without transactions, two writes make a redemption, each converging on
// retries: the "spent" ledger movement, then the coupon. The movement's id
// is spent#<n>, n the customer's count of spends so far plus one, written
// only if absent: two redemptions racing for the same points race for the
// same id, and the loser reads the ledger again (now with the winner's
// spend) before it tries the next id. The movement names the request that
// made it, so a retried request finds its spend and issues (or returns)
// the same coupon, whose code is derived from the request.
package redeem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what a redemption needs of the store.
type Store interface {
	Ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error)
	PutMovement(ctx context.Context, m loyalty.Movement) (bool, error)
	IssueCoupon(ctx context.Context, c store.Coupon) (store.Coupon, bool, error)
}

// CouponCodes derives coupon codes (coupon.Coder).
type CouponCodes interface {
	Code(campaignID, triggerKey, customerID string) string
}

// CouponCampaign is the campaign id coupons bought with points are issued
// under, so their redemptions are reported apart.
const CouponCampaign = "points"

// The refusals a redemption answers with; nothing is spent.
var (
	// ErrNoRewards: the shop offers nothing for points.
	ErrNoRewards = errors.New("this shop offers no rewards for points")
	// ErrUnknownReward: no reward has the id asked for.
	ErrUnknownReward = errors.New("no such reward")
	// ErrNotEnoughPoints: the approved points do not cover the reward
	// (pending points cannot be spent).
	ErrNotEnoughPoints = errors.New("not enough approved points")
)

// Request is one redemption as a channel asks for it.
type Request struct {
	CustomerID string
	RewardID   string
	// Key identifies the request across retries (the channel's own: the
	// thank-you page's request id, LINE's webhook event id, the email
	// form's nonce), prefixed by the channel.
	Key string
	At  time.Time
}

// Result is a redemption done (or found done by an earlier try).
type Result struct {
	Reward rules.Reward
	Coupon store.Coupon
	// Balance is the customer's points after the spend.
	Balance loyalty.Balance
}

// Redeemer runs redemptions.
type Redeemer struct {
	Store   Store
	Coupons CouponCodes
	Rules   *rules.Set
}

// maxRaces bounds how often a redemption retries after losing a race for
// its spend's id to another redemption of the same customer.
const maxRaces = 5

// Redeem spends the reward's points and issues its coupon, once per
// request key. A refusal (ErrNoRewards, ErrUnknownReward,
// ErrNotEnoughPoints) spends nothing; other errors are the store's, and
// the request may be retried with the same key.
func (r *Redeemer) Redeem(ctx context.Context, req Request) (Result, error) {
	p := r.Rules.Loyalty
	if !p.HasRewards() {
		return Result{}, ErrNoRewards
	}
	reward, ok := p.RewardByID(req.RewardID)
	if !ok {
		return Result{}, ErrUnknownReward
	}
	for range maxRaces {
		ledger, err := r.Store.Ledger(ctx, req.CustomerID)
		if err != nil {
			return Result{}, fmt.Errorf("redeem %s: %w", req.RewardID, err)
		}
		spends := 0
		for _, m := range ledger {
			if m.Kind != loyalty.Spent {
				continue
			}
			spends++
			if m.Request == req.Key {
				// An earlier try spent: finish it, with the reward it paid for.
				if paid, ok := p.RewardByID(strings.TrimPrefix(m.Reason, "reward:")); ok {
					reward = paid
				}
				return r.issue(ctx, req, reward, m, ledger)
			}
		}
		balance := loyalty.BalanceOf(ledger)
		if balance.Approved < reward.Points {
			return Result{Balance: balance}, fmt.Errorf("%w: %d approved, the reward costs %d", ErrNotEnoughPoints, balance.Approved, reward.Points)
		}
		m := loyalty.Movement{CustomerID: req.CustomerID, Kind: loyalty.Spent, Reason: "reward:" + reward.ID, Ref: strconv.Itoa(spends + 1),
			Points: reward.Points, Request: req.Key, At: req.At.UTC()}
		written, err := r.Store.PutMovement(ctx, m)
		if err != nil {
			return Result{}, fmt.Errorf("redeem %s: %w", req.RewardID, err)
		}
		if written {
			slog.InfoContext(ctx, "points movement", "kind", m.Kind, "reason", m.Reason, "points", m.Points)
			return r.issue(ctx, req, reward, m, append(ledger, m))
		}
		// Another redemption took this spend's id: read again.
	}
	return Result{}, fmt.Errorf("redeem %s: %d concurrent redemptions of the same customer; try again", req.RewardID, maxRaces)
}

// issue issues the coupon a spend paid for (its code derived from the
// request, so issuing again returns the same coupon).
func (r *Redeemer) issue(ctx context.Context, req Request, reward rules.Reward, spent loyalty.Movement, ledger []loyalty.Movement) (Result, error) {
	c, first, err := r.Store.IssueCoupon(ctx, store.Coupon{
		Code: r.Coupons.Code(CouponCampaign, "redeem:"+req.Key, req.CustomerID), Campaign: CouponCampaign, CustomerID: req.CustomerID,
		TriggerKey: "redeem:" + req.Key, Name: reward.Name, AmountOff: reward.AmountOff, Currency: r.Rules.Settings.Shop.Currency,
		MinOrder: reward.MinOrder, IssuedAt: spent.At.UTC(), ExpiresAt: spent.At.Add(reward.ExpiresIn).UTC(),
	})
	if err != nil {
		return Result{}, fmt.Errorf("issue the coupon of reward %s: %w", reward.ID, err)
	}
	if first {
		slog.InfoContext(ctx, "points redeemed", "reward", reward.ID, "points", spent.Points)
	}
	return Result{Reward: reward, Coupon: c, Balance: loyalty.BalanceOf(ledger)}, nil
}
