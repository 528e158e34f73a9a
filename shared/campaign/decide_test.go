package campaign

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// ruleSet loads the shipped settings, segments and templates with the given
// campaigns (id to body without id and name) instead of the shipped ones.
func ruleSet(t testing.TB, campaigns map[string]string) *rules.Set {
	t.Helper()
	files := map[string]string{}
	for id, body := range campaigns {
		files[rules.CampaignsDir+"/"+id+".yaml"] = "id: " + id + "\nname: " + id + "\n" + body
	}
	return ruleSetFiles(t, files)
}

// ruleSetFiles loads the shipped rules without their campaigns, plus files
// (path to content).
func ruleSetFiles(t testing.TB, files map[string]string) *rules.Set {
	t.Helper()
	dir := filepath.Join("..", "..", "rules")
	fsys := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, rules.CampaignsDir+"/") {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, p))
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(content)}
	}
	set, err := rules.LoadFS(fsys, "rules")
	if err != nil {
		t.Fatalf("test rules do not load:\n%v", err)
	}
	return set
}

// tokyo returns a UTC instant for a Tokyo wall-clock time on 2026-11-21.
func tokyo(hour, minute int) time.Time {
	loc, _ := time.LoadLocation("Asia/Tokyo")
	return time.Date(2026, 11, 21, hour, minute, 0, 0, loc).UTC()
}

func consenting(id string) customer.Profile {
	p := customer.Profile{ID: id, Email: id + "@example.jp", LineUserID: "U" + strings.Repeat("0", 32)}
	p.ApplyContact(order.Customer{ID: id, Consent: order.Consent{State: order.ConsentGranted, Source: "test", At: tokyo(0, 0)}}, tokyo(0, 0))
	p.FollowLine(p.LineUserID, customer.LineSourceFollow, tokyo(0, 0))
	return p
}

// cooling is a consenting customer whom marketing keeps away from until until.
func cooling(id string, until time.Time) customer.Profile {
	p := consenting(id)
	p.CoolOff(until)
	return p
}

func trigger(p customer.Profile, at time.Time) Trigger {
	return Trigger{Event: rules.TriggerOrderCreated, Key: "order:1:order.created", At: at, Profile: p, Order: order.Order{ID: "1", Currency: "JPY", Total: 4300}}
}

const emailAction = "trigger: order.created\nactions: [{type: email, template: post-purchase-thanks}]\n"

func verdicts(ds []Decision) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Campaign.ID+"="+string(d.Verdict))
	}
	return strings.Join(parts, " ")
}

