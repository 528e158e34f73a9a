// Package deps builds, once per cold start, what the functions share: AWS
// clients, the store, the checked rule set and the campaign runner, all from
// the function's environment. A function refuses to start when its
// configuration or its rules are invalid.
package deps

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/tsunagu-dev/tsunagu/shared/campaign"
	"github.com/tsunagu-dev/tsunagu/shared/clicks"
	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/line"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/survey"
	"github.com/tsunagu-dev/tsunagu/shared/unsubscribe"
)

// Deps is what a function that runs campaigns is built from.
type Deps struct {
	*Base
	Rules     *rules.Set
	Campaigns *campaign.Runner
	Coupons   *coupon.Coder
	// Referrals derives customers' referral codes.
	Referrals *referral.Coder
	// Unsubscribe seals and opens unsubscribe tokens.
	Unsubscribe *unsubscribe.Sealer
	// PublicURL is the HTTP API's public base URL, without a trailing slash.
	PublicURL string
}

// Build reads the shared variables (TABLE_NAME, TSUNAGU_RULES_DIR,
// TSUNAGU_PUBLIC_URL, MAIL_FROM, SES_CONFIGURATION_SET) and secrets
// (UNSUBSCRIBE_SECRET, CLICK_SECRET, COUPON_SECRET, PSEUDONYM_SECRET and, optional,
// LINE_CHANNEL_ACCESS_TOKEN) with the function's own secrets, all in one
// read (config.Secrets), loads the rules and makes the AWS clients. The SDK
// reads credentials, region and endpoints (AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_SESV2) from the environment itself. Problems with env
// are reported together with those the caller read before calling Build.
func Build(ctx context.Context, env *config.Env, secrets ...string) (*Deps, error) {
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	publicURL := env.BaseURL("TSUNAGU_PUBLIC_URL")
	mailFrom := env.Required("MAIL_FROM")
	configSet := env.Optional("SES_CONFIGURATION_SET", "")
	specs := []config.Secret{{Name: UnsubscribeSecret}, {Name: ClickSecret}, {Name: CouponSecret}, {Name: PseudonymSecret}, {Name: LineAccessToken, Optional: true}}
	for _, name := range secrets {
		specs = append(specs, config.Secret{Name: name})
	}
	b, err := base(ctx, env, specs)
	if err != nil {
		return nil, err
	}
	st := b.Store
	set, err := rules.Load(rulesDir)
	if err != nil {
		return nil, fmt.Errorf("load rules from %s:\n%w", rulesDir, err)
	}
	sealer, err := unsubscribe.NewSealer(b.Secrets.Keys(UnsubscribeSecret)...)
	if err != nil {
		return nil, err
	}
	links, err := clicks.NewSealer(publicURL, b.Secrets.Keys(ClickSecret)...)
	if err != nil {
		return nil, err
	}
	surveys, err := survey.NewSealer(publicURL, b.Secrets.Keys(ClickSecret)...)
	if err != nil {
		return nil, err
	}
	forms, err := review.NewFormSealer(publicURL, b.Secrets.Keys(ClickSecret)...)
	if err != nil {
		return nil, err
	}
	pointsLinks, err := redeem.NewLinks(publicURL, b.Secrets.Keys(ClickSecret)...)
	if err != nil {
		return nil, err
	}
	mailer, err := email.NewSender(sesv2.NewFromConfig(b.AWS), set.Settings.FromName, mailFrom, set.Settings.ReplyTo, configSet)
	if err != nil {
		return nil, err
	}
	// Coupon codes are derived with the current key only: a code must come
	// out the same however often it is derived.
	coder, err := coupon.NewCoder(b.Secrets.Keys(CouponSecret).Current())
	if err != nil {
		return nil, err
	}
	// Referral codes are keyed like coupon codes, with the current key.
	refs, err := referral.NewCoder(b.Secrets.Keys(CouponSecret).Current())
	if err != nil {
		return nil, err
	}
	// Without a channel token LINE messages are dry runs, printed as JSON
	// lines (without the user id) to standard output.
	var lineSender campaign.LineSender = LineDryRun(env)
	if token := b.Secrets.Keys(LineAccessToken).Current(); token != "" {
		if lineSender, err = line.New(token); err != nil {
			return nil, err
		}
	}
	// Deciles from the nightly segment job, once it has run; the configured
	// ones until then. Read once per cold start.
	deciles := set.Deciles
	if stats, found, err := st.SegmentStats(ctx); err != nil {
		return nil, err
	} else if found {
		deciles = stats.Deciles
	}
	return &Deps{
		Base:        b,
		Rules:       set,
		Coupons:     coder,
		Referrals:   refs,
		Unsubscribe: sealer,
		PublicURL:   publicURL,
		Campaigns: &campaign.Runner{
			Decider: campaign.Decider{Rules: set, Deciles: deciles},
			Store:   st, Mailer: mailer, Line: lineSender, Unsubscribe: sealer, Clicks: links, Surveys: surveys, ReviewForms: forms, Coupons: coder, PublicURL: publicURL, RecommendationLimit: 3,
			Points: st, PointsLinks: pointsLinks, Referrals: refs, ProductReviews: st,
		},
	}, nil
}

// LineDryRun is the stand-in for LINE when no channel access token is
// configured: it prints each request as a JSON line to standard output,
// with the messages' content only when LINE_DRY_RUN_SHOW_MESSAGES is
// "true" (make run sets it): a deployed function's output goes to its
// logs, and rendered messages carry names and coupon codes.
func LineDryRun(env *config.Env) *line.DryRun {
	d := line.NewDryRun(os.Stdout)
	if env.Optional("LINE_DRY_RUN_SHOW_MESSAGES", "false") != "true" {
		d.HideContent()
	}
	return d
}

// Counting builds what a function that counts events but runs no
// campaigns needs: the store (as Store does, with the named secrets) and
// the shop's settings from the rules in TSUNAGU_RULES_DIR (its zone, whose
// days the counters are kept by).
func Counting(ctx context.Context, env *config.Env, secrets ...string) (*Base, rules.Settings, error) {
	b, set, err := CountingRules(ctx, env, secrets...)
	if err != nil {
		return nil, rules.Settings{}, err
	}
	return b, set.Settings, nil
}

// CountingRules is Counting with the whole rule set (the settings and
// the points programme, for a function that credits points).
func CountingRules(ctx context.Context, env *config.Env, secrets ...string) (*Base, *rules.Set, error) {
	rulesDir := env.Required("TSUNAGU_RULES_DIR")
	b, err := Store(ctx, env, secrets...)
	if err != nil {
		return nil, nil, err
	}
	set, err := rules.Load(rulesDir)
	if err != nil {
		return nil, nil, fmt.Errorf("load rules from %s:\n%w", rulesDir, err)
	}
	return b, set, nil
}
