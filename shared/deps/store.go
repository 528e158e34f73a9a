package deps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/tsunagu-dev/tsunagu/shared/config"
	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// The secrets functions read (environment variable names; in AWS each
// NAME_PARAMETER names the SSM parameter holding NAME, see config.Secrets).
const (
	WebhookSecret = "TSUNAGU_WEBHOOK_SECRET"
	ShopifySecret = "SHOPIFY_WEBHOOK_SECRET"
	// JudgemeSecret verifies Judge.me's review webhooks: the secret of
	// the shop's Judge.me OAuth app, or its private API token.
	JudgemeSecret     = "JUDGEME_WEBHOOK_SECRET"
	LineChannelSecret = "LINE_CHANNEL_SECRET"
	ThankyouSecret    = "THANKYOU_SIGNING_SECRET"
	UnsubscribeSecret = "UNSUBSCRIBE_SECRET"
	CouponSecret      = "COUPON_SECRET"
	// ClickSecret seals the click-redirect links of campaign messages.
	ClickSecret = "CLICK_SECRET"
	// PseudonymSecret keys the pseudonyms kept in place of addresses
	// (guest customer ids, suppressed addresses). It must never change
	// once data is stored under it.
	PseudonymSecret = "PSEUDONYM_SECRET"
	// LineAccessToken is optional: without it LINE messages are dry runs.
	LineAccessToken = "LINE_CHANNEL_ACCESS_TOKEN"
)

// Base is what every function is built from.
type Base struct {
	// Store is keyed with Pseudonyms when the function reads
	// PSEUDONYM_SECRET.
	Store *store.Store
	// AWS is the AWS configuration, for the function's other clients.
	AWS aws.Config
	// Secrets are the secrets read at cold start.
	Secrets Secrets
	// Pseudonyms computes the keyed pseudonyms kept in place of addresses
	// (zero unless the function reads PSEUDONYM_SECRET).
	Pseudonyms pseudonym.Keyer
}

// Secrets are a function's secrets, by variable name.
type Secrets config.SecretValues

// Keys is a secret's keys: the current one first, then the earlier ones
// still accepted while it rotates.
func (s Secrets) Keys(name string) signature.Keys {
	return signature.Keys(config.SecretValues(s).Keys(name))
}

// Store builds the store alone, for functions that run no campaigns: it
// reads TABLE_NAME and the named secrets (PseudonymSecret among them keys
// the store), reports them with the problems the caller read from env
// before, and loads the AWS configuration.
func Store(ctx context.Context, env *config.Env, secrets ...string) (*Base, error) {
	specs := make([]config.Secret, len(secrets))
	for i, name := range secrets {
		specs[i] = config.Secret{Name: name}
		if name == JudgemeSecret {
			specs[i].Optional, specs[i].Vendor = true, true
		}
	}
	return base(ctx, env, specs)
}

// base reads TABLE_NAME, loads the AWS configuration and reads the
// secrets, in one GetParameters call in AWS.
func base(ctx context.Context, env *config.Env, secrets []config.Secret) (*Base, error) {
	table := env.Required("TABLE_NAME")
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	values, err := env.Secrets(ctx, func() config.Parameters { return ssm.NewFromConfig(cfg) }, secrets...)
	if err != nil {
		return nil, err
	}
	if err := env.Err(); err != nil {
		return nil, err
	}
	b := &Base{Store: store.New(dynamodb.NewFromConfig(cfg), table), AWS: cfg, Secrets: Secrets(values)}
	if v, ok := values[PseudonymSecret]; ok {
		b.Pseudonyms = pseudonym.New(v)
		b.Store = b.Store.WithPseudonyms(b.Pseudonyms)
	}
	return b, nil
}
