package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
)

// Answers records survey answers (a *survey.Recorder).
type Answers interface {
	Record(ctx context.Context, ask survey.Ask, score int, comment string, now time.Time) error
}

// Surveys answers the quick-reply buttons of LINE surveys.
type Surveys struct {
	// Messages reads the survey message a button names.
	Messages interface {
		GetMessage(ctx context.Context, key string) (store.MessageRecord, error)
	}
	Answers Answers
	Rules   *rules.Set
}

// answerSurvey records the score a customer tapped under a LINE survey
// message: only for a survey message of their own, sent on LINE, within
// its time, with a score of its scale. A second tap changes the answer.
// The reply thanks them; a refused tap is logged and answered so.
func (h *Handler) answerSurvey(ctx context.Context, ev event, q url.Values) error {
	if h.Surveys == nil {
		slog.InfoContext(ctx, "line postback ignored", "reason", "no_surveys")
		return nil
	}
	l, err := h.Store.GetLineLink(ctx, ev.userID)
	if errors.Is(err, store.ErrNotFound) {
		slog.InfoContext(ctx, "line event for an unknown user", "type", ev.typ)
		return nil
	}
	if err != nil {
		return err
	}
	rec, err := h.Surveys.Messages.GetMessage(ctx, q.Get("m"))
	if errors.Is(err, store.ErrNotFound) {
		return h.refuseSurvey(ctx, ev, "unknown_message")
	}
	if err != nil {
		return err
	}
	scale := h.Surveys.scaleOf(rec.CampaignID)
	score, convErr := strconv.Atoi(q.Get("s"))
	lo, hi, ok := survey.Range(scale)
	switch {
	case rec.CustomerID != l.CustomerID || rec.Channel != "line":
		return h.refuseSurvey(ctx, ev, "not_this_customers_line_survey")
	case !ok:
		return h.refuseSurvey(ctx, ev, "not_a_survey")
	case convErr != nil || score < lo || score > hi:
		return h.refuseSurvey(ctx, ev, "score_out_of_range")
	case ev.at.Sub(rec.ClaimedAt) > survey.ValidFor:
		h.reply(ctx, ev, line.Text("このアンケートの回答期間は終わりました。ご協力ありがとうございました。"))
		return nil
	}
	ask := survey.Ask{MessageKey: rec.Key, CampaignID: rec.CampaignID, CustomerID: rec.CustomerID, OrderID: q.Get("o"), Scale: scale, SentAt: rec.ClaimedAt}
	if err := h.Surveys.Answers.Record(ctx, ask, score, "", ev.at); err != nil {
		return err
	}
	h.reply(ctx, ev, line.Text(fmt.Sprintf("ご回答ありがとうございました（%d）。いただいた声は品づくりとお届けの改善に役立てます。", score)))
	return nil
}

// refuseSurvey logs why a survey tap was not recorded and says so.
func (h *Handler) refuseSurvey(ctx context.Context, ev event, reason string) error {
	slog.WarnContext(ctx, "line survey answer refused", "reason", reason)
	h.reply(ctx, ev, line.Text("このアンケートにはお答えいただけませんでした。"))
	return nil
}

// scaleOf is the scale of a campaign's LINE survey ("" when it has none).
func (s *Surveys) scaleOf(campaignID string) string {
	c := s.Rules.Campaign(campaignID)
	if c == nil {
		return ""
	}
	for _, a := range c.Actions() {
		if a.Type == rules.ActionSurvey && a.OnLine() {
			return a.Scale
		}
	}
	return ""
}
