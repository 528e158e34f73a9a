package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// previewCampaign renders what a campaign would send to a sample customer:
// the email's HTML to a file (to open in a browser) and its text, or the
// LINE message, on standard output.
func previewCampaign(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	customerFile := fs.String("customer", "", "sample customer: a generic order webhook body, or a JSON array of them (their history; the last is the trigger)")
	rulesDir := fs.String("rules", "rules", "rule directory")
	outDir := fs.String("out", filepath.Join(".local", "preview"), "where to write the HTML")
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		args = append(args[1:], args[0]) // allow the campaign before the flags
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *customerFile == "" || fs.NArg() != 1 {
		fmt.Fprintln(fs.Output(), "usage: tsunagu preview CAMPAIGN --customer FILE")
		return errUsage
	}
	id := fs.Arg(0)
	set, err := loadRules(*rulesDir)
	if err != nil {
		return err
	}
	profile, last, err := sampleCustomer(*customerFile, set)
	if err != nil {
		return err
	}
	sealer, _ := unsubscribe.NewSealer("preview")
	coder, _ := coupon.NewCoder("preview")
	refs, _ := referral.NewCoder("preview")
	r := &campaign.Runner{Decider: campaign.Decider{Rules: set, Deciles: set.Deciles, Explain: true}, Unsubscribe: sealer, Coupons: coder,
		Referrals: refs, PublicURL: "https://hooks.example.invalid", RecommendationLimit: 3}
	c := set.Campaign(id)
	if c == nil {
		return fmt.Errorf("no campaign %q in %s", id, *rulesDir)
	}
	// As it would go out: after the campaign's delay.
	at := c.Delay.Due(last.OccurredAt, set.Settings.Location)
	t := campaign.Trigger{Event: c.Trigger, Key: "preview", At: at, Profile: profile, Order: last.Order, Campaign: id, Fired: true}
	if c.Trigger == rules.TriggerPointsExpiring {
		// The sample figures the preview's points merge fields show.
		sample := rules.SampleData(set.Settings).Points
		t.PointsExpiring, t.PointsExpireAt = sample.Expiring, at.AddDate(0, 0, sample.DaysLeft)
	}
	msgs, err := r.Preview(t, id)
	if err != nil {
		return err
	}
	for _, d := range r.Decide(t, nil) {
		if d.Verdict != campaign.Send {
			fmt.Fprintf(stdout, "note: for this customer the campaign would not send now: %s (%s)\n\n", d.Verdict, d.Reason)
		}
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for i, m := range msgs {
		label := id
		if m.Variant != "" {
			label += " (variant " + m.Variant + ")"
		}
		if m.Channel == "line" {
			fmt.Fprintf(stdout, "=== LINE: %s ===\n%s\n\n", label, m.Line)
			continue
		}
		name := fmt.Sprintf("%s-%d.html", id, i+1)
		if m.Variant != "" {
			name = fmt.Sprintf("%s-%s-%d.html", id, m.Variant, i+1)
		}
		path := filepath.Join(*outDir, name)
		if err := os.WriteFile(path, []byte(m.HTML), 0o644); err != nil {
			return err
		}
		abs, _ := filepath.Abs(path)
		fmt.Fprintf(stdout, "=== email: %s ===\nSubject: %s\nHTML: file://%s\n\n%s\n", label, m.Subject, abs, m.Text)
	}
	return nil
}

// sampleCustomer builds a profile from a file of generic webhook bodies,
// applying each as the purchase function would, and returns the last.
func sampleCustomer(path string, set *rules.Set) (customer.Profile, order.Event, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return customer.Profile{}, order.Event{}, err
	}
	var bodies []json.RawMessage
	if err := json.Unmarshal(raw, &bodies); err != nil {
		bodies = []json.RawMessage{raw}
	}
	var p customer.Profile
	var last order.Event
	for i, b := range bodies {
		ev, err := order.DecodeGeneric(b)
		if err != nil {
			return customer.Profile{}, order.Event{}, fmt.Errorf("%s: event %d: %w", path, i+1, err)
		}
		if ev.Order.Customer == nil && i == len(bodies)-1 && last.Order.ID == ev.Order.ID {
			ev.Order = last.Order // a later event of the same order may carry only its id
		}
		p.ApplyDeliveryChange(ev.Order.Customer, ev.Order, ev.Type, ev.OccurredAt, customer.Transition{Key: "preview:" + ev.DeliveryID}, set.Settings.Thresholds)
		last = ev
	}
	if p.ID == "" {
		return customer.Profile{}, order.Event{}, fmt.Errorf("%s: no event names the customer (order.customer)", path)
	}
	return p, last, nil
}
