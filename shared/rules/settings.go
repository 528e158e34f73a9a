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

// Settings is rules/settings.yaml: who the shop is and how customers are scored.
type Settings struct {
	Shop       Shop
	FromName   string
	ReplyTo    string
	Location   *time.Location
	Thresholds customer.Thresholds
}

// Shop is the sender identity every marketing email must show.
type Shop struct {
	Name          string
	URL           string
	PostalAddress string
	ContactEmail  string
	ContactPhone  string
	Currency      string
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
}

// customFormats are the schema formats rule files use beyond the standard ones.
var customFormats = []*jsonschema.Format{
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
}

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
			ContactEmail: spec.Shop.ContactEmail, ContactPhone: spec.Shop.ContactPhone, Currency: spec.Shop.Currency},
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
	if spec.Lifecycle.DormantAfterDays <= spec.Lifecycle.AtRiskAfterDays {
		l.report(doc.problemAt(doc.lookup([]string{"lifecycle", "dormant_after_days"}, false), "lifecycle.dormant_after_days must be greater than at_risk_after_days"))
		ok = false
	}
	return s, ok
}

func ints(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