func TestDecide(t *testing.T) {
	noon := tokyo(12, 0)
	sentAt := func(ago time.Duration, campaign string) store.Send {
		return store.Send{Key: fmt.Sprint("k", ago, campaign), At: noon.Add(-ago), Campaign: campaign, Channel: "email"}
	}
	tests := []struct {
		name      string
		campaigns map[string]string
		profile   customer.Profile
		at        time.Time
		sent      []store.Send
		want      string
		reason    string // expected reason of the first decision, if set
	}{
		{name: "sends", campaigns: map[string]string{"a": emailAction}, profile: consenting("c1"), at: noon, want: "a=send"},
		{name: "no consent", campaigns: map[string]string{"a": emailAction}, profile: customer.Profile{ID: "c1", Email: "c1@example.jp"}, at: noon, want: "a=no_consent"},
		{name: "transactional needs no consent", campaigns: map[string]string{"a": "kind: transactional\n" + emailAction}, profile: customer.Profile{ID: "c1", Email: "c1@example.jp"}, at: noon, want: "a=send"},
		{name: "no address", campaigns: map[string]string{"a": emailAction}, profile: func() customer.Profile { p := consenting("c1"); p.Email = ""; return p }(), at: noon, want: "a=no_address"},
		{name: "switched off", campaigns: map[string]string{"a": "enabled: false\n" + emailAction}, profile: consenting("c1"), at: noon, want: "a=inactive"},
		{name: "before its active dates", campaigns: map[string]string{"a": "active: {from: 2026-12-01}\n" + emailAction}, profile: consenting("c1"), at: noon, want: "a=inactive"},
		{name: "last active day counts whole", campaigns: map[string]string{"a": "active: {until: 2026-11-21}\n" + emailAction}, profile: consenting("c1"), at: tokyo(23, 59), want: "a=send"},
		{name: "audience explains the failing part", campaigns: map[string]string{"a": "audience: order.total > 0 && bought_category(\"tea\") && order.currency == \"JPY\"\n" + emailAction}, profile: consenting("c1"), at: noon, want: "a=not_in_audience", reason: `false: bought_category("tea")`},
		{name: "segment in audience", campaigns: map[string]string{"a": "audience: in_segment(\"vip\")\n" + emailAction}, profile: consenting("c1"), at: noon, want: "a=not_in_audience", reason: `false: in_segment("vip")`},
		{name: "held out where the treatment would be sent: after its delay", campaigns: map[string]string{"a": "holdout: 100\ndelay: 3d\n" + emailAction}, profile: consenting("c1"), at: noon, want: "a=wait"},
		{name: "held out, taking the priority slot as the treatment would", campaigns: map[string]string{"high": "priority: 200\nholdout: 100\n" + emailAction, "low": "priority: 10\n" + emailAction}, profile: consenting("c1"), at: noon, want: "high=held_out low=suppressed_by_priority"},
		{name: "capped before held out", campaigns: map[string]string{"a": "holdout: 100\n" + emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(3*time.Hour, "other")}, want: "a=capped"},
		{name: "higher priority wins", campaigns: map[string]string{"low": "priority: 10\n" + emailAction, "high": "priority: 200\n" + emailAction}, profile: consenting("c1"), at: noon, want: "high=send low=suppressed_by_priority"},
		{name: "same priority: id order decides", campaigns: map[string]string{"b": emailAction, "a": emailAction}, profile: consenting("c1"), at: noon, want: "a=send b=suppressed_by_priority"},
		{name: "transactional is not suppressed by priority", campaigns: map[string]string{"m": emailAction, "t": "kind: transactional\npriority: 1\n" + emailAction}, profile: consenting("c1"), at: noon, want: "m=send t=send"},
		{name: "shop-wide daily cap", campaigns: map[string]string{"a": emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(3*time.Hour, "other")}, want: "a=capped", reason: "shop-wide cap: 1 per 1d reached"},
		{name: "daily cap frees after a day", campaigns: map[string]string{"a": emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(25*time.Hour, "other")}, want: "a=send"},
		{name: "weekly cap", campaigns: map[string]string{"a": emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(2*24*time.Hour, "x"), sentAt(4*24*time.Hour, "y"), sentAt(6*24*time.Hour, "z")}, want: "a=capped", reason: "shop-wide cap: 3 per 7d reached"},
		{name: "campaign cap", campaigns: map[string]string{"a": "caps: [{max: 1, per: 30d}]\n" + emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(10*24*time.Hour, "a")}, want: "a=capped", reason: "campaign cap: 1 per 30d reached"},
		{name: "campaign cap counts only itself", campaigns: map[string]string{"a": "caps: [{max: 1, per: 30d}]\n" + emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(10*24*time.Hour, "b")}, want: "a=send"},
		{name: "transactional is exempt from caps", campaigns: map[string]string{"a": "kind: transactional\n" + emailAction}, profile: consenting("c1"), at: noon, sent: []store.Send{sentAt(time.Hour, "x")}, want: "a=send"},
		{name: "LINE quiet hours at night", campaigns: map[string]string{"a": "trigger: order.created\nactions: [{type: line, template: post-purchase-thanks}]\n"}, profile: consenting("c1"), at: tokyo(22, 30), want: "a=wait", reason: "quiet_hours"},
		{name: "email has no quiet hours", campaigns: map[string]string{"a": emailAction}, profile: consenting("c1"), at: tokyo(22, 30), want: "a=send"},
		{name: "delay waits", campaigns: map[string]string{"a": "delay: 3d\n" + emailAction}, profile: consenting("c1"), at: noon, want: "a=wait", reason: "delay 3d"},
		{name: "cooling off after a support case: no marketing, transactional goes", campaigns: map[string]string{"m": emailAction, "t": "kind: transactional\npriority: 1\n" + emailAction},
			profile: cooling("c1", noon.Add(time.Hour)), at: noon, want: "m=cooling_off t=send", reason: "cooling off after a support case until 2026-11-21"},
		{name: "cooling off: a delayed campaign still waits, decided again when due", campaigns: map[string]string{"a": "delay: 3d\n" + emailAction}, profile: cooling("c1", noon.Add(time.Hour)), at: noon, want: "a=wait"},
		{name: "cooled off", campaigns: map[string]string{"a": emailAction}, profile: cooling("c1", noon), at: noon, want: "a=send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Decider{Rules: ruleSet(t, tt.campaigns), Explain: true}
			got := d.Decide(trigger(tt.profile, tt.at), tt.sent)
			if v := verdicts(got); v != tt.want {
				t.Errorf("verdicts = %s, want %s (%+v)", v, tt.want, got)
			}
			if tt.reason != "" && (len(got) == 0 || got[0].Reason != tt.reason) {
				t.Errorf("reason = %q, want %q", got[0].Reason, tt.reason)
			}
		})
	}
}

