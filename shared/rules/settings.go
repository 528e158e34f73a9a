package rules

import (
	"fmt"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// SettingsFile is the shop settings file inside the rules directory.
const SettingsFile = "settings.yaml"

// Settings is rules/settings.yaml: who the shop is, how customers are
// scored and how close marketing may come.
type Settings struct {
	Shop       Shop
	FromName   string
	ReplyTo    string
	Location   *time.Location
	Thresholds customer.Thresholds
	Distance   Distance
	Thankyou   Thankyou
	// Replenishment holds how long consumables last, by category and SKU.
	Replenishment Replenishment
	// Shopify is how Shopify's order webhooks are taken.
	Shopify Shopify
	// Measurement is how campaigns are measured.
	Measurement Measurement
	// Report is who gets the report and the alerts by email.
	Report Report
	// Support is where customers' problems go and how long marketing
	// keeps away from them after one.
	Support Support
	// SurveyInterval is the least time between two surveys to a customer.
	SurveyInterval time.Duration
}

// DefaultSurveyInterval is the least time between two surveys to one
// customer unless settings.yaml says otherwise (surveys.min_interval).
const DefaultSurveyInterval = 90 * 24 * time.Hour

// Support is the support: section: the address told of each case and the
// cooling-off period without marketing after it.
type Support struct {
	Address    string
	CoolingOff time.Duration
	// NotDeliveredAfter is how long after fulfilment an order not reported
	// delivered becomes a case.
	NotDeliveredAfter time.Duration
	// SlackWebhookURL is a Slack-compatible incoming webhook told of each
	// case beside the email (https; empty: none).
	SlackWebhookURL string
}

// DefaultNotDeliveredAfter is support.not_delivered_after's default.
const DefaultNotDeliveredAfter = 7 * 24 * time.Hour

// DefaultCoolingOff is how long marketing keeps away from a customer after
// a case unless settings.yaml says otherwise.
const DefaultCoolingOff = 30 * 24 * time.Hour

// Report is who gets the shop's report by email (the report: section).
type Report struct {
	// Recipients are the shop staff's addresses; none: nothing is emailed.
	Recipients []string
	// Weekly sends the weekly report; Alerts the deliverability alerts.
	Weekly, Alerts bool
}

// Measurement is how campaigns are measured: the global control group,
// the conversion window of lift, and the attribution windows.
type Measurement struct {
	// GlobalControlPercent of customers (0: none) get no marketing at all;
	// GlobalControlSalt reshuffles who, when it changes.
	GlobalControlPercent int
	GlobalControlSalt    string
	// ConversionWindow is how long after an assignment an order converts it.
	ConversionWindow time.Duration
	// ClickWindow is how long after a click an order is attributed to the
	// clicked message; ReceiveWindow how long after a message was sent an
	// order is attributed to it without a click, when Receive is true.
	ClickWindow   time.Duration
	ReceiveWindow time.Duration
	Receive       bool
}

// Measurement defaults, when settings.yaml does not say.
const (
	DefaultConversionWindow = 14 * 24 * time.Hour
	DefaultClickWindow      = 5 * 24 * time.Hour
	DefaultReceiveWindow    = 24 * time.Hour
)

// Shopify is how Shopify's order webhooks are taken.
type Shopify struct {
	// ProcessTestOrders takes orders Shopify marks test: true (a
	// development store's, paid through a test gateway) as real orders;
	// false (test_orders: ignore, the default) records them as test
	// deliveries only.
	ProcessTestOrders bool
}

// Replenishment is how long consumables last.
type Replenishment struct {
	Categories map[string]time.Duration
	SKUs       map[string]time.Duration
}

// Cycle returns how long an item lasts: its product's cycle, else its
// category's; false for items that are not consumables.
func (r Replenishment) Cycle(sku, category string) (time.Duration, bool) {
	if d, ok := r.SKUs[sku]; ok {
		return d, true
	}
	d, ok := r.Categories[category]
	return d, ok
}

// DefaultLinkValidFor is how long a thank-you link works after its order
// unless settings.yaml says otherwise (thankyou.link_valid_for).
const DefaultLinkValidFor = 30 * 24 * time.Hour

// Thankyou is what the thank-you page widget shows.
type Thankyou struct {
	// Recommendations is how many products to recommend.
	Recommendations int
	// Coupon is the next-order coupon, nil for none. Its expiry counts from
	// the order.
	Coupon *CouponSpec
	// LineAddFriendURL is the shop's LINE add-friend link, "" for none.
	LineAddFriendURL string
	// LineAccountLink offers linking the order's customer to LINE.
	LineAccountLink bool
	// OptinText is the consent wording shown, "" to offer no opt-in.
	OptinText string
	// AllowedOrigins are the shop page origins allowed to call the API;
	// an opt-in is taken only from one of them.
	AllowedOrigins []string
	// LinkValidFor is how long after its order a thank-you link (its
	// signature) works: the view and the opt-in answer 401 after.
	LinkValidFor time.Duration
}

// Distance is the shop-wide respectful distance.
type Distance struct {
	// Caps limit marketing messages per customer across channels.
	Caps []Cap
	// Quiet holds each channel's quiet hours; a channel without an entry
	// has none.
	Quiet map[string]Window
}

// Cap allows at most Max messages in any window of length Per.
type Cap struct {
	Max int
	Per time.Duration
}

// Window is a daily span of shop time, [From, To) in minutes after
// midnight; it wraps past midnight when From > To (21:00-09:00).
type Window struct {
	From, To int
}

// Contains reports whether t falls in the window, in zone loc.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	local := t.In(loc)
	m := local.Hour()*60 + local.Minute()
	if w.From <= w.To {
		return m >= w.From && m < w.To
	}
	return m >= w.From || m < w.To
}

