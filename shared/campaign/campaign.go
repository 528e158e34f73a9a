// Package campaign runs the marketer's campaigns for one trigger (an order
// event, a thank-you page view, a timer firing): it decides per campaign
// whether the customer gets the message (Decider), records every decision,
// and renders and sends what is due (Runner).
//
// Every message has a deterministic key (campaign, action, trigger
// occurrence, customer), claimed in the message log before it is sent, so a
// retried or duplicated trigger never sends twice.
//
// By part: decide.go decides (pure: consent, audience, caps, quiet hours),
// actions.go carries a decision out (timers, coupons, review requests, the
// message data), send.go sends an email or a LINE message under its claim,
// record.go records how a send ended, counters.go counts what was decided
// and sent (lift groups, the global control), lifecycle.go arms and
// cancels the waits an order starts, and campaign.go holds the runner and
// its keys.
package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// Store is what the runner needs of the store.
type Store interface {
	ClaimMessage(ctx context.Context, rec store.MessageRecord, now time.Time) (bool, store.MessageRecord, error)
	FinishMessage(ctx context.Context, rec store.MessageRecord, status store.MessageStatus, reason, providerID string, now time.Time) error
	RecordSkipped(ctx context.Context, rec store.MessageRecord, reason string, now time.Time) error
	RecordDecision(ctx context.Context, rec store.MessageRecord, status store.MessageStatus, reason string, now time.Time) (bool, error)
	RecentSends(ctx context.Context, customerID string) ([]store.Send, error)
	ReserveSend(ctx context.Context, customerID string, send store.Send, keep time.Duration, check store.CapCheck) (string, error)
	ArmTimer(ctx context.Context, t store.Timer) (bool, error)
	FinishTimer(ctx context.Context, key, status string) (bool, error)
	IssueCoupon(ctx context.Context, c store.Coupon) (store.Coupon, bool, error)
	ReserveLineBudget(ctx context.Context, campaignID, month string, budget int, messageKey string) (bool, error)
	ReleaseLineBudget(ctx context.Context, campaignID, month, messageKey string) (bool, error)
	ClaimReviewRequest(ctx context.Context, customerID, sku, messageKey string, at time.Time, otherKeys ...string) (bool, string, error)
	ClaimSurvey(ctx context.Context, customerID, messageKey string, at time.Time, interval time.Duration) (bool, error)
	SuppressionOf(ctx context.Context, email string) (store.Suppression, error)
	AddCounts(ctx context.Context, pk, sk string, day time.Time, counts store.Counts) error
}

// ProductReviews reads a product's review aggregate (a *store.Store).
type ProductReviews interface {
	GetProductReviews(ctx context.Context, sku string) (store.ProductReviews, error)
}

// Mailer sends one rendered email.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// LineSender pushes LINE messages: the Messaging API, or a dry-run
// recorder when no channel token is configured.
type LineSender interface {
	Push(ctx context.Context, userID string, msgs []messaging_api.MessageInterface, retryKey string) (line.Result, error)
}

// UnsubscribeLinks makes a customer's unsubscribe link for a channel,
// and one that also names the message it is in.
type UnsubscribeLinks interface {
	URL(baseURL, customerID, channel string) string
	RecipientURL(baseURL string, r unsubscribe.Recipient) string
}

// ClickLinks makes the link tracker of one message (clicks.Sealer).
type ClickLinks interface {
	Tracker(m clicks.Message) func(rawURL string) string
}

// SurveyLinks makes the one-tap score links of a survey message
// (survey.Sealer).
type SurveyLinks interface {
	Link(a survey.Ask) func(score int) string
}

// ReviewFormLinks makes the links of one product's review form
// (review.FormSealer).
type ReviewFormLinks interface {
	Link(a review.FormAsk) func(rating int) string
}

// CouponCodes derives the code of a campaign's coupon for one trigger
// occurrence and customer.
type CouponCodes interface {
	Code(campaignID, triggerKey, customerID string) string
}

// ReferralCodes derives a customer's referral code (referral.Coder).
type ReferralCodes interface {
	Code(customerID string) string
}

