package sam

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestProjectTemplate(t *testing.T) {
	tpl, err := Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"POST /webhooks/orders":         "PurchaseFunction",
		"POST /webhooks/shopify/orders": "PurchaseFunction",
		"GET /r/{token}":                "RedirectFunction",
		"HEAD /r/{token}":               "RedirectFunction",
		"GET /r/ref/{code}":             "RedirectFunction",
	}
	got := map[string]string{}
	for _, r := range routes {
		got[r.RouteKey()] = r.Function
	}
	for k, fn := range want {
		if got[k] != fn {
			t.Errorf("route %s served by %q, want %q", k, got[k], fn)
		}
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	var purchase *Function
	for i := range fns {
		if fns[i].LogicalID == "PurchaseFunction" {
			purchase = &fns[i]
		}
	}
	if purchase == nil {
		t.Fatal("no PurchaseFunction")
	}
	env := map[string]EnvVar{}
	for _, e := range purchase.Env {
		env[e.Name] = e
	}
	if e := env["TABLE_NAME"]; e.Literal || e.Value != "!Ref Table" {
		t.Errorf("TABLE_NAME = %+v, want the global !Ref Table", e)
	}
	if e := env["TSUNAGU_RULES_DIR"]; !e.Literal || e.Value != "/var/task/rules" {
		t.Errorf("TSUNAGU_RULES_DIR = %+v", e)
	}
	if purchase.Timeout.Seconds() != 10 || purchase.MemoryMB != 256 {
		t.Errorf("timeout = %s, memory = %d MB", purchase.Timeout, purchase.MemoryMB)
	}

	var sender, sched *Function
	for i := range fns {
		switch fns[i].LogicalID {
		case "SenderFunction":
			sender = &fns[i]
		case "SchedulerFunction":
			sched = &fns[i]
		}
	}
	if sender == nil || len(sender.Queues) != 1 || sender.Queues[0].Queue != "SenderQueue" || sender.Queues[0].BatchSize != 10 || !sender.Queues[0].ReportBatchItemFailures {
		t.Errorf("sender queues = %+v", sender)
	}
	if sched == nil || len(sched.Schedules) != 1 || sched.Schedules[0].Expression != "rate(5 minutes)" || sched.Schedules[0].Input != `{"time": "<aws.scheduler.scheduled-time>"}` {
		t.Errorf("scheduler schedules = %+v", sched)
	}

	in, err := tpl.TableInput("Table", "t1")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "t1" || len(in.KeySchema) != 2 || len(in.GlobalSecondaryIndexes) != 1 || aws.ToString(in.GlobalSecondaryIndexes[0].IndexName) != "gsi1" {
		t.Errorf("table input = %+v", in)
	}
	for _, a := range in.AttributeDefinitions {
		if a.AttributeType != "S" {
			t.Errorf("attribute %s has type %q, want S", aws.ToString(a.AttributeName), a.AttributeType)
		}
	}
}

