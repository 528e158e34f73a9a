package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

const shippedRules = "../../rules"

// shipped copies the shipped rule set into memory, with one campaign
// (post-purchase-thanks), so each case can change one file and expect
// exactly its own problems.
func shipped(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(shippedRules), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, CampaignsDir+"/") && p != campaignFile {
			return err
		}
		b, err := os.ReadFile(shippedRules + "/" + p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestShippedRulesLoad(t *testing.T) {
	set, err := Load(shippedRules)
	if err != nil {
		t.Fatalf("shipped rules do not load:\n%v", err)
	}
	c := set.Campaign("post-purchase-thanks")
	if c == nil || c.Trigger != TriggerOrderCreated || c.Kind != Marketing || !set.Templates["post-purchase-thanks"].HasLegalFooter {
		t.Errorf("post-purchase-thanks = %+v", c)
	}
}

func TestShippedSchemasMatchEmbedded(t *testing.T) {
	entries, _ := fs.ReadDir(Schemas, "schema")
	for _, e := range entries {
		embedded, _ := fs.ReadFile(Schemas, "schema/"+e.Name())
		onDisk, err := os.ReadFile(shippedRules + "/schema/" + e.Name())
		if err != nil || string(onDisk) != string(embedded) {
			t.Errorf("rules/schema/%s differs from shared/rules/schema/%s; copy it so editors check what lint checks", e.Name(), e.Name())
		}
	}
}

const campaignFile = "campaigns/post-purchase-thanks.yaml"

// minimalCampaign is a valid campaign file, for cases about other files.
const minimalCampaign = "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions: [{type: email, template: post-purchase-thanks}]\n"

func TestLintProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // path -> new content ("" deletes)
		want  []string
	}{
		{
			name:  "unknown field with suggestion",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\ntrigerr: order.created\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:1: unknown field "trigerr"; did you mean "trigger"?`},
		},
		{
			name:  "missing required fields",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\n"},
			want: []string{
				`rules/campaigns/post-purchase-thanks.yaml:1:1: missing required field "name"`,
				`rules/campaigns/post-purchase-thanks.yaml:1:1: missing required field "trigger"`,
			},
		},
		{
			name:  "wrong types and values",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\nenabled: yes please\ntrigger: order.paid\npriority: high\nactions: [{type: fax, template: post-purchase-thanks}]\n"},
			want: []string{
				`rules/campaigns/post-purchase-thanks.yaml:3:10: enabled must be boolean, got string`,
				`rules/campaigns/post-purchase-thanks.yaml:4:10: trigger must be one of order.created, order.fulfilled, order.delivered, order.cancelled, thankyou.viewed, lifecycle.birthday, lifecycle.replenishment, loyalty.points_expiring, referral.friend_ordered, referral.reward_approved, loyalty.rank_up, loyalty.rank_down`,
				`rules/campaigns/post-purchase-thanks.yaml:5:11: priority must be integer, got string`,
				`rules/campaigns/post-purchase-thanks.yaml:6:18: actions[0].type must be one of email, line, coupon, review_request, survey, points`,
			},
		},
		{
			name:  "audience syntax error at its position",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\naudience: customer.order_count >= \nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:33: audience: unexpected token EOF`},
		},
		{
			name:  "audience unknown field in a block scalar",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\naudience: |\n  customer.accepts_marketing &&\n    customer.ordr_count > 1\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:6:14: audience: type rules.CustomerFacts has no field ordr_count`},
		},
		{
			name:  "audience unknown name on a folded line of a plain scalar",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\naudience: customer.accepts_marketing &&\n   cmrstoeu.o\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:5:4: audience: unknown name cmrstoeu`},
		},
		{
			name:  "YAML syntax error at the end of the file",
			files: map[string]string{campaignFile: "["},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:1:2: YAML syntax: did not find expected node content`},
		},
		{
			name:  "audience that is not a condition",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\naudience: customer.order_count\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:11: audience: expected bool, but got int`},
		},
		{
			name:  "unknown template",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions:\n  - type: email\n    template: thanks-v2\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:6:15: unknown template "thanks-v2": no directory templates/thanks-v2`},
		},
		{
			name: "id must match file name",
			files: map[string]string{
				"campaigns/other.yaml": minimalCampaign,
				campaignFile:           minimalCampaign,
			},
			want: []string{
				`rules/campaigns/other.yaml:1:5: campaign id "post-purchase-thanks" must match its file name "other"`,
				`rules/campaigns/post-purchase-thanks.yaml:1:5: campaign id "post-purchase-thanks" is already used by rules/campaigns/other.yaml`,
			},
		},
		{
			name:  "YAML syntax error",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: [x\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:2:1: YAML syntax: did not find expected ',' or ']'`},
		},
		{
			name: "marketing email without legal footer",
			files: map[string]string{
				campaignFile:                  minimalCampaign,
				"templates/_layout/body.html": `<html>{{template "content" .}}</html>`,
				"templates/_layout/body.txt":  `{{template "content" .}}`,
			},
			want: []string{`rules/campaigns/post-purchase-thanks.yaml:4:35: template "post-purchase-thanks" is used for marketing but does not show the sender's name, postal address, contact and unsubscribe link (特定電子メール法); keep the _layout footer`},
		},
		{
			name:  "template merge field that does not exist",
			files: map[string]string{"templates/post-purchase-thanks/body.txt": "{{.Customer.Name}}様\n\n{{.Customer.Nickname}}\n"},
			want:  []string{`rules/templates/post-purchase-thanks/body.txt:3:11: executing "content" at <.Customer.Nickname>: can't evaluate field Nickname in type rules.CustomerData`},
		},
		{
			name:  "template syntax error",
			files: map[string]string{"templates/post-purchase-thanks/subject.txt": "{{.Customer.Name}様\n"},
			want:  []string{`rules/templates/post-purchase-thanks/subject.txt:1:1: bad character U+007D '}'`},
		},
		{
			name:  "template missing a part",
			files: map[string]string{"templates/post-purchase-thanks/body.txt": ""},
			want:  []string{`rules/templates/post-purchase-thanks:1:1: template "post-purchase-thanks" needs body.txt`},
		},
		{
			name:  "settings: bad zone and currency",
			files: map[string]string{"settings.yaml": strings.NewReplacer("Asia/Tokyo", "Asia/Kyoto", "currency: JPY", "currency: YEN").Replace(readShipped(t, "settings.yaml"))},
			want: []string{
				`rules/settings.yaml:11:13: shop.timezone "Asia/Kyoto" is not an IANA time zone such as Asia/Tokyo`,
				`rules/settings.yaml:12:13: shop.currency "YEN" is not an ISO 4217 currency code`,
			},
		},
		{
			name:  "unknown segment",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\naudience: in_segment(\"vips\") && order.first\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:22: audience: unknown segment "vips"; segments are defined in segments.yaml`},
		},
		{
			name:  "coupon without expiry or discount",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions:\n  - {type: coupon, name: 10%OFF}\n"},
			want: []string{
				`rules/campaigns/post-purchase-thanks.yaml:5:12: a coupon needs an expiry: add expires_in, such as 30d`,
				`rules/campaigns/post-purchase-thanks.yaml:5:12: a coupon needs percent_off or amount_off`,
			},
		},
		{
			name:  "coupon fields on an email action",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions:\n  - {type: email, template: post-purchase-thanks, percent_off: 10}\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:5:51: unknown field "actions[0].percent_off"`},
		},
		{
			name: "variant weights and both actions and variants",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions: [{type: email, template: post-purchase-thanks}]\nvariants:\n" +
				"  - {name: a, weight: 60, actions: [{type: email, template: post-purchase-thanks}]}\n  - {name: b, weight: 60, actions: [{type: email, template: post-purchase-thanks}]}\n"},
			want: []string{`rules/campaigns/post-purchase-thanks.yaml:6:3: a campaign has either actions or variants, not both`},
		},
		{
			name: "variant weights must add up",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nvariants:\n" +
				"  - {name: a, weight: 60, actions: [{type: email, template: post-purchase-thanks}]}\n  - {name: b, weight: 60, actions: [{type: email, template: post-purchase-thanks}]}\n"},
			want: []string{`rules/campaigns/post-purchase-thanks.yaml:5:3: variant weights add up to 120; they must add up to 100`},
		},
		{
			name:  "LINE action needs line.txt",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions: [{type: line, template: review-request}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:34: template "review-request" has no line.txt for a LINE message`},
		},
		{
			name:  "bad delay and dates",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\ndelay: tomorrow\nactive: {from: 2026-12-01, until: 2026-11-01}\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:8: delay "tomorrow" is not a delay such as 72h, 3d or "next day 10:00"`},
		},
		{
			name:  "active window backwards",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactive: {from: 2026-12-01, until: 2026-11-01}\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want:  []string{`rules/campaigns/post-purchase-thanks.yaml:4:35: active.until is before active.from`},
		},
		{
			name:  "segment using a segment",
			files: map[string]string{"segments.yaml": "segments:\n  a: {where: 'in_segment(\"b\")'}\n  b: {where: customer.order_count > 1}\n"},
			want:  []string{`rules/segments.yaml:2:14: segment "a": a segment cannot use in_segment; write the condition out`},
		},
		{
			name:  "settings: bounds out of order",
			files: map[string]string{"settings.yaml": strings.Replace(readShipped(t, "settings.yaml"), "[2, 3, 5, 10]", "[2, 3, 3, 10]", 1)},
			want:  []string{`rules/settings.yaml:29:28: rfm.frequency_orders must be in ascending order`},
		},
		{
			name:  "settings: unknown test order handling",
			files: map[string]string{"settings.yaml": strings.Replace(readShipped(t, "settings.yaml"), "test_orders: ignore", "test_orders: skip", 1)},
			want:  []string{fmt.Sprintf("rules/settings.yaml:%d:16: shopify.test_orders must be one of ignore, process", lineOf(t, "settings.yaml", "test_orders:"))},
		},
		{
			name: "settings: measurement windows, share and salt",
			files: map[string]string{"settings.yaml": strings.NewReplacer("click_window: 5d", "click_window: 5 days", `{percent: 0, salt: "2026-12"}`, "{percent: 80}",
				"receive: true", "receive: sometimes").Replace(readShipped(t, "settings.yaml"))},
			want: []string{
				fmt.Sprintf(`rules/settings.yaml:%d:19: missing required field "measurement.global_control.salt"`, lineOf(t, "settings.yaml", "global_control:")),
				fmt.Sprintf(`rules/settings.yaml:%d:29: measurement.global_control.percent must be at most 50, got 80`, lineOf(t, "settings.yaml", "global_control:")),
				fmt.Sprintf(`rules/settings.yaml:%d:19: measurement.attribution.click_window "5 days" is not a duration such as 30m, 72h, 3d or 2w`, lineOf(t, "settings.yaml", "click_window:")),
				fmt.Sprintf(`rules/settings.yaml:%d:14: measurement.attribution.receive must be boolean, got string`, lineOf(t, "settings.yaml", "receive: true")),
			},
		},
		{
			name:  "settings: report recipients",
			files: map[string]string{"settings.yaml": strings.NewReplacer("marketing@tsubaki-chaen.example.jp", "marketing at tsubaki", "weekly: true", "weekly: mondays").Replace(readShipped(t, "settings.yaml"))},
			want: []string{
				fmt.Sprintf(`rules/settings.yaml:%d:7: report.recipients[0] must be a valid email`, lineOf(t, "settings.yaml", "marketing@")),
				fmt.Sprintf(`rules/settings.yaml:%d:11: report.weekly must be boolean, got string`, lineOf(t, "settings.yaml", "weekly: true")),
			},
		},
		{
			name:  "loyalty: unknown key with suggestion",
			files: map[string]string{LoyaltyFile: "earn:\n  amount_per_point: 100\nreturn_windw: 14d\n"},
			want:  []string{`rules/loyalty.yaml:3:1: unknown field "return_windw"; did you mean "return_window"?`},
		},
		{
			name:  "loyalty: negative rate",
			files: map[string]string{LoyaltyFile: "earn:\n  amount_per_point: -100\n"},
			want:  []string{`rules/loyalty.yaml:2:21: earn.amount_per_point must be at least 1, got -100`},
		},
		{
			name:  "loyalty: bad duration",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nreturn_window: two weeks\n"},
			want:  []string{`rules/loyalty.yaml:2:16: return_window "two weeks" is not a duration such as 30m, 72h, 3d or 2w`},
		},
		{
			name:  "loyalty: every mistake at once",
			files: map[string]string{LoyaltyFile: "earn:\n  amount_per_point: 0\n  bonus: 5\nreturn_window: -3d\nexpiry:\n  months_without_order: 1.5\n"},
			want: []string{
				`rules/loyalty.yaml:2:21: earn.amount_per_point must be at least 1, got 0`,
				`rules/loyalty.yaml:3:3: unknown field "earn.bonus"`,
				`rules/loyalty.yaml:4:16: return_window "-3d" is not a duration such as 30m, 72h, 3d or 2w`,
				`rules/loyalty.yaml:6:25: expiry.months_without_order must be integer, got number`,
			},
		},
		{
			name:  "crosssell: reviews_of on a product target",
			files: map[string]string{CrossSellFile: "relations:\n  - from: {sku: A}\n    to:\n      - {sku: B, reviews_of: B}\n"},
			want:  []string{"rules/crosssell.yaml:4:9: reviews_of belongs to a category target (a product target's reviews are its own)"},
		},
		{
			name:  "loyalty: the rate is required",
			files: map[string]string{LoyaltyFile: "return_window: 14d\n"},
			want:  []string{`rules/loyalty.yaml:1:1: missing required field "earn"`},
		},
		{
			name:  "loyalty: mistakes beside another file's",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100, per: 1}\n", campaignFile: "id: post-purchase-thanks\n"},
			want: []string{
				`rules/campaigns/post-purchase-thanks.yaml:1:1: missing required field "name"`,
				`rules/campaigns/post-purchase-thanks.yaml:1:1: missing required field "trigger"`,
				`rules/loyalty.yaml:1:31: unknown field "earn.per"`,
			},
		},
		{
			name: "loyalty: referral mistakes, every one at once",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nreferral:\n  friend: {amount_off: 500, percent_off: 10}\n" +
				"  advocate: {points: 500, coupon: {amount_off: 500, expires_in: 90d}}\n  max_per_week: 0\n  landing_url: https://shop.example.jp/\n"},
			want: []string{
				`rules/loyalty.yaml:5:17: referral.max_per_week must be at least 1, got 0`,
				`rules/loyalty.yaml:6:16: referral.landing_url must match ^https?://[^ ]*\{code\}`,
			},
		},
		{
			name: "loyalty: referral one of two",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nreferral:\n  friend: {amount_off: 500, percent_off: 10}\n" +
				"  advocate:\n    points: 500\n    coupon: {name: x, expires_in: 90d}\n"},
			want: []string{
				`rules/loyalty.yaml:3:12: referral.friend takes percent_off or amount_off, not both`,
				`rules/loyalty.yaml:6:5: referral.advocate takes points or coupon, not both`,
				`rules/loyalty.yaml:6:5: referral.advocate.coupon needs percent_off or amount_off`,
			},
		},
		{
			name:  "loyalty: referral key misspelt",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nreferral:\n  friend: {min_order: 3000}\n  advocate: {}\n  max_per_weak: 3\n"},
			want: []string{
				`rules/loyalty.yaml:5:3: unknown field "referral.max_per_weak"; did you mean "max_per_week"?`,
			},
		},
		{
			name: "points action: points and a reason",
			files: map[string]string{campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions:\n" +
				"  - {type: points, points: 100, reason: 二回目購入ボーナス}\n  - {type: points, points: 0}\n"},
			want: []string{
				`rules/campaigns/post-purchase-thanks.yaml:6:5: missing required field "actions[1].reason"`,
				`rules/campaigns/post-purchase-thanks.yaml:6:28: actions[1].points must be at least 1, got 0`,
			},
		},
		{
			name: "points action: needs the programme",
			files: map[string]string{LoyaltyFile: "", campaignFile: "id: post-purchase-thanks\nname: x\ntrigger: order.created\nactions:\n" +
				"  - {type: points, points: 100, reason: 二回目購入ボーナス}\n"},
			want: []string{`rules/campaigns/post-purchase-thanks.yaml:5:12: a points action needs a points programme: add loyalty.yaml`},
		},
		{
			name: "programme triggers need their loyalty.yaml sections",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nexpiry: {months_without_order: 12}\n",
				campaignFile:                   "id: post-purchase-thanks\nname: x\ntrigger: loyalty.points_expiring\nactions: [{type: email, template: post-purchase-thanks}]\n",
				"campaigns/thanks-friend.yaml": "id: thanks-friend\nname: x\ntrigger: referral.friend_ordered\nactions: [{type: email, template: post-purchase-thanks}]\n"},
			want: []string{
				`rules/campaigns/post-purchase-thanks.yaml:3:10: trigger loyalty.points_expiring needs expiry.warn_before in loyalty.yaml (when to warn)`,
				`rules/campaigns/thanks-friend.yaml:3:10: trigger referral.friend_ordered needs a referral: section in loyalty.yaml`,
			},
		},
		{
			name:  "loyalty: expiry warnings are durations",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nexpiry: {months_without_order: 12, warn_before: [30d, a week]}\n"},
			want:  []string{`rules/loyalty.yaml:2:55: expiry.warn_before[1] "a week" is not a duration such as 30m, 72h, 3d or 2w`},
		},
		{
			name: "loyalty: rewards, every mistake at once",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nrewards:\n  expires_in: soon\n  options:\n" +
				"    - {id: yen500, name: 500円OFF, points: 500, amount_off: 500}\n    - {id: yen500, name: again, points: 0, amount_off: 500}\n"},
			want: []string{
				`rules/loyalty.yaml:3:15: rewards.expires_in "soon" is not a duration such as 30m, 72h, 3d or 2w`,
				`rules/loyalty.yaml:6:41: rewards.options[1].points must be at least 1, got 0`,
			},
		},
		{
			name:  "loyalty: rewards need options or a rate",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nrewards:\n  expires_in: 30d\n"},
			want:  []string{`rules/loyalty.yaml:2:1: rewards: needs options, a rate or both`},
		},
		{
			name:  "loyalty: the rate's step is at least 1",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nrewards:\n  rate: {value_per_point: 1, step: 0}\n"},
			want:  []string{`rules/loyalty.yaml:3:36: rewards.rate.step must be at least 1, got 0`},
		},
		{
			name: "loyalty: the rate's ids are kept",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nrewards:\n  rate: {value_per_point: 1, step: 100}\n" +
				"  options:\n    - {id: pt-500, name: x, points: 500, amount_off: 500}\n"},
			want: []string{`rules/loyalty.yaml:5:8: rewards.options: id "pt-500" begins with "pt-", kept for the rate's rewards`},
		},
		{
			name:  "loyalty: the rate's max_points is a multiple of its step",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nrewards:\n  rate: {value_per_point: 1, step: 100, max_points: 250}\n"},
			want:  []string{`rules/loyalty.yaml:3:53: rewards.rate.max_points 250 is not a multiple of step 100`},
		},
		{
			name:  "loyalty: reward ids are unique",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nrewards:\n  options:\n    - {id: a, name: x, points: 5, amount_off: 5}\n    - {id: a, name: y, points: 9, amount_off: 9}\n"},
			want:  []string{`rules/loyalty.yaml:5:8: rewards.options: id "a" is used twice`},
		},
		{
			name: "loyalty: ranks out of order, a first threshold above 0, a duplicate id",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nranks:\n  levels:\n    - {id: regular, name: R, threshold: 10}\n" +
				"    - {id: silver, name: S, threshold: 5000}\n    - {id: silver, name: G, threshold: 5000}\n"},
			want: []string{
				`rules/loyalty.yaml:4:41: ranks.levels[0].threshold must be 0 (the first rank is every customer's), got 10`,
				`rules/loyalty.yaml:6:12: ranks.levels[2].id "silver" is already the id of another rank`,
				`rules/loyalty.yaml:6:40: ranks.levels[2].threshold must be more than the rank before's 5000, got 5000`,
			},
		},
		{
			name:  "loyalty: ranks schema mistakes",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nranks:\n  basis: visits\n  window: {months: 0}\n  levels: [{id: Gold, name: G, threshold: 0, multiplier_percent: 50}]\n"},
			want: []string{
				`rules/loyalty.yaml:3:10: ranks.basis must be one of spend, approved_points`,
				`rules/loyalty.yaml:4:20: ranks.window.months must be at least 1, got 0`,
				`rules/loyalty.yaml:5:17: ranks.levels[0].id must match ^[a-z][a-z0-9_-]{0,31}$`,
				`rules/loyalty.yaml:5:66: ranks.levels[0].multiplier_percent must be at least 100, got 50`,
			},
		},
		{
			name:  "loyalty: referral needs both sides",
			files: map[string]string{LoyaltyFile: "earn: {amount_per_point: 100}\nreferral:\n  friend: {min_order: 3000}\n  advocate: {}\n"},
			want: []string{
				`rules/loyalty.yaml:3:3: referral.friend needs percent_off or amount_off`,
				`rules/loyalty.yaml:4:3: referral.advocate needs points or coupon`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			for p, content := range tt.files {
				if content == "" {
					delete(fsys, p)
					continue
				}
				fsys[p] = &fstest.MapFile{Data: []byte(content)}
			}
			_, err := LoadFS(fsys, "rules")
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("LoadFS error = %v, want Problems", err)
			}
			got := strings.Split(ps.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// lineOf is the line number of the first line of a shipped rule file that
// contains s.
func lineOf(t *testing.T, name, s string) int {
	t.Helper()
	for i, line := range strings.Split(readShipped(t, name), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", name, s)
	return 0
}

func readShipped(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(shippedRules + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAudience(t *testing.T) {
	fsys := shipped(t)
	fsys[campaignFile] = &fstest.MapFile{Data: []byte("id: post-purchase-thanks\nname: x\ntrigger: order.created\n" +
		"audience: customer.accepts_marketing && customer.has_email && bought_category(\"sweets\") && order.first && days_since_last_order == 0\n" +
		"actions: [{type: email, template: post-purchase-thanks}]\n")}
	set, err := LoadFS(fsys, "rules")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	o := order.Order{ID: "1001", Currency: "JPY", Total: 4300, PlacedAt: now, Customer: &order.Customer{ID: "c-1"},
		Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: 2150, Quantity: 2}}}
	profile := func(consent order.ConsentState, email string) customer.Profile {
		var p customer.Profile
		p.ApplyContact(order.Customer{ID: "c-1", Email: email, Consent: order.Consent{State: consent, At: now}}, now)
		p.ApplyOrder(o.ID, customer.Summarize(o, order.Created), now)
		p.Recompute(set.Settings.Thresholds)
		return p
	}
	tests := []struct {
		name string
		p    customer.Profile
		want bool
	}{
		{name: "consented", p: profile(order.ConsentGranted, "misaki@example.jp"), want: true},
		{name: "refused", p: profile(order.ConsentDenied, "misaki@example.jp"), want: false},
		{name: "never asked", p: profile(order.ConsentUnknown, "misaki@example.jp"), want: false},
		{name: "no email", p: profile(order.ConsentGranted, ""), want: false},
	}
	c := set.Campaign("post-purchase-thanks")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := set.NewEnv("order.created", tt.p, o, set.Deciles, now)
			got, err := c.InAudience(&vm.VM{}, &env)
			if err != nil || got != tt.want {
				t.Errorf("InAudience = %v, %v; want %v", got, err, tt.want)
			}
			if !env.Order.First || !env.BoughtCategory("sweets") || env.BoughtCategory("tea") {
				t.Errorf("env = %+v", env)
			}
		})
	}
}

