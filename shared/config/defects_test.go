package config

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// selectorStore answers GetParameters as SSM does for a name with a
// version or label selector ("name:3"): the parameter comes back under its
// plain Name, with the selector in Selector, and is not an invalid one.
type selectorStore struct{ value string }

func (s selectorStore) GetParameters(_ context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	out := &ssm.GetParametersOutput{}
	for _, n := range in.Names {
		name, sel, _ := strings.Cut(n, ":")
		out.Parameters = append(out.Parameters, types.Parameter{Name: aws.String(name), Selector: aws.String(":" + sel), Type: types.ParameterTypeSecureString, Value: aws.String(s.value)})
	}
	return out, nil
}

// TestSecretParameterWithVersionSelectorIsNeitherReadNorReported: SSM
// takes "name:version" and "name:label" (how one pins a secret's version
// during a rotation) and answers with the plain name. Secrets matches the
// answer by the name it asked for, so a required secret is silently left
// out: no value, no problem, and the function starts with no key at all
// (every webhook then answers 401).
func TestSecretParameterWithVersionSelectorIsNeitherReadNorReported(t *testing.T) {
	vars := map[string]string{"SHOPIFY_WEBHOOK_SECRET_PARAMETER": "/tsunagu/shopify-webhook-secret:2"}
	e := New(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	values, err := e.Secrets(context.Background(), func() Parameters { return selectorStore{value: strong} }, Secret{Name: "SHOPIFY_WEBHOOK_SECRET"})
	if err != nil {
		t.Fatal(err)
	}
	if got := values["SHOPIFY_WEBHOOK_SECRET"]; got != strong && e.Err() == nil {
		t.Errorf("secret read as %q and no problem reported: a required secret is silently missing", got)
	}
}
