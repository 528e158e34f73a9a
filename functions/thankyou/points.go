package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rank"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// pointsRoute exchanges points for a reward from the thank-you page.
const pointsRoute = "POST /thankyou/{orderId}/points"

// Points reads a customer's points ledger.
type Points interface {
	Ledger(ctx context.Context, customerID string) ([]loyalty.Movement, error)
}

// Redeemer exchanges approved points for a coupon (redeem.Redeemer).
type Redeemer interface {
	Redeem(ctx context.Context, req redeem.Request) (redeem.Result, error)
}

// ReferralCodes derives a customer's referral code (referral.Coder).
type ReferralCodes interface {
	Code(customerID string) string
}

// pointsOut is the points block of the widget's answer.
type pointsOut struct {
	// ThisOrder is what the order earned, pending until its return
	// window has passed.
	ThisOrder    int64       `json:"this_order"`
	Balance      int64       `json:"balance"`
	Pending      int64       `json:"pending"`
	Expiring     int64       `json:"expiring,omitempty"`
	ExpiresLabel string      `json:"expires_label,omitempty"`
	Rewards      []rewardOut `json:"rewards"`
	// RedeemURL takes {"reward": id, "request": id} (pointsRoute).
	RedeemURL string `json:"redeem_url,omitempty"`
	// Rank is the customer's member rank and what the next one takes;
	// omitted for a shop without ranks.
	Rank *rankOut `json:"rank,omitempty"`
}

// rankOut is the customer's member rank: its name, and the next rank's
// name and what it takes (label, e.g. "あと 12,000円"), empty at the top.
type rankOut struct {
	Name      string `json:"name"`
	Next      string `json:"next,omitempty"`
	NextLabel string `json:"next_label,omitempty"`
}

// rewardOut is one reward the customer may exchange points for.
type rewardOut struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Points     int64  `json:"points"`
	Label      string `json:"label"`
	Affordable bool   `json:"affordable"`
}

// referralOut is the customer's own referral link.
type referralOut struct {
	Code  string `json:"code"`
	Link  string `json:"link"`
	Offer string `json:"offer"`
}

// pointsView is the points block for the order's customer, from their
// ledger; nil for a shop without a points programme.
func (h *Handler) pointsView(st store.OrderState, profile *customer.Profile, ledger []loyalty.Movement, sig string) *pointsOut {
	p := h.Rules.Loyalty
	if p == nil {
		return nil
	}
	var mine []loyalty.Movement
	for _, m := range ledger {
		if m.OrderID == st.Order.ID && m.Kind != loyalty.Adjusted {
			mine = append(mine, m)
		}
	}
	earned := loyalty.BalanceOf(mine)
	sum := loyalty.Summarize(p, ledger)
	out := &pointsOut{ThisOrder: earned.Approved + earned.Pending, Balance: sum.Approved, Pending: sum.Pending, Expiring: sum.Expiring, Rewards: []rewardOut{}}
	if !sum.ExpiresAt.IsZero() {
		out.ExpiresLabel = sum.ExpiresAt.In(h.Rules.Settings.Location).Format("2006年1月2日") + "に失効"
	}
	for _, r := range p.Offers(sum.Approved) {
		out.Rewards = append(out.Rewards, rewardOut{ID: r.ID, Name: r.Name, Points: r.Points, Label: r.Label(h.Rules.Settings.Shop.Currency),
			Affordable: sum.Approved >= r.Points})
	}
	out.Rank = h.rankView(profile, ledger)
	if p.HasRewards() {
		out.RedeemURL = h.PublicURL + "/thankyou/" + url.PathEscape(st.Order.ID) + "/points?sig=" + sig
	}
	return out
}