// End returns the first moment at or after t that is outside the window.
func (w Window) End(t time.Time, loc *time.Location) time.Time {
	if !w.Contains(t, loc) {
		return t
	}
	local := t.In(loc)
	end := time.Date(local.Year(), local.Month(), local.Day(), w.To/60, w.To%60, 0, 0, loc)
	if !end.After(local) {
		end = end.AddDate(0, 0, 1)
	}
	return end.UTC()
}

func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.From/60, w.From%60, w.To/60, w.To%60)
}

// DefaultCaps and DefaultQuietHours apply when settings.yaml does not say.
var (
	DefaultCaps       = []Cap{{Max: 1, Per: 24 * time.Hour}, {Max: 3, Per: 7 * 24 * time.Hour}}
	DefaultQuietHours = map[string]Window{"line": {From: 21 * 60, To: 9 * 60}}
)

// Shop is the sender identity every marketing email must show.
type Shop struct {
	Name          string
	URL           string
	PostalAddress string
	ContactEmail  string
	ContactPhone  string
	Currency      string
	// ReviewURL is the shop's review page with {sku} for the product.
	ReviewURL string
}

type settingsSpec struct {
	Shop struct {
		Name          string `yaml:"name"`
		URL           string `yaml:"url"`
		PostalAddress string `yaml:"postal_address"`
		ContactEmail  string `yaml:"contact_email"`
		ContactPhone  string `yaml:"contact_phone"`
		Timezone      string `yaml:"timezone"`
		Currency      string `yaml:"currency"`
		ReviewURL     string `yaml:"review_url"`
	} `yaml:"shop"`
	Email struct {
		FromName string `yaml:"from_name"`
		ReplyTo  string `yaml:"reply_to"`
	} `yaml:"email"`
	Lifecycle struct {
		LoyalMinOrders   int `yaml:"loyal_min_orders"`
		AtRiskAfterDays  int `yaml:"at_risk_after_days"`
		DormantAfterDays int `yaml:"dormant_after_days"`
	} `yaml:"lifecycle"`
	RFM struct {
		RecencyDays     [4]int   `yaml:"recency_days"`
		FrequencyOrders [4]int   `yaml:"frequency_orders"`
		Monetary        [4]int64 `yaml:"monetary"`
	} `yaml:"rfm"`
	Distance struct {
		Caps       []capSpec              `yaml:"caps"`
		QuietHours map[string]*windowSpec `yaml:"quiet_hours"`
	} `yaml:"distance"`
	Thankyou struct {
		Recommendations *int `yaml:"recommendations"`
		Coupon          *struct {
			Name       string `yaml:"name"`
			PercentOff int    `yaml:"percent_off"`
			AmountOff  int64  `yaml:"amount_off"`
			MinOrder   int64  `yaml:"min_order"`
			ExpiresIn  string `yaml:"expires_in"`
		} `yaml:"coupon"`
		Line *struct {
			AddFriendURL string `yaml:"add_friend_url"`
			AccountLink  bool   `yaml:"account_link"`
		} `yaml:"line"`
		Optin *struct {
			Text string `yaml:"text"`
		} `yaml:"optin"`
		AllowedOrigins []string `yaml:"allowed_origins"`
		LinkValidFor   string   `yaml:"link_valid_for"`
	} `yaml:"thankyou"`
	Replenishment struct {
		Categories map[string]string `yaml:"categories"`
		SKUs       map[string]string `yaml:"skus"`
	} `yaml:"replenishment"`
	Shopify struct {
		TestOrders string `yaml:"test_orders"`
	} `yaml:"shopify"`
	Measurement struct {
		GlobalControl struct {
			Percent int    `yaml:"percent"`
			Salt    string `yaml:"salt"`
		} `yaml:"global_control"`
		ConversionWindow string `yaml:"conversion_window"`
		Attribution      struct {
			ClickWindow   string `yaml:"click_window"`
			ReceiveWindow string `yaml:"receive_window"`
			Receive       *bool  `yaml:"receive"`
		} `yaml:"attribution"`
	} `yaml:"measurement"`
	Surveys struct {
		MinInterval string `yaml:"min_interval"`
	} `yaml:"surveys"`
	Support struct {
		Address           string `yaml:"address"`
		CoolingOff        string `yaml:"cooling_off"`
		NotDeliveredAfter string `yaml:"not_delivered_after"`
		SlackWebhookURL   string `yaml:"slack_webhook_url"`
	} `yaml:"support"`
	Report *struct {
		Recipients []string `yaml:"recipients"`
		Weekly     *bool    `yaml:"weekly"`
		Alerts     *bool    `yaml:"alerts"`
	} `yaml:"report"`
}