func TestQuietHoursWaitForTheMorning(t *testing.T) {
	d := &Decider{Rules: ruleSet(t, map[string]string{"a": "trigger: order.created\nactions: [{type: line, template: post-purchase-thanks}]\n"})}
	tests := []struct {
		at  time.Time
		due time.Time
	}{
		{at: tokyo(21, 0), due: tokyo(9, 0).AddDate(0, 0, 1)},
		{at: tokyo(23, 59), due: tokyo(9, 0).AddDate(0, 0, 1)},
		{at: tokyo(3, 0), due: tokyo(9, 0)},
	}
	for _, tt := range tests {
		got := d.Decide(trigger(consenting("c1"), tt.at), nil)
		if got[0].Verdict != Wait || !got[0].DueAt.Equal(tt.due) {
			t.Errorf("at %s: %s until %s, want wait until %s", tt.at, got[0].Verdict, got[0].DueAt, tt.due)
		}
	}
	if got := d.Decide(trigger(consenting("c1"), tokyo(9, 0)), nil); got[0].Verdict != Send {
		t.Errorf("at 09:00: %s, want send", got[0].Verdict)
	}
}

func TestDelayNextDay(t *testing.T) {
	d := &Decider{Rules: ruleSet(t, map[string]string{"a": "delay: next day 10:00\n" + emailAction})}
	got := d.Decide(trigger(consenting("c1"), tokyo(23, 30)), nil)
	if want := tokyo(10, 0).AddDate(0, 0, 1); got[0].Verdict != Wait || !got[0].DueAt.Equal(want) {
		t.Errorf("got %s until %s, want wait until %s", got[0].Verdict, got[0].DueAt, want)
	}
	tr := trigger(consenting("c1"), tokyo(10, 0).AddDate(0, 0, 1))
	tr.Fired, tr.Campaign = true, "a"
	if got := d.Decide(tr, nil); got[0].Verdict != Send {
		t.Errorf("fired timer: %s, want send", got[0].Verdict)
	}
}

// TestHoldoutAndVariantsAreDeterministic checks that assignment depends
// only on customer and campaign, and that the split is close to what the
// rules ask for.
func TestHoldoutAndVariantsAreDeterministic(t *testing.T) {
	set := ruleSet(t, map[string]string{"ab": "holdout: 10\ntrigger: order.created\nvariants:\n" +
		"  - {name: a, weight: 70, actions: [{type: email, template: post-purchase-thanks}]}\n" +
		"  - {name: b, weight: 30, actions: [{type: email, template: post-purchase-thanks}]}\n"})
	set.Settings.Measurement.GlobalControlPercent, set.Settings.Measurement.GlobalControlSalt = 5, "2026-12"
	d := &Decider{Rules: set}
	counts := map[string]int{}
	const n = 4000
	for i := range n {
		p := consenting(fmt.Sprintf("c%d", i))
		first := d.Decide(trigger(p, tokyo(12, 0)), nil)[0]
		again := d.Decide(trigger(p, tokyo(15, 0)), nil)[0]
		if first.Verdict != again.Verdict || first.Variant != again.Variant {
			t.Fatalf("customer %s: %s/%s then %s/%s", p.ID, first.Verdict, first.Variant, again.Verdict, again.Variant)
		}
		switch {
		case first.Verdict == HeldOut && first.Reason == ReasonGlobalControl:
			counts["global"]++
		case first.Verdict == HeldOut:
			counts["holdout"]++
		default:
			counts[first.Variant]++
		}
	}
	within := func(got int, share float64) bool { return float64(got) > share*n*0.85 && float64(got) < share*n*1.15 }
	if !within(counts["global"], 0.05) || !within(counts["holdout"], 0.95*0.10) || !within(counts["a"], 0.95*0.90*0.70) || !within(counts["b"], 0.95*0.90*0.30) {
		t.Errorf("split %v over %d customers, want about 5%% in the global control, 10%% of the rest held out and 70/30 of what remains", counts, n)
	}
}

