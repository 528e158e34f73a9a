package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/httpapi"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Store is what the handler needs of the store.
type Store interface {
	RecordClick(ctx context.Context, c store.Click) (bool, error)
	MarkMessageClicked(ctx context.Context, messageKey string, at time.Time) (bool, error)
	AddCounts(ctx context.Context, pk, sk string, day time.Time, counts store.Counts) error
}

// Links opens tracked links' tokens (clicks.Sealer).
type Links interface {
	Open(token string) (clicks.Link, error)
}

// Handler serves the tracked links of campaign messages: a valid token
// is redirected (302) to the URL sealed in it, and only there; a person's
// first click of each link of a message is recorded and counted. Anything
// else answers 400 and redirects nowhere.
type Handler struct {
	Store Store
	Links Links
	// Location is the shop's zone: counters are kept by its days.
	Location *time.Location
	// Referrals serves the referral links (GET /r/ref/{code}).
	Referrals Referrals
	Now       func() time.Time
}

// Handle answers one request for /r/{token}, GET or HEAD, or for a
// referral link, /r/ref/{code}.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if req.RouteKey == referralRoute {
		return h.referral(ctx, req), nil
	}
	link, err := h.Links.Open(req.PathParameters["token"])
	var target *url.URL
	if err == nil {
		if target = webURL(link.URL); target == nil {
			err = clicks.ErrInvalid // sealed by us, yet not a web address: never redirect there
		}
	}
	if err != nil {
		slog.InfoContext(ctx, "click link refused", "reason", err.Error())
		return httpapi.Invalid([]order.FieldError{{Field: "token", Message: "not a link of a message from this shop, or altered"}}), nil
	}
	now := h.Now()
	method := req.RequestContext.HTTP.Method
	if method == "" {
		method, _, _ = strings.Cut(req.RouteKey, " ")
	}
	counted, reason := clicks.Counted(method, httpapi.Header(req, "User-Agent"), link.SentAt, now)
	if counted {
		counted, reason = h.record(ctx, link, now)
	}
	slog.InfoContext(ctx, "click", "campaign", link.CampaignID, "variant", link.Variant, "link", link.Index, "counted", counted, "not_counted_because", reason)
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusFound, Headers: map[string]string{
		"Location": ascii(target.String()), "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
	}}, nil
}

// record records the click and, when it is the first of its message and
// link, counts it on the campaign's counters: clicks, and clicked when it
// is also the message's first click (the message log's clicked_at, which
// SES's click events share, so neither source counts a message twice).
// The person is redirected whatever happens here; a failure is logged and
// loses at most a count, never doubles one. It reports whether it counted,
// and why not.
func (h *Handler) record(ctx context.Context, link clicks.Link, now time.Time) (bool, string) {
	first, err := h.Store.RecordClick(ctx, store.Click{
		MessageKey: link.Key, CampaignID: link.CampaignID, Variant: link.Variant, CustomerID: link.CustomerID, Link: link.Index, URL: link.URL, At: now,
	})
	if err != nil {
		slog.ErrorContext(ctx, "click not recorded", "campaign", link.CampaignID, "error", err)
		return false, "store_error"
	}
	if !first {
		return false, "repeat"
	}
	counts := store.Counts{"clicks": 1}
	// An expired message (its log entry gone) is still clicked: counted
	// in clicks, not in clicked, which needs the entry to say "first".
	if firstOfMessage, err := h.Store.MarkMessageClicked(ctx, link.Key, now); err != nil {
		slog.WarnContext(ctx, "message click not marked", "campaign", link.CampaignID, "error", err)
	} else if firstOfMessage {
		counts["clicked"] = 1
	}
	if err := h.Store.AddCounts(ctx, store.CampaignStatsPartition(link.CampaignID), store.CampaignStatsKey(now, h.Location, link.Variant), now, counts); err != nil {
		slog.WarnContext(ctx, "click not counted", "campaign", link.CampaignID, "error", err)
		return false, "store_error"
	}
	return true, ""
}

// webURL parses s when it is an absolute http(s) URL, the only kind of
// target a tracked link may have, and returns nil otherwise.
func webURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return nil
	}
	return u
}

// ascii percent-encodes the bytes of a URL outside ASCII (a Japanese path
// or query), which a Location header cannot carry; browsers decode them
// back to the same address.
func ascii(u string) string {
	var b strings.Builder
	for i := range len(u) {
		if c := u[i]; c >= 0x80 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
