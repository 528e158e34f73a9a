package testenv

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
	localsqs "github.com/tsunagu-dev/tsunagu/infra/local/sqs"
)

// The stack as tests deploy it: the template's parameters the functions'
// policies name, and where it runs.
const (
	// SenderEmail is the SenderEmail parameter: the From address of
	// campaign email (the ses:FromAddress its policies allow).
	SenderEmail = "shop@tsubaki-chaen.example.jp"
	// SenderIdentity is the SenderIdentity parameter: the verified SES
	// identity the address belongs to.
	SenderIdentity = "tsubaki-chaen.example.jp"
	// ConfigurationSet is the name the stack's SES configuration set has
	// (resources are named by their logical ids, as the local stack does).
	ConfigurationSet = "EmailConfigurationSet"
	// SecretsPath is the SecretsPath parameter (its default): where the
	// functions' secrets are in SSM Parameter Store.
	SecretsPath = "/tsunagu"
	// ShopifyShopDomain is the ShopifyShopDomain parameter.
	ShopifyShopDomain = "tsubaki-chaen.myshopify.com"

	region = "ap-northeast-1"
)

// stackValues is what template.yaml's !Ref, !Sub and !GetAtt resolve to
// in tests: pseudo parameters for the test region and the local stack's
// account, each resource named by its logical id, the parameters above.
func stackValues() map[string]string {
	v := map[string]string{"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": localsqs.Account,
		"AWS::URLSuffix": "amazonaws.com", "SenderEmail": SenderEmail, "SenderIdentity": SenderIdentity,
		"SecretsPath": SecretsPath, "ShopifyShopDomain": ShopifyShopDomain}
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + region + ":" + localsqs.Account + ":" + resource
	}
	for id, typ := range templateT.ResourceTypes() {
		switch typ {
		case "AWS::SQS::Queue": // its Ref is a URL, which only the queue server knows
			v[id+".Arn"] = arn("sqs", id)
		case "AWS::DynamoDB::Table":
			v[id], v[id+".Arn"] = id, arn("dynamodb", "table/"+id)
		default:
			v[id] = id
		}
	}
	return v
}

// statements are the function's policy statements as deployed in tests.
func statements(tb testing.TB, function string) []sam.Statement {
	tb.Helper()
	sts, err := templateT.Statements(function, stackValues())
	if err != nil {
		tb.Fatal(err)
	}
	return sts
}

// authorise returns a middleware that asks check what IAM authorises for
// each request (an action on resources, with condition keys) and refuses,
// failing the test, what function's policies do not allow.
func authorise(tb testing.TB, function string, check func(input any) (action string, resources [][]string, keys map[string]string)) func(*middleware.Stack) error {
	sts := statements(tb, function)
	handler := func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		action, resources, keys := check(in.Parameters)
		for _, alternatives := range resources {
			ok, err := anyAllowed(sts, action, alternatives, keys)
			if err == nil && !ok {
				err = fmt.Errorf("AccessDeniedException: template.yaml does not allow %s %s on %s (with %v)", function, action, strings.Join(alternatives, " or "), keys)
			}
			if err != nil {
				tb.Error(err)
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
		}
		return next.HandleInitialize(ctx, in)
	}
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TemplatePolicy", handler), middleware.Before)
	}
}

// SQSAs is an SQS client that refuses, as IAM would in AWS, every request
// template.yaml does not allow function to make: sqs:SendMessage (which
// also authorises SendMessageBatch) to a queue its policies do not name,
// or any other action. Queues are known by name, as the local queue server
// names them: the logical id. optFns configure the client further (its
// endpoint: the local queue server).
func SQSAs(tb testing.TB, function string, optFns ...func(*sqs.Options)) *sqs.Client {
	tb.Helper()
	check := authorise(tb, function, func(input any) (string, [][]string, map[string]string) {
		switch in := input.(type) {
		case *sqs.SendMessageInput:
			return "sqs:SendMessage", [][]string{{queueARN(aws.ToString(in.QueueUrl))}}, nil
		case *sqs.SendMessageBatchInput:
			return "sqs:SendMessage", [][]string{{queueARN(aws.ToString(in.QueueUrl))}}, nil
		}
		return fmt.Sprintf("sqs:%T", input), [][]string{{"*"}}, nil
	})
	return sqs.NewFromConfig(AWSConfig(), append(optFns, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, check) })...)
}

