package survey

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/logging"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

// Store is what recording an answer needs of the store.
type Store interface {
	SaveSurveyAnswer(ctx context.Context, a store.SurveyAnswer) (int, string, error)
	UpdateProfile(ctx context.Context, id string, change func(*customer.Profile) bool) (customer.Profile, error)
	AddCounts(ctx context.Context, pk, sk string, day time.Time, counts store.Counts) error
}

// CaseOpener opens a support case (a *support.Opener).
type CaseOpener interface {
	Open(ctx context.Context, c store.Case) error
}

// Recorder records survey answers, from the answer page and from LINE's
// quick-reply buttons alike.
type Recorder struct {
	Store Store
	Cases CaseOpener
	// Location is the shop's zone, whose days the counters are kept by.
	Location *time.Location
}

// Record keeps the answer (one per survey message: a second one changes
// it), the shop's daily counters, the customer's latest NPS and, for an
// unhappy score, a support case: with the comment when there is one.
func (r *Recorder) Record(ctx context.Context, ask Ask, score int, comment string, now time.Time) error {
	// The customer's latest NPS first: its profile write also says the
	// stage the answer counts under (a CSAT answer only reads it).
	p, err := r.Store.UpdateProfile(ctx, ask.CustomerID, func(p *customer.Profile) bool {
		return ask.Scale == rules.ScaleNPS && p.RecordNPS(score, now)
	})
	if err != nil {
		return fmt.Errorf("record survey %s on the profile: %w", ask.MessageKey, err)
	}
	previous, stage, err := r.Store.SaveSurveyAnswer(ctx, store.SurveyAnswer{MessageKey: ask.MessageKey, CampaignID: ask.CampaignID, CustomerID: ask.CustomerID,
		OrderID: ask.OrderID, Scale: ask.Scale, Score: score, Comment: comment, Stage: string(p.Stage), At: now})
	if err != nil {
		return err
	}
	if change := ChangeByStage(ask.Scale, stage, previous, score); len(change) > 0 {
		// The shop's day of the answer; a changed answer moves from one
		// bucket to the other on the day it changes. A failed update never
		// fails the answer.
		if err := r.Store.AddCounts(ctx, store.ShopStatsPartition, store.DayKey(now, r.Location), now, change); err != nil {
			logging.CounterUpdateFailed(ctx, "survey", err)
		}
	}
	if Unhappy(ask.Scale, score) {
		id := "low_score#" + ask.MessageKey
		if comment != "" {
			id = "low_score_comment#" + ask.MessageKey
		}
		c := store.Case{ID: id, Cause: support.LowScore, CustomerID: ask.CustomerID, OrderID: ask.OrderID, CampaignID: ask.CampaignID,
			About: fmt.Sprintf("%s %d", strings.ToUpper(ask.Scale), score), Said: comment, At: now}
		if err := r.Cases.Open(ctx, c); err != nil {
			return err
		}
	}
	slog.InfoContext(ctx, "survey answered", "campaign", ask.CampaignID, "scale", ask.Scale, "score", score, "first", previous < 0, "comment", comment != "")
	return nil
}
