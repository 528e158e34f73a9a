package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// ReasonReferral is the reason of the points movement that rewards an
// advocate.
const ReasonReferral = "referral"

// CouponReward is the coupon that rewards an advocate, as the store
// issues it (COUPON#<code>, under the referral's own campaign id).
type CouponReward struct {
	Code, CustomerID, OrderID string
	Spec                      rules.CouponSpec
	Currency                  string
	IssuedAt, ExpiresAt       time.Time
}

// Rewards is what approval needs of the store: the referral, its move to
// rewarded, and the reward's single conditional write.
type Rewards interface {
	GetReferral(ctx context.Context, orderID string) (Referral, bool, error)
	SetReferralStatus(ctx context.Context, orderID string, from []Status, to Status, reason, reward string, at time.Time) (bool, error)
	PutMovement(ctx context.Context, m loyalty.Movement) (bool, error)
	IssueReferralCoupon(ctx context.Context, c CouponReward) (bool, error)
	// ArmRewardNotice arms, once per referred order, the timer that runs
	// the referral.reward_approved campaigns for its advocate.
	ArmRewardNotice(ctx context.Context, advocateID, orderID string, at time.Time) (bool, error)
}

// ErrNotApprovable means the referral is not one approval rewards: it is
// absent, refused, cancelled or in review (the shop decides first:
// Decide).
var ErrNotApprovable = errors.New("referral not pending")

// Approver rewards advocates.
type Approver struct {
	Store   Rewards
	Coupons *coupon.Coder
	Rules   *rules.Set
}

// CouponCampaign is the campaign id referral reward coupons are issued
// under, so reports and attribution tell them apart.
const CouponCampaign = "referral"

// Approve rewards the advocate of a pending referral (its order passed the
// return window; the caller's timer says when) and returns the referral
// as rewarded. It is idempotent: the status moves pending → rewarded by
// one conditional write, and the reward is one conditional write under an
// id derived from the order, so a retry, or a second Approve, issues
// nothing more. A referral that is not pending (in review, refused,
// cancelled, absent) returns ErrNotApprovable.
func (a *Approver) Approve(ctx context.Context, orderID string, now time.Time) (Referral, error) {
	p := a.Rules.Referral()
	if p == nil {
		return Referral{}, fmt.Errorf("approve referral %s: no referral programme", orderID)
	}
	r, found, err := a.Store.GetReferral(ctx, orderID)
	if err != nil {
		return r, fmt.Errorf("approve referral %s: %w", orderID, err)
	}
	from, reason := []Status{Pending}, ReasonWindowPassed
	switch {
	case !found:
		return r, fmt.Errorf("approve referral %s: %w", orderID, ErrNotApprovable)
	case r.Status == Rewarded:
		// Moved by an earlier attempt that may have stopped before the
		// reward: issue it again (a no-op when it was issued).
	case !slices.Contains(from, r.Status):
		return r, fmt.Errorf("approve referral %s (%s): %w", orderID, r.Status, ErrNotApprovable)
	default:
		r.Reward = a.rewardName(p, r)
		moved, err := a.Store.SetReferralStatus(ctx, orderID, from, Rewarded, reason, r.Reward, now)
		if err != nil {
			return r, fmt.Errorf("approve referral %s: %w", orderID, err)
		}
		if !moved { // changed meanwhile (cancelled, or another approval): look again
			return a.Approve(ctx, orderID, now)
		}
		r.Status, r.Reason, r.At = Rewarded, reason, now.UTC()
	}
	issued, err := a.issue(ctx, p, r)
	if err != nil {
		return r, fmt.Errorf("reward referral %s: %w", orderID, err)
	}
	if issued {
		// The kind only: a coupon's code is redeemable by whoever reads it.
		kind, _, _ := strings.Cut(r.Reward, ":")
		slog.InfoContext(ctx, "referral rewarded", "order_id", orderID, "advocate_id", r.AdvocateID, "reward", kind)
	}
	if a.Rules.Listens(rules.TriggerReferralRewarded, now) {
		// The advocate is told by the sender, on the next tick: the
		// reward is written first, so the message can show it.
		if _, err := a.Store.ArmRewardNotice(ctx, r.AdvocateID, orderID, now); err != nil {
			return r, fmt.Errorf("reward referral %s: %w", orderID, err)
		}
	}
	return r, nil
}