// queueARN is the ARN of the queue at url (https://host/account/name).
func queueARN(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	account, name, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// SESAs is an SES v2 client for the SES emulator that refuses, as IAM
// would in AWS, every request template.yaml does not allow function to
// make: ses:SendEmail needs the From address's identity (the address or
// its domain) and the configuration set the mail names, under the
// policies' conditions (ses:FromAddress); any other action is refused.
// optFns configure the client further (another endpoint, retries).
func SESAs(tb testing.TB, function string, optFns ...func(*sesv2.Options)) *sesv2.Client {
	tb.Helper()
	arn := func(resource string) string {
		return "arn:aws:ses:" + region + ":" + localsqs.Account + ":" + resource
	}
	check := authorise(tb, function, func(input any) (string, [][]string, map[string]string) {
		in, ok := input.(*sesv2.SendEmailInput)
		if !ok {
			return fmt.Sprintf("ses:%T", input), [][]string{{"*"}}, nil
		}
		from := aws.ToString(in.FromEmailAddress)
		if a, err := mail.ParseAddress(from); err == nil {
			from = a.Address
		}
		_, domain, _ := strings.Cut(from, "@")
		resources := [][]string{{arn("identity/" + from), arn("identity/" + domain)}}
		if set := aws.ToString(in.ConfigurationSetName); set != "" {
			resources = append(resources, []string{arn("configuration-set/" + set)})
		}
		return "ses:SendEmail", resources, map[string]string{"ses:FromAddress": from}
	})
	return sesv2.NewFromConfig(AWSConfig(), append([]func(*sesv2.Options){func(o *sesv2.Options) { o.BaseEndpoint = aws.String(ses.URL) }},
		append(optFns, func(o *sesv2.Options) { o.APIOptions = append(o.APIOptions, check) })...)...)
}

// anyAllowed reports whether the statements allow action on one of the
// resources.
func anyAllowed(sts []sam.Statement, action string, resources []string, keys map[string]string) (bool, error) {
	for _, r := range resources {
		ok, err := permitted(sts, action, r, keys)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// permitted evaluates one action on one resource as IAM does, for what
// template.yaml's policies use: an Allow statement whose action and
// resource patterns (* and ?) match and whose conditions all hold
// (StringEquals, StringLike; a key the request lacks fails them). A
// statement it cannot evaluate faithfully (Deny, NotAction, NotResource,
// another condition operator) on a matching action is an error, so a
// tightened policy is never read as the looser one.
func permitted(sts []sam.Statement, action, resource string, keys map[string]string) (bool, error) {
	for _, st := range sts {
		if st.NotAction || st.NotResource {
			return false, fmt.Errorf("a statement with NotAction or NotResource is not understood here")
		}
		if !matchesAny(st.Actions, action, strings.ToLower) {
			continue
		}
		if st.Effect != "Allow" {
			return false, fmt.Errorf("a %s statement on %s is not understood here", st.Effect, action)
		}
		if !matchesAny(st.Resources, resource, nil) {
			continue
		}
		ok, err := conditionsHold(st.Conditions, keys)
		if err != nil {
			return false, fmt.Errorf("%s: %w", action, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func matchesAny(patterns []string, s string, fold func(string) string) bool {
	for _, p := range patterns {
		if fold != nil {
			p, s = fold(p), fold(s)
		}
		if stringLike(p, s) {
			return true
		}
	}
	return false
}

func conditionsHold(conds map[string]map[string][]string, keys map[string]string) (bool, error) {
	for op, byKey := range conds {
		for key, want := range byKey {
			got, present := keys[key]
			var hold bool
			switch op {
			case "StringEquals":
				hold = present && slices.Contains(want, got)
			case "StringLike":
				hold = present && matchesAny(want, got, nil)
			default:
				return false, fmt.Errorf("condition %s is not understood here", op)
			}
			if !hold {
				return false, nil
			}
		}
	}
	return true, nil
}