// rankView is the customer's member rank and what the next one takes;
// nil for a shop without ranks.
func (h *Handler) rankView(profile *customer.Profile, ledger []loyalty.Movement) *rankOut {
	if profile == nil {
		profile = &customer.Profile{}
	}
	st, ok := rank.StandingOf(h.Rules.Loyalty.Ranks, h.Rules.Settings.Shop.Currency, profile, ledger, h.Now())
	if !ok {
		return nil
	}
	return &rankOut{Name: st.Name, Next: st.Next, NextLabel: st.NextLabel}
}

// referralView is the customer's referral link, for a shop with a
// referral programme.
func (h *Handler) referralView(customerID string) *referralOut {
	if h.Referrals == nil || h.Rules.Referral() == nil {
		return nil
	}
	code := h.Referrals.Code(customerID)
	friend, reward := h.Rules.Offer()
	return &referralOut{Code: code, Link: h.PublicURL + "/r/ref/" + code, Offer: "お友だちは初回" + friend + "、ご紹介いただいた方には" + reward}
}

// requestIDPattern is what the widget's request ids look like.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{8,64}$`)

// redeemPoints exchanges the order's customer's approved points for a
// reward, once per request id: from the shop's pages only (Origin), like
// the opt-in. 400 names a bad field, 409 says the points do not cover
// the reward; nothing is spent on either.
func (h *Handler) redeemPoints(ctx context.Context, req events.APIGatewayV2HTTPRequest, st store.OrderState) events.APIGatewayV2HTTPResponse {
	if !h.Rules.Loyalty.HasRewards() {
		return httpapi.Error(http.StatusNotFound, "this shop offers no rewards for points")
	}
	if origin := httpapi.Header(req, "Origin"); !httpapi.OriginAllowed(h.Rules.Settings.Thankyou.AllowedOrigins, origin) {
		slog.WarnContext(ctx, "points redemption refused: origin not allowed", "order_id", st.Order.ID, "origin_present", origin != "")
		return httpapi.Error(http.StatusForbidden, "points can be exchanged only from the shop's pages (Origin)")
	}
	var in struct {
		Reward  string `json:"reward"`
		Request string `json:"request"`
	}
	body, ok := httpapi.Body(req)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if !ok || len(body) > 1024 || dec.Decode(&in) != nil || dec.Decode(&struct{}{}) != io.EOF {
		return httpapi.Invalid([]order.FieldError{{Field: "body", Message: `must be one JSON object: {"reward": "<id>", "request": "<8-64 letters, digits or hyphens>"}`}})
	}
	var bad []order.FieldError
	if _, ok := h.Rules.Loyalty.RewardByID(in.Reward); !ok {
		bad = append(bad, order.FieldError{Field: "reward", Message: "is not a reward of this shop"})
	}
	if !requestIDPattern.MatchString(in.Request) {
		bad = append(bad, order.FieldError{Field: "request", Message: "must be 8-64 letters, digits or hyphens, the same for a retry"})
	}
	if len(bad) > 0 {
		return httpapi.Invalid(bad)
	}
	res, err := h.Redeemer.Redeem(ctx, redeem.Request{CustomerID: st.Order.Customer.ID, RewardID: in.Reward,
		Key: "thankyou:" + st.Order.ID + ":" + in.Request, At: h.Now()})
	switch {
	case errors.Is(err, redeem.ErrNotEnoughPoints):
		return httpapi.Error(http.StatusConflict, "not enough approved points for this reward (pending points cannot be used yet)")
	case err != nil:
		return httpapi.Unavailable(ctx, err, retryAfter)
	}
	c := res.Coupon
	out := couponOut{Code: c.Code, Name: c.Name, Discount: h.Rules.Discount(c.PercentOff, c.AmountOff), ExpiresAt: c.ExpiresAt,
		ExpiresLabel: c.ExpiresAt.In(h.Rules.Settings.Location).Format("2006年1月2日") + "まで有効"}
	if c.MinOrder > 0 {
		out.MinOrderLabel = rules.Money(c.MinOrder, c.Currency) + "以上のご注文で"
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"coupon": out, "balance": res.Balance.Approved})
}
