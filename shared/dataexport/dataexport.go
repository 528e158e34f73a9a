// Package dataexport is what tsunagu holds about one customer, gathered
// and written out for the customer or the shop: the profile, whether the
// address is suppressed, the consent ledger, the message log and the
// links clicked in messages. The
// command line prints it (`tsunagu customer show`), and Shopify's
// customers/data_request webhook keeps it for the shop to fetch
// (`tsunagu customer export --request`); both produce the same content.
package dataexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Reader is what gathering an export reads from the store.
type Reader interface {
	GetProfile(ctx context.Context, id string) (customer.Profile, error)
	ConsentLedger(ctx context.Context, customerID string) ([]customer.ConsentChange, error)
	CustomerMessages(ctx context.Context, customerID string, since time.Time) ([]store.MessageRecord, error)
	CustomerClicks(ctx context.Context, customerID string, since time.Time) ([]store.Click, error)
	SuppressionOf(ctx context.Context, email string) (store.Suppression, error)
}

// Export is everything tsunagu holds about one customer at one time.
type Export struct {
	CustomerID string
	// Known is false when tsunagu holds no profile of the customer.
	Known       bool
	Profile     customer.Profile
	Suppression store.Suppression
	Ledger      []customer.ConsentChange
	Messages    []store.MessageRecord
	// Clicks are the links clicked in messages (first click of each).
	Clicks []store.Click `json:",omitempty"`
}

// Collect gathers what the store holds about a customer. A customer tsunagu
// never saw is an export too (Known false): "nothing held" is an answer.
func Collect(ctx context.Context, r Reader, customerID string) (Export, error) {
	e := Export{CustomerID: customerID}
	p, err := r.GetProfile(ctx, customerID)
	if errors.Is(err, store.ErrNotFound) {
		return e, nil
	}
	if err != nil {
		return Export{}, fmt.Errorf("collect customer data: %w", err)
	}
	e.Known, e.Profile = true, p
	if e.Ledger, err = r.ConsentLedger(ctx, customerID); err != nil {
		return Export{}, fmt.Errorf("collect customer data: %w", err)
	}
	if e.Messages, err = r.CustomerMessages(ctx, customerID, time.Time{}); err != nil {
		return Export{}, fmt.Errorf("collect customer data: %w", err)
	}
	if e.Clicks, err = r.CustomerClicks(ctx, customerID, time.Time{}); err != nil {
		return Export{}, fmt.Errorf("collect customer data: %w", err)
	}
	if p.Email != "" {
		if e.Suppression, err = r.SuppressionOf(ctx, p.Email); err != nil {
			return Export{}, fmt.Errorf("collect customer data: %w", err)
		}
	}
	return e, nil
}

// Marshal encodes an export for keeping (gzipped JSON: a long message log
// stays well inside a DynamoDB item).
func Marshal(e Export) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(e); err != nil {
		return nil, fmt.Errorf("encode customer data export: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode customer data export: %w", err)
	}
	return b.Bytes(), nil
}

// Unmarshal decodes what Marshal encoded.
func Unmarshal(data []byte) (Export, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return Export{}, fmt.Errorf("decode customer data export: %w", err)
	}
	var e Export
	if err := json.NewDecoder(zr).Decode(&e); err != nil {
		return Export{}, fmt.Errorf("decode customer data export: %w", err)
	}
	return e, nil
}

// Write prints the export as `tsunagu customer show` does, times in the
// shop's zone and money in its currency.
func (e Export) Write(out io.Writer, settings rules.Settings) {
	if !e.Known {
		fmt.Fprintf(out, "customer %s\n  tsunagu holds no data about this customer\n", e.CustomerID)
		return
	}
	p := e.Profile
	loc := settings.Location
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04 MST")
	}
	orNone := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "customer %s\n", p.ID)
	if !p.ErasedAt.IsZero() {
		fmt.Fprintf(w, "  erased\t%s: contact details removed; counts kept\n", at(p.ErasedAt))
	}
	email := orNone(p.Email)
	switch sup := e.Suppression; {
	case sup.Suppressed:
		email += fmt.Sprintf("  (suppressed: %s)", sup.Reason)
	case sup.SoftBounces > 0:
		email += fmt.Sprintf("  (%d soft bounces)", sup.SoftBounces)
	}
	fmt.Fprintf(w, "  email\t%s\n", email)
	fmt.Fprintf(w, "  name\t%s\n", orNone(p.Name))
	line := "not linked"
	if p.LineUserID != "" {
		line = "linked"
	}
	fmt.Fprintf(w, "  LINE\t%s\n", line)
	fmt.Fprintf(w, "  birthday\t%s\n", orNone(p.Birthday))
	consent := string(p.Consent.State)
	if consent == "" {
		consent = "unknown"
	} else {
		consent += fmt.Sprintf(" (%s, %s)", p.Consent.Source, at(p.Consent.At))
	}
	fmt.Fprintf(w, "  consent\t%s\n", consent)
	channels := make([]string, 0, len(p.Unsubscribed))
	for ch := range p.Unsubscribed {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	for _, ch := range channels {
		state := "unsubscribed"
		if p.Resubscribed(ch) {
			state = "unsubscribed, then consented again"
		}
		fmt.Fprintf(w, "  %s\t%s %s\n", ch, state, at(p.Unsubscribed[ch]))
	}
	currency := settings.Thresholds.Currency
	fmt.Fprintf(w, "  orders\t%d, %s in total, %s on average; first %s, last %s\n", p.OrderCount,
		rules.Money(p.TotalSpent, currency), rules.Money(p.AverageOrder, currency), at(p.FirstOrderAt), at(p.LastOrderAt))
	fmt.Fprintf(w, "  stage\t%s, RFM %d-%d-%d\n", orNone(string(p.Stage)), p.RFM.R, p.RFM.F, p.RFM.M)
	w.Flush()

	fmt.Fprintf(out, "\nconsent ledger (%s, oldest first)\n", count(len(e.Ledger), "change"))
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range e.Ledger {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s", at(c.At), c.Channel, c.State, c.Source)
		if c.Shown != "" {
			fmt.Fprintf(w, "\tshown: %q", c.Shown)
		}
		fmt.Fprintln(w)
	}
	w.Flush()

	fmt.Fprintf(out, "\nmessages (%s, oldest first)\n", count(len(e.Messages), "message"))
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, m := range e.Messages {
		outcome := string(m.Status)
		if m.Reason != "" {
			outcome += " (" + m.Reason + ")"
		}
		if m.Delivery != "" {
			outcome += ", " + m.Delivery
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", at(m.ClaimedAt), m.CampaignID, m.Channel, outcome)
	}
	w.Flush()
	if len(e.Clicks) == 0 {
		return
	}
	fmt.Fprintf(out, "\nclicks (%s, oldest first)\n", count(len(e.Clicks), "click"))
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range e.Clicks {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", at(c.At), c.CampaignID, c.URL)
	}
	w.Flush()
}

// count says "1 change" or "3 changes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