// rewardName says what the reward of a referral is.
func (a *Approver) rewardName(p *rules.Referral, r Referral) string {
	if p.AdvocateCoupon != nil {
		return "coupon:" + a.couponCode(r)
	}
	return "points:" + strconv.FormatInt(p.AdvocatePoints, 10)
}

func (a *Approver) couponCode(r Referral) string {
	return a.Coupons.Code(CouponCampaign, "referral:"+r.OrderID, r.AdvocateID)
}

// issue writes the advocate's reward once: a points movement (adjusted,
// reason referral, ref the order) or a coupon whose code is derived from
// the order. Times come from the referral, so a retry writes the same.
// The reward recorded with the referral decides (the rules may have
// changed since).
func (a *Approver) issue(ctx context.Context, p *rules.Referral, r Referral) (bool, error) {
	code, points, err := r.Issued()
	switch {
	case err != nil:
		return false, err
	case code != "" && p.AdvocateCoupon != nil:
		c := p.AdvocateCoupon
		return a.Store.IssueReferralCoupon(ctx, CouponReward{Code: code, CustomerID: r.AdvocateID, OrderID: r.OrderID, Spec: *c,
			Currency: a.Rules.Settings.Shop.Currency, IssuedAt: r.At, ExpiresAt: r.At.Add(c.ExpiresIn)})
	case points > 0:
		return a.Store.PutMovement(ctx, loyalty.Movement{CustomerID: r.AdvocateID, Kind: loyalty.Adjusted, OrderID: r.OrderID, Reason: ReasonReferral,
			Ref: "referral:" + r.OrderID, Points: points, At: r.At})
	}
	return false, fmt.Errorf("recorded reward %q: the rules no longer offer it", r.Reward)
}

// Issued reads the reward recorded with a referral (rewardName): a
// coupon's code, or points; both empty before it is rewarded.
func (r Referral) Issued() (couponCode string, points int64, err error) {
	kind, value, _ := strings.Cut(r.Reward, ":")
	switch kind {
	case "coupon":
		return value, 0, nil
	case "points":
		points, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return "", 0, fmt.Errorf("recorded reward %q: %w", r.Reward, err)
		}
		return "", points, nil
	}
	return "", 0, nil
}

// StatusMover moves a referral's status conditionally.
type StatusMover interface {
	SetReferralStatus(ctx context.Context, orderID string, from []Status, to Status, reason, reward string, at time.Time) (bool, error)
}

// ErrNotInReview means the shop decided on a referral that is not in
// review.
var ErrNotInReview = errors.New("referral not in review")

// Decide records the shop's decision on a referral in review: approved,
// it becomes pending (reason approved_by_shop) and is rewarded like any
// other once its order passes the return window; rejected, it is refused
// (rejected_by_shop). One conditional write; a referral not in review
// returns ErrNotInReview.
func Decide(ctx context.Context, st StatusMover, orderID string, approve bool, now time.Time) (Status, error) {
	to, reason := Refused, ReasonRejectedByShop
	if approve {
		to, reason = Pending, ReasonApprovedByShop
	}
	moved, err := st.SetReferralStatus(ctx, orderID, []Status{Review}, to, reason, "", now)
	if err != nil {
		return "", fmt.Errorf("decide referral %s: %w", orderID, err)
	}
	if !moved {
		return "", fmt.Errorf("decide referral %s: %w", orderID, ErrNotInReview)
	}
	return to, nil
}