// Runner runs campaigns. Its fields are set once at cold start.
type Runner struct {
	Decider
	Store       Store
	Mailer      Mailer
	Line        LineSender
	Unsubscribe UnsubscribeLinks
	// Clicks, when set, measures the messages sent: every link goes
	// through its tracked redirect, and the unsubscribe link names the
	// message. Nil sends links direct (previews, tools).
	Clicks  ClickLinks
	Coupons CouponCodes
	// Surveys makes the score links of survey actions.
	Surveys SurveyLinks
	// ReviewForms makes the links of tsunagu's own review form, which
	// review requests use when the shop has no review_url.
	ReviewForms ReviewFormLinks
	// Points keeps the points ledger, for points actions and the
	// {{.Points}} merge fields; nil for tools that store nothing.
	Points PointsLedger
	// PointsLinks makes the recipient's points page link for
	// {{.Points.RedeemURL}}; nil shows none.
	PointsLinks PointsLinks
	// Referrals derives the recipient's referral code for
	// {{.Referral.Link}}; nil shows no link.
	Referrals ReferralCodes
	// ProductReviews reads the recommended products' ratings and best
	// reviews for templates that show them; nil shows none.
	ProductReviews ProductReviews
	// PublicURL is the base URL of the HTTP API, for unsubscribe links.
	PublicURL string
	// RecommendationLimit caps cross-sell suggestions per message.
	RecommendationLimit int
}

// Outcome is what happened for one campaign or one of its actions.
type Outcome struct {
	Campaign string `json:"campaign"`
	Variant  string `json:"variant,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	// DueAt is when a waiting campaign goes on.
	DueAt *time.Time `json:"due_at,omitempty"`
}

// Outcome statuses besides the verdicts and the message log's statuses.
const (
	StatusAlreadySent = "already_sent"
	StatusInProgress  = "in_progress"
	StatusIssued      = "issued"
	StatusDryRun      = "dry_run"
)

// Decision reasons recorded in the message log besides the verdicts.
const (
	ReasonRenderFailed    = "render_failed"
	ReasonNothingToReview = "nothing_to_review"
	// ReasonSurveyThrottled: the customer had a survey within the
	// settings' surveys.min_interval.
	ReasonSurveyThrottled = "survey_throttled"
	ReasonLineBudget      = "line_budget"
	ReasonLineQuota       = "line_quota"
	ReasonSuppressed      = "suppressed"
	// ReasonLineNotFollowing: a line_or_email campaign's customer is linked
	// to a LINE user not known to follow the shop's account.
	ReasonLineNotFollowing = "line_not_following"
)

// Run decides for every campaign the trigger concerns and carries the
// decisions out. It returns an outcome per campaign action. An error means a
// retryable failure (store or mail service down): the caller should fail so
// the trigger is retried; finished steps will not repeat. What the run
// counted (sent, assignments, coupons) is written at its end, error or not,
// one update per campaign variant and day.
func (r *Runner) Run(ctx context.Context, t Trigger) ([]Outcome, error) {
	ctx, counted := withTally(ctx, r.Rules.Settings.Location)
	defer r.flush(ctx, counted)
	var sent []store.Send
	if r.needsSends(t) {
		var err error
		if sent, err = r.Store.RecentSends(ctx, t.Profile.ID); err != nil {
			return nil, err
		}
	}
	var out []Outcome
	for _, d := range r.Decide(t, sent) {
		o, err := r.carryOut(ctx, t, d)
		out = append(out, o...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// needsSends reports whether any active marketing campaign listens to the
// trigger, so a trigger nobody listens to costs no read.
func (r *Runner) needsSends(t Trigger) bool {
	for _, c := range r.Rules.Campaigns {
		if c.Trigger == t.Event && c.Kind == rules.Marketing && c.IsActive(t.At) && (t.Campaign == "" || c.ID == t.Campaign) {
			return true
		}
	}
	return false
}

// MessageKey is the deterministic key of one campaign action for one
// trigger occurrence and customer.
func MessageKey(campaignID string, action int, triggerKey, customerID string) string {
	return hashKey(campaignID, fmt.Sprint(action), triggerKey, customerID)
}

// TimerKey is the deterministic key of a campaign's wait for one trigger
// occurrence and customer.
func TimerKey(campaignID, triggerKey, customerID, reason string) string {
	return hashKey("timer", campaignID, triggerKey, customerID, reason)
}

func hashKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}
