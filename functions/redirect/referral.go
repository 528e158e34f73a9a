package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// referralRoute is the route of customers' referral links.
const referralRoute = "GET /r/ref/{code}"

// ReferralVisits counts the visits of referral links.
type ReferralVisits interface {
	CountReferralVisit(ctx context.Context, code string, at time.Time) (bool, error)
}

// Referrals serves referral links: the programme's rules and where its
// visits are counted.
type Referrals struct {
	Visits ReferralVisits
	// Programme is the referral programme, nil when the shop runs none;
	// ShopURL the shop's home page.
	Programme *rules.Referral
	ShopURL   string
}

// referral answers a visit of a customer's referral link: a code a
// customer has is counted (on its code's entry, no one's data) and
// redirected to the landing page with the code; a robot's request (a
// chat app's link preview, a scanner) is led there uncounted; anything
// else goes to the shop's home page, uncounted, so a friend never sees an
// error.
func (h *Handler) referral(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	r := h.Referrals
	target, outcome := r.ShopURL, "not_a_code"
	if code := referral.Normalize(req.PathParameters["code"]); code != "" && r.Programme != nil {
		var known bool
		var err error
		robot := clicks.Robot(httpapi.Header(req, "User-Agent"))
		if !robot {
			known, err = r.Visits.CountReferralVisit(ctx, code, h.Now())
		}
		switch {
		case robot:
			// A chat app's preview of a shared link, a scanner: led on,
			// never counted.
			target, outcome = r.Programme.Link(r.ShopURL, code), "robot"
		case err != nil:
			// The code may well be a customer's: lead on with it, uncounted.
			slog.WarnContext(ctx, "referral visit not counted", "error", err)
			target, outcome = r.Programme.Link(r.ShopURL, code), "store_error"
		case known:
			target, outcome = r.Programme.Link(r.ShopURL, code), "counted"
		default:
			outcome = "unknown_code"
		}
	}
	slog.InfoContext(ctx, "referral visit", "outcome", outcome)
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusFound, Headers: map[string]string{
		"Location": ascii(target), "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
	}}
}