type capSpec struct {
	Max int    `yaml:"max"`
	Per string `yaml:"per"`
}

type windowSpec struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

func (c capSpec) compile() Cap {
	per, _ := ParseDuration(c.Per) // checked by the schema format
	return Cap{Max: c.Max, Per: per}
}

func clockMinutes(hhmm string) int {
	t, _ := time.Parse("15:04", hhmm) // checked by the schema pattern
	return t.Hour()*60 + t.Minute()
}

// customFormats are the schema formats rule files use beyond the standard ones.
var customFormats = append([]*jsonschema.Format{
	{Name: "timezone", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
			return fmt.Errorf("%q is not an IANA time zone such as Asia/Tokyo", s)
		}
		return nil
	}},
	{Name: "iso4217", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := order.CurrencyScale(s)
		return err
	}},
}, durationFormats...)

func (l *loader) loadSettings() (Settings, bool) {
	doc := l.readDoc(SettingsFile, compiledSchemas["settings"])
	if doc == nil {
		return Settings{}, false
	}
	var spec settingsSpec
	if err := doc.root.Decode(&spec); err != nil {
		l.report(doc.problemAt(doc.root, "%v", err))
		return Settings{}, false
	}
	loc, _ := time.LoadLocation(spec.Shop.Timezone) // checked by the schema format
	s := Settings{
		Shop: Shop{Name: spec.Shop.Name, URL: spec.Shop.URL, PostalAddress: spec.Shop.PostalAddress,
			ContactEmail: spec.Shop.ContactEmail, ContactPhone: spec.Shop.ContactPhone, Currency: spec.Shop.Currency, ReviewURL: spec.Shop.ReviewURL},
		FromName: spec.Email.FromName,
		ReplyTo:  spec.Email.ReplyTo,
		Location: loc,
		Thresholds: customer.Thresholds{
			Currency:        spec.Shop.Currency,
			RecencyDays:     spec.RFM.RecencyDays,
			FrequencyOrders: spec.RFM.FrequencyOrders,
			Monetary:        spec.RFM.Monetary,
			LoyalMinOrders:  spec.Lifecycle.LoyalMinOrders,
			AtRiskAfterDays: spec.Lifecycle.AtRiskAfterDays, DormantAfterDays: spec.Lifecycle.DormantAfterDays,
		},
	}
	if s.FromName == "" {
		s.FromName = s.Shop.Name
	}
	s.Distance.Caps = DefaultCaps
	if spec.Distance.Caps != nil {
		s.Distance.Caps = nil
		for _, c := range spec.Distance.Caps {
			s.Distance.Caps = append(s.Distance.Caps, c.compile())
		}
	}
	s.Distance.Quiet = map[string]Window{}
	for ch, w := range DefaultQuietHours {
		s.Distance.Quiet[ch] = w
	}
	for ch, w := range spec.Distance.QuietHours {
		delete(s.Distance.Quiet, ch) // null: no quiet hours
		if w != nil {
			s.Distance.Quiet[ch] = Window{From: clockMinutes(w.From), To: clockMinutes(w.To)}
		}
	}
	ok := true
	for _, b := range []struct {
		field  string
		values []int64
	}{
		{"recency_days", ints(spec.RFM.RecencyDays[:])},
		{"frequency_orders", ints(spec.RFM.FrequencyOrders[:])},
		{"monetary", spec.RFM.Monetary[:]},
	} {
		for i := 1; i < len(b.values); i++ {
			if b.values[i] <= b.values[i-1] {
				l.report(doc.problemAt(doc.lookup([]string{"rfm", b.field, fmt.Sprint(i)}, false), "rfm.%s must be in ascending order", b.field))
				ok = false
				break
			}
		}
	}
	s.Thankyou = Thankyou{Recommendations: 4, AllowedOrigins: spec.Thankyou.AllowedOrigins, LinkValidFor: DefaultLinkValidFor}
	if v := spec.Thankyou.LinkValidFor; v != "" {
		s.Thankyou.LinkValidFor, _ = ParseDuration(v) // checked by the schema format
	}
	if spec.Thankyou.Recommendations != nil {
		s.Thankyou.Recommendations = *spec.Thankyou.Recommendations
	}
	if c := spec.Thankyou.Coupon; c != nil {
		expires, _ := ParseDuration(c.ExpiresIn) // checked by the schema format
		s.Thankyou.Coupon = &CouponSpec{Name: c.Name, PercentOff: c.PercentOff, AmountOff: c.AmountOff, MinOrder: c.MinOrder, ExpiresIn: expires}
		if (c.PercentOff > 0) == (c.AmountOff > 0) {
			l.report(doc.problemAt(doc.lookup([]string{"thankyou", "coupon"}, false), "the thank-you coupon takes percent_off or amount_off (one of them)"))
			ok = false
		}
	}
	if ln := spec.Thankyou.Line; ln != nil {
		s.Thankyou.LineAddFriendURL, s.Thankyou.LineAccountLink = ln.AddFriendURL, ln.AccountLink
	}
	if o := spec.Thankyou.Optin; o != nil {
		s.Thankyou.OptinText = o.Text
	}
	s.Replenishment = Replenishment{Categories: map[string]time.Duration{}, SKUs: map[string]time.Duration{}}
	for c, d := range spec.Replenishment.Categories {
		s.Replenishment.Categories[c], _ = ParseDuration(d) // checked by the schema format
	}
	for sku, d := range spec.Replenishment.SKUs {
		s.Replenishment.SKUs[sku], _ = ParseDuration(d)
	}
	s.Shopify.ProcessTestOrders = spec.Shopify.TestOrders == "process" // checked by the schema enum
	s.Measurement = measurementOf(spec)
	s.SurveyInterval = DefaultSurveyInterval
	if v := spec.Surveys.MinInterval; v != "" {
		s.SurveyInterval, _ = ParseDuration(v) // checked by the schema format
	}
	s.Support = Support{Address: spec.Support.Address, CoolingOff: DefaultCoolingOff, NotDeliveredAfter: DefaultNotDeliveredAfter,
		SlackWebhookURL: spec.Support.SlackWebhookURL}
	if v := spec.Support.NotDeliveredAfter; v != "" {
		s.Support.NotDeliveredAfter, _ = ParseDuration(v) // checked by the schema format
	}
	if s.Support.Address == "" {
		s.Support.Address = spec.Shop.ContactEmail
	}
	if v := spec.Support.CoolingOff; v != "" {
		s.Support.CoolingOff, _ = ParseDuration(v) // checked by the schema format
	}
	if r := spec.Report; r != nil {
		s.Report = Report{Recipients: r.Recipients, Weekly: r.Weekly == nil || *r.Weekly, Alerts: r.Alerts == nil || *r.Alerts}
	}
	if spec.Lifecycle.DormantAfterDays <= spec.Lifecycle.AtRiskAfterDays {
		l.report(doc.problemAt(doc.lookup([]string{"lifecycle", "dormant_after_days"}, false), "lifecycle.dormant_after_days must be greater than at_risk_after_days"))
		ok = false
	}
	return s, ok
}

// measurementOf compiles the measurement section, with its defaults.
func measurementOf(spec settingsSpec) Measurement {
	m := spec.Measurement
	out := Measurement{GlobalControlPercent: m.GlobalControl.Percent, GlobalControlSalt: m.GlobalControl.Salt,
		ConversionWindow: DefaultConversionWindow, ClickWindow: DefaultClickWindow, ReceiveWindow: DefaultReceiveWindow, Receive: true}
	for _, d := range []struct {
		src string
		dst *time.Duration
	}{{m.ConversionWindow, &out.ConversionWindow}, {m.Attribution.ClickWindow, &out.ClickWindow}, {m.Attribution.ReceiveWindow, &out.ReceiveWindow}} {
		if d.src != "" {
			*d.dst, _ = ParseDuration(d.src) // checked by the schema format
		}
	}
	if m.Attribution.Receive != nil {
		out.Receive = *m.Attribution.Receive
	}
	return out
}

func ints(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