func TestRecommend(t *testing.T) {
	set, err := Load(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		counts     map[string]int
		justBought []string
		want       []string
	}{
		{name: "sweets buyer gets tea and teaware", counts: map[string]int{"sweets": 2}, justBought: []string{"sweets"}, want: []string{"羊羹に合う宇治煎茶", "お茶の時間を彩る急須と湯呑み"}},
		{name: "most bought category first, nothing just bought", counts: map[string]int{"tea": 5, "sweets": 1}, justBought: []string{"tea", "teaware"}, want: []string{"お茶請けに、季節の和菓子"}},
		{name: "limit", counts: map[string]int{"tea": 5, "sweets": 1}, want: []string{"お茶請けに、季節の和菓子"}},
		{name: "unknown category", counts: map[string]int{"shoes": 1}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := 3
			if tt.name == "limit" {
				limit = 1
			}
			var got []string
			for _, r := range set.Recommend(tt.counts, tt.justBought, limit) {
				got = append(got, r.Title)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Recommend = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	set, err := Load(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData(set.Settings)
	d.Customer.Name = `<script>alert("x")</script>`
	r, err := set.Templates["post-purchase-thanks"].Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Error("HTML body must escape merge fields")
	}
	if !strings.Contains(r.Text, "4,300円") || !strings.Contains(r.Text, "2026年11月21日") {
		t.Errorf("text body formats money and dates in the shop's way:\n%s", r.Text)
	}
}

func TestSegmentsOf(t *testing.T) {
	set, err := Load(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)
	var p customer.Profile
	for i, sku := range []string{"TEA-SENCHA", "TEA-GYOKURO"} {
		o := order.Order{ID: fmt.Sprint(i), Currency: "JPY", Total: 3200, PlacedAt: now.AddDate(0, 0, -10*i),
			Items: []order.Item{{SKU: sku, Category: "tea", Brand: "椿茶園", UnitPrice: 1600, Quantity: 2}}}
		p.ApplyOrder(o.ID, customer.Summarize(o, order.Created), now)
	}
	p.Recompute(set.Settings.Thresholds)
	got := set.SegmentsOf(p, set.Deciles, now)
	if want := []string{"promising", "repeaters", "tea_lovers", "tsubaki_fans"}; !slices.Equal(got, want) {
		t.Errorf("segments of a recent two-order buyer of 椿茶園's tea = %v, want %v", got, want)
	}
}

// TestMeasurementSettings: the measurement section as shipped, left out
// (the defaults) and set.
func TestMeasurementSettings(t *testing.T) {
	const day = 24 * time.Hour
	defaults := Measurement{ConversionWindow: 14 * day, ClickWindow: 5 * day, ReceiveWindow: day, Receive: true}
	tests := []struct {
		name     string
		settings func(shipped string) string
		want     Measurement
	}{
		{"as shipped: no global control", func(s string) string { return s }, Measurement{GlobalControlSalt: "2026-12", ConversionWindow: 14 * day, ClickWindow: 5 * day, ReceiveWindow: day, Receive: true}},
		{"left out: the defaults", func(s string) string { return s[:strings.Index(s, "\nmeasurement:")] + "\n" }, defaults},
		{"set", func(s string) string {
			return s[:strings.Index(s, "\nmeasurement:")] + "\nmeasurement:\n  global_control: {percent: 5, salt: q3}\n  conversion_window: 30d\n" +
				"  attribution: {click_window: 7d, receive_window: 12h, receive: false}\n"
		}, Measurement{GlobalControlPercent: 5, GlobalControlSalt: "q3", ConversionWindow: 30 * day, ClickWindow: 7 * day, ReceiveWindow: 12 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			fsys["settings.yaml"] = &fstest.MapFile{Data: []byte(tt.settings(readShipped(t, "settings.yaml")))}
			set, err := LoadFS(fsys, "rules")
			if err != nil {
				t.Fatal(err)
			}
			if set.Settings.Measurement != tt.want {
				t.Errorf("measurement = %+v, want %+v", set.Settings.Measurement, tt.want)
			}
		})
	}
}

// TestReportSettings: the report section as shipped, left out (nothing is
// emailed) and with the emails turned off.
func TestReportSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings func(shipped string) string
		want     Report
	}{
		{"as shipped", func(s string) string { return s }, Report{Recipients: []string{"marketing@tsubaki-chaen.example.jp"}, Weekly: true, Alerts: true}},
		{"left out: no recipients", func(s string) string { return s[:strings.Index(s, "\nreport:")] + "\n" }, Report{}},
		{"turned off, defaults on", func(s string) string {
			return s[:strings.Index(s, "\nreport:")] + "\nreport:\n  recipients: [a@example.jp, b@example.jp]\n  alerts: false\n"
		}, Report{Recipients: []string{"a@example.jp", "b@example.jp"}, Weekly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			fsys["settings.yaml"] = &fstest.MapFile{Data: []byte(tt.settings(readShipped(t, "settings.yaml")))}
			set, err := LoadFS(fsys, "rules")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(set.Settings.Report, tt.want) {
				t.Errorf("report = %+v, want %+v", set.Settings.Report, tt.want)
			}
		})
	}
}

// TestSupportSettings: the support section as shipped, and left out (the
// shop's contact address, 30 days).
func TestSupportSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings func(shipped string) string
		want     Support
	}{
		{"as shipped", func(s string) string { return s }, Support{Address: "support@tsubaki-chaen.example.jp", CoolingOff: 30 * 24 * time.Hour, NotDeliveredAfter: 7 * 24 * time.Hour}},
		{"left out: the contact address, 30 days", func(s string) string {
			return strings.Replace(s[:strings.Index(s, "\nsupport:")]+"\n", "contact_email: support@", "contact_email: help@", 1)
		}, Support{Address: "help@tsubaki-chaen.example.jp", CoolingOff: DefaultCoolingOff, NotDeliveredAfter: DefaultNotDeliveredAfter}},
		{"a week", func(s string) string { return strings.Replace(s, "cooling_off: 30d", "cooling_off: 1w", 1) }, Support{Address: "support@tsubaki-chaen.example.jp", CoolingOff: 7 * 24 * time.Hour, NotDeliveredAfter: 7 * 24 * time.Hour}},
		{"a slack webhook", func(s string) string {
			return strings.Replace(s, "  # slack_webhook_url: ", "  slack_webhook_url: ", 1)
		}, Support{Address: "support@tsubaki-chaen.example.jp", CoolingOff: 30 * 24 * time.Hour, NotDeliveredAfter: 7 * 24 * time.Hour, SlackWebhookURL: "https://hooks.slack.com/services/T000/B000/XXXX"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			fsys["settings.yaml"] = &fstest.MapFile{Data: []byte(tt.settings(readShipped(t, "settings.yaml")))}
			set, err := LoadFS(fsys, "rules")
			if err != nil {
				t.Fatal(err)
			}
			if set.Settings.Support != tt.want {
				t.Errorf("support = %+v, want %+v", set.Settings.Support, tt.want)
			}
		})
	}
}