func TestTableGrants(t *testing.T) {
	tpl, err := Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		function string
		want     string
	}{
		{"PurchaseFunction", `[{[GetItem BatchGetItem PutItem UpdateItem]  []} {[Query]  [LEDGER#*]} {[Query] gsi1 []}]`},
		{"SenderFunction", `[{[GetItem PutItem UpdateItem]  []} {[Query]  [LEDGER#*]}]`},
		{"ThankyouFunction", `[{[GetItem BatchGetItem PutItem UpdateItem]  []} {[Query]  [LEDGER#*]}]`},
		{"ErasureFunction", `[{[GetItem PutItem UpdateItem DeleteItem]  []} {[Query] gsi1 []} {[Query]  [CONSENT#*]}]`},
		{"ShopRedactFunction", `[{[Scan]  []} {[GetItem PutItem UpdateItem DeleteItem]  []} {[Query] gsi1 []}]`},
		{"LineFunction", `[{[GetItem PutItem UpdateItem]  [LINEUSER#* LINKNONCE#* LINEEVENT#* CUSTOMER#* CONSENT#* ORDER#* CONFIG#*]} {[Query PutItem]  [LEDGER#*]} {[GetItem PutItem]  [COUPON#*]} {[GetItem]  [MESSAGE#*]} {[GetItem PutItem UpdateItem]  [SURVEY#* CASE#* STATS#SHOP]}]`},
		{"SchedulerFunction", `[{[Query] gsi1 []} {[UpdateItem]  []} {[Query PutItem]  [LEDGER#*]} {[PutItem]  [TIMER#points-expiry#*]} {[GetItem PutItem UpdateItem]  [REFERRAL#* COUPON#* TIMER#referral-reward#*]} {[GetItem]  [ORDER#*]} {[PutItem]  [CASE#*]} {[UpdateItem]  [CUSTOMER#*]}]`},
		{"PointsFunction", `[{[Query PutItem]  [LEDGER#*]} {[GetItem PutItem]  [COUPON#*]}]`},
		{"ReviewsFunction", `[{[GetItem PutItem UpdateItem]  [ORDER#* REVIEWITEM#* PRODUCT#* REVIEW#* CASE#* CUSTOMER#*]} {[PutItem]  [LEDGER#*]}]`},
		{"SegmentsFunction", `[{[Scan GetItem PutItem]  []} {[Query UpdateItem]  [STATS#CAMPAIGN#*]} {[Query]  [LEDGER#*]}]`},
		{"RedirectFunction", `[{[PutItem UpdateItem]  [CLICK#* MESSAGE#* STATS#*]} {[UpdateItem]  [REFCODE#*]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			grants, err := tpl.TableGrants(tt.function, "Table")
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(grants); got != tt.want {
				t.Errorf("grants = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := tpl.TableGrants("NoSuchFunction", "Table"); err == nil {
		t.Error("grants of a function the template lacks: no error")
	}
}

// TestTableGrantsRefusesWhatItCannotEmulate: a policy the test emulation
// would read as looser than IAM does is an error, not a silent grant.
func TestTableGrantsRefusesWhatItCannotEmulate(t *testing.T) {
	const head = "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - Statement:\n"
	tests := []struct{ name, statement string }{
		{"deny", "            - {Effect: Deny, Action: dynamodb:DeleteItem, Resource: !GetAtt Table.Arn}\n"},
		{"not action", "            - {Effect: Allow, NotAction: dynamodb:DeleteItem, Resource: !GetAtt Table.Arn}\n"},
		{"another condition", "            - {Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn, Condition: {StringEquals: {dynamodb:Select: SPECIFIC_ATTRIBUTES}}}\n"},
		{"another condition key", "            - {Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn, Condition: {ForAllValues:StringLike: {dynamodb:Attributes: [pk]}}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(path, []byte(head+tt.statement), 0o600); err != nil {
				t.Fatal(err)
			}
			tpl, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if grants, err := tpl.TableGrants("Fn", "Table"); err == nil {
				t.Errorf("grants = %v, want an error", grants)
			}
		})
	}
}

func TestStatements(t *testing.T) {
	const tpl = `Resources:
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [sqs:SendMessage]
              Resource: !GetAtt Queue.Arn
            - Effect: Allow
              Action: ses:SendEmail
              Resource:
                - !Sub arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Identity}
                - {"Fn::Sub": "arn:aws:ses:r:1:configuration-set/${Set}-${!Literal}"}
                - {"Fn::GetAtt": [Queue, Arn]}
                - {Ref: Identity}
              Condition:
                StringEquals:
                  ses:FromAddress: !Ref From
`
	values := map[string]string{"AWS::Partition": "aws", "AWS::Region": "r", "AWS::AccountId": "1", "Identity": "shop.example", "Set": "S",
		"Queue.Arn": "arn:aws:sqs:r:1:Queue", "From": "info@shop.example"}
	tests := []struct {
		name    string
		values  map[string]string
		want    string
		wantErr string
	}{
		{name: "resolved", values: values,
			want: `[{Allow [sqs:SendMessage] false false [arn:aws:sqs:r:1:Queue] map[]} {Allow [ses:SendEmail] false false [arn:aws:ses:r:1:identity/shop.example arn:aws:ses:r:1:configuration-set/S-${Literal} arn:aws:sqs:r:1:Queue shop.example] map[StringEquals:map[ses:FromAddress:[info@shop.example]]]}]`},
		{name: "a value missing", values: map[string]string{"Queue.Arn": "q"}, wantErr: "no value for AWS::Partition"},
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(tpl), 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, err := parsed.Statements("Fn", tt.values)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(sts); got != tt.want {
				t.Errorf("statements =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if _, err := parsed.Statements("NoSuchFunction", values); err == nil {
		t.Error("statements of a function the template lacks: no error")
	}
}
