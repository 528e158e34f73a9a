package campaign

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// settle records how the send of a claimed message ended: sent, with the
// provider's id; skipped for the LINE plan's quota; rejected by the
// provider, not to be retried; or anything else, retryable: the claim is
// released so the retry sends it again with the same key.
func (r *Runner) settle(ctx context.Context, o Outcome, rec store.MessageRecord, providerID string, sendErr error, at time.Time) (Outcome, error) {
	switch {
	case sendErr == nil:
		o.Status = string(store.MessageSent)
		err := r.Store.FinishMessage(ctx, rec, store.MessageSent, "", providerID, at)
		if err == nil {
			// This claim finished the message as sent: the first and only time.
			count(ctx, rec.CampaignID, rec.Variant, at, "sent")
		}
		return o, err
	case errors.Is(sendErr, line.ErrQuotaExceeded):
		o.Status, o.Reason = string(store.MessageSkipped), ReasonLineQuota
		return o, r.Store.FinishMessage(ctx, rec, store.MessageSkipped, ReasonLineQuota, "", at)
	case errors.Is(sendErr, email.ErrRejected), errors.Is(sendErr, line.ErrRejected):
		slog.WarnContext(ctx, "message rejected by the provider", "campaign", rec.CampaignID, "channel", rec.Channel, "error", sendErr)
		o.Status, o.Reason = string(store.MessageRejected), "rejected_by_provider"
		return o, r.Store.FinishMessage(ctx, rec, store.MessageRejected, o.Reason, "", at)
	}
	if err := r.release(ctx, rec, at); err != nil {
		return o, errors.Join(sendErr, err)
	}
	return o, sendErr
}

// releaseAttempts bounds how often a claim is released before giving up.
const releaseAttempts = 6

// release records that a claimed message was not sent and may be tried
// again. It insists, backing off (up to about 6 s in all), because a claim
// left behind when the store is briefly away would block the message for
// good: nobody can tell it from a message sent whose record was lost.
func (r *Runner) release(ctx context.Context, rec store.MessageRecord, at time.Time) error {
	var err error
	for attempt := range releaseAttempts {
		if err = r.Store.FinishMessage(ctx, rec, store.MessageFailed, "transport_error", "", at); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		}
	}
	return err
}

// alreadyHandled reports a message another attempt claimed first.
func alreadyHandled(o Outcome, existing store.MessageRecord) Outcome {
	switch existing.Status {
	case store.MessageSent:
		o.Status = StatusAlreadySent
	case store.MessageSending:
		o.Status = StatusInProgress
	default:
		o.Status, o.Reason = string(existing.Status), existing.Reason
	}
	return o
}