// TestReviewPointsDisclosed: with points for reviews on, a review request
// whose template does not show {{.ReviewPoints}} in both bodies is
// refused at its line; the shipped review request shows them; without
// the programme any template goes.
func TestReviewPointsDisclosed(t *testing.T) {
	request := "id: review-request\nname: x\ntrigger: order.delivered\nactions:\n  - {type: review_request, template: %s}\n"
	tests := []struct {
		name, loyalty, template string
		want                    string
	}{
		{"shipped template, points on", "earn: {amount_per_point: 100}\nreviews: {points: 50}\n", "review-request", ""},
		{"no disclosure, points on", "earn: {amount_per_point: 100}\nreviews: {points: 50}\n", "winback",
			`rules/campaigns/review-request.yaml:5:38: template "winback" asks for reviews that earn points (loyalty.yaml reviews:) but does not show {{.ReviewPoints}} in both bodies: the incentive must be disclosed (景品表示法・ステマ規制)`},
		{"no disclosure, no points for reviews", "earn: {amount_per_point: 100}\n", "winback", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			fsys[LoyaltyFile] = &fstest.MapFile{Data: []byte(tt.loyalty)}
			fsys["campaigns/review-request.yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(request, tt.template))}
			set, err := LoadFS(fsys, "rules")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("lint = %q, want %q", got, tt.want)
			}
			if err == nil && tt.loyalty != "earn: {amount_per_point: 100}\n" && set.Loyalty.ReviewPoints != 50 {
				t.Errorf("review points = %d, want 50", set.Loyalty.ReviewPoints)
			}
		})
	}
}

