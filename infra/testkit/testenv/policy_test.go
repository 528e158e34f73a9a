package testenv

import (
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
)

func TestPermitted(t *testing.T) {
	send := sam.Statement{Effect: "Allow", Actions: []string{"ses:SendEmail"},
		Resources:  []string{"arn:aws:ses:r:1:identity/shop.example", "arn:aws:ses:r:1:configuration-set/Set"},
		Conditions: map[string]map[string][]string{"StringEquals": {"ses:FromAddress": {"info@shop.example"}}}}
	from := map[string]string{"ses:FromAddress": "info@shop.example"}
	tests := []struct {
		name     string
		sts      []sam.Statement
		action   string
		resource string
		keys     map[string]string
		want     bool
		wantErr  bool
	}{
		{name: "allowed", sts: []sam.Statement{send}, action: "ses:SendEmail", resource: "arn:aws:ses:r:1:identity/shop.example", keys: from, want: true},
		{name: "action case does not matter", sts: []sam.Statement{send}, action: "SES:sendemail", resource: "arn:aws:ses:r:1:configuration-set/Set", keys: from, want: true},
		{name: "another action", sts: []sam.Statement{send}, action: "ses:SendBulkEmail", resource: "arn:aws:ses:r:1:identity/shop.example", keys: from},
		{name: "another resource", sts: []sam.Statement{send}, action: "ses:SendEmail", resource: "arn:aws:ses:r:1:identity/other.example", keys: from},
		{name: "condition fails", sts: []sam.Statement{send}, action: "ses:SendEmail", resource: "arn:aws:ses:r:1:identity/shop.example", keys: map[string]string{"ses:FromAddress": "x@shop.example"}},
		{name: "condition key absent", sts: []sam.Statement{send}, action: "ses:SendEmail", resource: "arn:aws:ses:r:1:identity/shop.example"},
		{name: "wildcards", sts: []sam.Statement{{Effect: "Allow", Actions: []string{"sqs:Send*"}, Resources: []string{"arn:aws:sqs:*:1:Sender?ueue"}}}, action: "sqs:SendMessage", resource: "arn:aws:sqs:r:1:SenderQueue", want: true},
		{name: "string like condition", sts: []sam.Statement{{Effect: "Allow", Actions: []string{"ses:SendEmail"}, Resources: []string{"*"},
			Conditions: map[string]map[string][]string{"StringLike": {"ses:FromAddress": {"*@shop.example"}}}}}, action: "ses:SendEmail", resource: "x", keys: from, want: true},
		{name: "a deny is not understood", sts: []sam.Statement{{Effect: "Deny", Actions: []string{"ses:*"}, Resources: []string{"*"}}, send}, action: "ses:SendEmail", resource: "x", keys: from, wantErr: true},
		{name: "not action is not understood", sts: []sam.Statement{{Effect: "Allow", NotAction: true}}, action: "ses:SendEmail", resource: "x", wantErr: true},
		{name: "another operator is not understood", sts: []sam.Statement{{Effect: "Allow", Actions: []string{"ses:SendEmail"}, Resources: []string{"*"},
			Conditions: map[string]map[string][]string{"IpAddress": {"aws:SourceIp": {"192.0.2.0/24"}}}}}, action: "ses:SendEmail", resource: "x", wantErr: true},
		{name: "statements on other services do not matter", sts: []sam.Statement{{Effect: "Allow", Actions: []string{"dynamodb:GetItem"}, Resources: []string{"*"},
			Conditions: map[string]map[string][]string{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {"X#*"}}}}, send}, action: "ses:SendEmail", resource: "arn:aws:ses:r:1:identity/shop.example", keys: from, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := permitted(tt.sts, tt.action, tt.resource, tt.keys)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("permitted = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestQueueARN(t *testing.T) {
	tests := []struct{ url, want string }{
		{url: "http://127.0.0.1:9324/000000000000/SenderQueue", want: "arn:aws:sqs:ap-northeast-1:000000000000:SenderQueue"},
		{url: "https://sqs.ap-northeast-1.amazonaws.com/123456789012/tsunagu-SenderQueue-abc", want: "arn:aws:sqs:ap-northeast-1:123456789012:tsunagu-SenderQueue-abc"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := queueARN(tt.url); got != tt.want {
				t.Errorf("queueARN = %s, want %s", got, tt.want)
			}
		})
	}
}
