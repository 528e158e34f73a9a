package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/rank"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Postback actions of the points programme: the rich menu's "ポイント確認"
// (action=points) and a reward's exchange button on the points card
// (action=redeem&reward=<id>).
const (
	postbackPoints = "points"
	postbackRedeem = "redeem"
)

// Ledger reads a customer's points ledger.
type Ledger interface {
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

// PointsDesk answers a linked customer's own points requests in the chat:
// a points card, and exchanges for rewards. These are replies to the
// customer, not marketing: no consent, cap or quiet hours applies.
type PointsDesk struct {
	Ledger    Ledger
	Redeemer  Redeemer
	Referrals ReferralCodes
	Rules     *rules.Set
	// PublicURL is the API's base URL, for the referral link.
	PublicURL string
}

// points answers a points postback of a LINE user: the card, or an
// exchange. A user not linked to a customer is invited to link.
func (h *Handler) points(ctx context.Context, ev event, action string, q url.Values) error {
	if h.Points == nil || h.Points.Rules.Loyalty == nil {
		slog.InfoContext(ctx, "line postback ignored", "reason", "no_points_programme")
		return nil
	}
	l, err := h.Store.GetLineLink(ctx, ev.userID)
	if errors.Is(err, store.ErrNotFound) {
		// One reply per event: the link invitation when the shop offers
		// the account link, else a word on why there is no card.
		if h.LoginURL != "" {
			h.inviteToLink(ctx, ev)
		} else {
			h.reply(ctx, ev, line.Text("ポイントをご確認いただくには、ショップのアカウントとLINEの連携が必要です。ショップのお問い合わせ先へご連絡ください。"))
		}
		return nil
	}
	if err != nil {
		return err
	}
	if action == postbackRedeem {
		return h.redeem(ctx, ev, l.CustomerID, q.Get("reward"))
	}
	ledger, err := h.Points.Ledger.Ledger(ctx, l.CustomerID)
	if err != nil {
		return err
	}
	var standing []rank.Standing
	if ranks := h.Points.Rules.Loyalty.Ranks; ranks != nil {
		p, err := h.Store.GetProfile(ctx, l.CustomerID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if st, ok := rank.StandingOf(ranks, h.Points.Rules.Settings.Shop.Currency, &p, ledger, ev.at); ok {
			standing = append(standing, st)
		}
	}
	h.reply(ctx, ev, h.Points.Card(l.CustomerID, loyalty.Summarize(h.Points.Rules.Loyalty, ledger), standing...))
	return nil
}

// redeem exchanges points for a reward once per LINE event (LINE's
// redelivery of the event finds the same spend) and replies with the
// coupon, or with why not.
func (h *Handler) redeem(ctx context.Context, ev event, customerID, rewardID string) error {
	res, err := h.Points.Redeemer.Redeem(ctx, redeem.Request{CustomerID: customerID, RewardID: rewardID, Key: "line:" + ev.id, At: ev.at})
	switch {
	case errors.Is(err, redeem.ErrNotEnoughPoints):
		h.reply(ctx, ev, line.Text(fmt.Sprintf("ポイントが足りません（ご利用いただけるポイント: %s pt）。確定待ちのポイントは返品期間が過ぎると使えます。", rules.Number(res.Balance.Approved))))
		return nil
	case errors.Is(err, redeem.ErrUnknownReward), errors.Is(err, redeem.ErrNoRewards):
		h.reply(ctx, ev, line.Text("この交換はいまは受け付けていません。ポイント確認からもう一度お選びください。"))
		return nil
	case err != nil:
		return err
	}
	c := res.Coupon
	loc := h.Points.Rules.Settings.Location
	text := fmt.Sprintf("%sに交換しました（%s pt）。\nクーポンコード: %s\n%s・%sまで有効\nご利用いただけるポイント: %s pt",
		c.Name, rules.Number(res.Reward.Points), c.Code, h.Points.Rules.Discount(c.PercentOff, c.AmountOff), c.ExpiresAt.In(loc).Format("2006年1月2日"), rules.Number(res.Balance.Approved))
	if c.MinOrder > 0 {
		text += "\n" + rules.Money(c.MinOrder, c.Currency) + "以上のご注文でお使いいただけます。"
	}
	h.reply(ctx, ev, line.Text(text))
	return nil
}

// Card is the points card (Flex): the balance, the member rank (when
// given), points pending and expiring, a button per reward the balance covers (an exchange
// postback), and the customer's referral link.
func (d *PointsDesk) Card(customerID string, s loyalty.Summary, standing ...rank.Standing) *messaging_api.FlexMessage {
	p, loc := d.Rules.Loyalty, d.Rules.Settings.Location
	body := []messaging_api.FlexComponentInterface{
		&messaging_api.FlexText{Text: "ポイント", Size: "sm", Color: "#777777"},
		&messaging_api.FlexText{Text: rules.Number(s.Approved) + " pt", Size: "xxl", Weight: messaging_api.FlexTextWEIGHT_BOLD},
	}
	for _, st := range standing {
		text := "会員ランク: " + st.Name
		if st.Next != "" {
			text += "（" + st.Next + "まで" + st.NextLabel + "）"
		}
		body = append(body, &messaging_api.FlexText{Text: text, Size: "sm", Wrap: true})
	}
	if s.Pending > 0 {
		body = append(body, &messaging_api.FlexText{Text: "確定待ち " + rules.Number(s.Pending) + " pt（返品期間が過ぎると使えます）", Size: "sm", Wrap: true})
	}
	if s.Expiring > 0 {
		body = append(body, &messaging_api.FlexText{Text: rules.Number(s.Expiring) + " pt は " + s.ExpiresAt.In(loc).Format("2006年1月2日") + " に失効します（ご注文で延長）", Size: "sm", Color: "#b04a3a", Wrap: true})
	}
	var buttons []messaging_api.FlexComponentInterface
	offers := p.Offers(s.Approved)
	for _, r := range offers {
		if s.Approved < r.Points || len(buttons) == 3 {
			continue
		}
		buttons = append(buttons, &messaging_api.FlexButton{Style: messaging_api.FlexButtonSTYLE_PRIMARY, Color: "#8a5a2b", Height: messaging_api.FlexButtonHEIGHT_SM,
			Action: &messaging_api.PostbackAction{Label: truncate(r.Name, 20), Data: "action=redeem&reward=" + url.QueryEscape(r.ID),
				DisplayText: r.Name + "に交換（" + rules.Number(r.Points) + " pt）"}})
	}
	if len(offers) > 0 && len(buttons) == 0 {
		body = append(body, &messaging_api.FlexText{Text: fmt.Sprintf("%s pt からクーポンに交換できます。", rules.Number(slices.MinFunc(offers, func(a, b rules.Reward) int { return cmp.Compare(a.Points, b.Points) }).Points)), Size: "sm", Wrap: true})
	}
	if d.Referrals != nil && d.Rules.Referral() != nil {
		link := d.PublicURL + "/r/ref/" + d.Referrals.Code(customerID)
		buttons = append(buttons, &messaging_api.FlexButton{Style: messaging_api.FlexButtonSTYLE_LINK, Height: messaging_api.FlexButtonHEIGHT_SM,
			Action: &messaging_api.UriAction{Label: "お友だちに紹介する", Uri: link}})
	}
	bubble := &messaging_api.FlexBubble{
		Body: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Spacing: "sm", Contents: body},
	}
	if len(buttons) > 0 {
		bubble.Footer = &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Spacing: "sm", Contents: buttons}
	}
	return &messaging_api.FlexMessage{AltText: "ポイント: " + rules.Number(s.Approved) + " pt", Contents: bubble}
}

// truncate cuts s to at most n characters (LINE's button labels allow 20).
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