func TestUnsubscribeHoldsForEveryKind(t *testing.T) {
	d := &Decider{Rules: ruleSet(t, map[string]string{"m": emailAction, "t": "kind: transactional\npriority: 1\n" + emailAction})}
	p := consenting("c1")
	p.Unsubscribe("email", "unsubscribe:one-click", tokyo(10, 0))
	if got := verdicts(d.Decide(trigger(p, tokyo(12, 0)), nil)); got != "m=unsubscribed t=unsubscribed" {
		t.Errorf("after unsubscribing: %s", got)
	}
	// Fresh consent, newer than the unsubscribe, lets mail go again.
	p.ApplyContact(order.Customer{ID: "c1", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: tokyo(11, 0)}}, tokyo(11, 0))
	if got := verdicts(d.Decide(trigger(p, tokyo(12, 0)), nil)); got != "m=send t=send" {
		t.Errorf("after fresh consent: %s", got)
	}
	// Old consent evidence does not undo the unsubscribe.
	q := consenting("c2")
	q.Unsubscribe("email", "unsubscribe:one-click", tokyo(10, 0))
	q.ApplyContact(order.Customer{ID: "c2", Consent: order.Consent{State: order.ConsentGranted, Source: "checkout", At: tokyo(9, 0)}}, tokyo(11, 0))
	if got := verdicts(d.Decide(trigger(q, tokyo(12, 0)), nil)); got != "m=unsubscribed t=unsubscribed" {
		t.Errorf("after stale consent: %s", got)
	}
	// The shop's standing flag, sent again with the next order, is no
	// fresh consent, however new the delivery.
	s := consenting("c3")
	s.Unsubscribe("email", "unsubscribe:one-click", tokyo(10, 0))
	s.ApplyContact(order.Customer{ID: "c3", Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: tokyo(11, 0), Standing: true}}, tokyo(11, 0))
	if changes := s.ConsentChanges(); s.Consent.State != order.ConsentDenied || changes[len(changes)-1].State != "unsubscribed" {
		t.Errorf("a standing grant changed an unsubscribed customer's consent: %+v, changes %+v", s.Consent, s.ConsentChanges())
	}
	if got := verdicts(d.Decide(trigger(s, tokyo(12, 0)), nil)); got != "m=unsubscribed t=unsubscribed" {
		t.Errorf("after the shop's standing flag: %s", got)
	}
	// Nor does it undo a resubscribe by replacing its dated grant.
	s.ApplyContact(order.Customer{ID: "c3", Consent: order.Consent{State: order.ConsentGranted, Source: "thankyou:optin", At: tokyo(12, 0)}}, tokyo(12, 0))
	s.ApplyContact(order.Customer{ID: "c3", Consent: order.Consent{State: order.ConsentGranted, Source: "webhook:generic", At: tokyo(13, 0), Standing: true}}, tokyo(13, 0))
	if got := verdicts(d.Decide(trigger(s, tokyo(14, 0)), nil)); got != "m=send t=send" {
		t.Errorf("resubscribed, then the shop's standing flag: %s", got)
	}
}

// TestConsentAndAddressOnOneChannel: consent on one channel and an address
// on the other make no message, and take no place under the caps.
func TestConsentAndAddressOnOneChannel(t *testing.T) {
	const both = "trigger: order.created\nkind: marketing\nactions:\n  - {type: line, template: post-purchase-thanks}\n  - {type: email, template: post-purchase-thanks}\n"
	d := &Decider{Rules: ruleSet(t, map[string]string{"m": both})}
	p := consenting("c6")
	p.Email = ""                              // email consent, but no address
	p.LinkLine("U" + strings.Repeat("c", 32)) // an address on LINE, not known to follow
	if got := verdicts(d.Decide(trigger(p, tokyo(12, 0)), nil)); got != "m=no_address" {
		t.Errorf("verdicts = %s, want m=no_address", got)
	}
}