// TestSupportSlackHTTPS: a Slack webhook over plain http is refused with
// its line and column (the URL carries the case, and is a secret).
func TestSupportSlackHTTPS(t *testing.T) {
	fsys := shipped(t)
	settings := strings.Replace(readShipped(t, "settings.yaml"), "  # slack_webhook_url: https://", "  slack_webhook_url: http://", 1)
	fsys["settings.yaml"] = &fstest.MapFile{Data: []byte(settings)}
	_, err := LoadFS(fsys, "rules")
	line := strings.Count(settings[:strings.Index(settings, "  slack_webhook_url:")], "\n") + 1
	want := fmt.Sprintf("rules/settings.yaml:%d:22: support.slack_webhook_url must match ^https://[^ ]+$", line)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestLoyalty(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" removes loyalty.yaml
		want    *Loyalty
	}{
		{name: "the shipped sample", content: readShipped(t, LoyaltyFile),
			want: &Loyalty{AmountPerPoint: 100, ReturnWindow: 14 * 24 * time.Hour, ExpiryMonths: 12, ExpiryWarnings: []time.Duration{30 * 24 * time.Hour, 7 * 24 * time.Hour},
				Referral: &Referral{Friend: Discount{AmountOff: 500, MinOrder: 3000}, AdvocatePoints: 500, MaxPerWeek: 5},
				Rewards: []Reward{{ID: "yen500", Name: "500円OFFクーポン", Points: 500, AmountOff: 500, ExpiresIn: 90 * 24 * time.Hour},
					{ID: "yen1000", Name: "1,000円OFFクーポン", Points: 1000, AmountOff: 1000, MinOrder: 3000, ExpiresIn: 90 * 24 * time.Hour}},
				RewardValidity: 90 * 24 * time.Hour,
				Ranks: &Ranks{Basis: RankBySpend, WindowMonths: 12, Levels: []Rank{
					{ID: "regular", Name: "レギュラー", MultiplierPercent: 100},
					{ID: "silver", Name: "シルバー", Threshold: 30000, MultiplierPercent: 120},
					{ID: "gold", Name: "ゴールド", Threshold: 100000, MultiplierPercent: 150, BirthdayBonus: 500}}}}},
		{name: "ranks by points, default window", content: "earn: {amount_per_point: 1}\nranks:\n  basis: approved_points\n  levels: [{id: a, name: A, threshold: 0}, {id: b, name: B, threshold: 500, multiplier_percent: 200}]\n",
			want: &Loyalty{AmountPerPoint: 1, ReturnWindow: DefaultReturnWindow,
				Ranks: &Ranks{Basis: RankByApprovedPoints, WindowMonths: DefaultRankWindowMonths, Levels: []Rank{
					{ID: "a", Name: "A", MultiplierPercent: 100}, {ID: "b", Name: "B", Threshold: 500, MultiplierPercent: 200}}}}},
		{name: "rewards at a rate only", content: "earn: {amount_per_point: 100}\nrewards:\n  expires_in: 30d\n  rate: {value_per_point: 1, step: 100, max_points: 5000, min_order: 2000}\n",
			want: &Loyalty{AmountPerPoint: 100, ReturnWindow: DefaultReturnWindow, RewardValidity: 30 * 24 * time.Hour,
				Rate: &RewardRate{ValuePerPoint: 1, Step: 100, MaxPoints: 5000, MinOrder: 2000}}},
		{name: "no file, no programme", content: "", want: nil},
		{name: "defaults: 14 days pending, no expiry", content: "earn: {amount_per_point: 200}\n",
			want: &Loyalty{AmountPerPoint: 200, ReturnWindow: DefaultReturnWindow}},
		{name: "a return window in weeks", content: "earn: {amount_per_point: 1}\nreturn_window: 4w\nexpiry: {months_without_order: 6}\n",
			want: &Loyalty{AmountPerPoint: 1, ReturnWindow: 28 * 24 * time.Hour, ExpiryMonths: 6}},
		{name: "expiry warnings, longest first", content: "earn: {amount_per_point: 1}\nexpiry: {months_without_order: 6, warn_before: [7d, 2w, 1d]}\n",
			want: &Loyalty{AmountPerPoint: 1, ReturnWindow: DefaultReturnWindow, ExpiryMonths: 6,
				ExpiryWarnings: []time.Duration{14 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := shipped(t)
			delete(fsys, LoyaltyFile)
			if tt.content != "" {
				fsys[LoyaltyFile] = &fstest.MapFile{Data: []byte(tt.content)}
			}
			set, err := LoadFS(fsys, "rules")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(set.Loyalty, tt.want) {
				t.Errorf("Loyalty = %+v, want %+v", set.Loyalty, tt.want)
			}
		})
	}
}
