package email

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// Paced sends through another sender no faster than a rate, so a burst of
// due messages stays within the SES account's sending rate.
type Paced struct {
	next interface {
		Send(ctx context.Context, m Message) (string, error)
	}
	limiter *rate.Limiter
}

// NewPaced wraps s to send at most perSecond messages a second.
func NewPaced(s interface {
	Send(ctx context.Context, m Message) (string, error)
}, perSecond float64) *Paced {
	return &Paced{next: s, limiter: rate.NewLimiter(rate.Limit(perSecond), 1)}
}

// Send waits for the next slot, then sends.
func (p *Paced) Send(ctx context.Context, m Message) (string, error) {
	if err := p.limiter.Wait(ctx); err != nil {
		return "", fmt.Errorf("wait for a send slot: %w", err)
	}
	return p.next.Send(ctx, m)
}
