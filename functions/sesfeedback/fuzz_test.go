package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/pseudonym"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// FuzzDecodeSESEvent feeds decodeSESEvent whatever EventBridge could hand
// the function (any JSON the Lambda runtime decodes into a CloudWatchEvent).
// It never panics, and either returns an error (errNotFeedback for an event
// not acted on, otherwise a "decode ses event:" one) or feedback the handler
// can act on as is: a known outcome, the SES message id, a time in UTC, the
// tags it names read back exactly, and for a bounce or complaint at least
// one recipient, each a distinct, trimmed, plausible address from the event.
func FuzzDecodeSESEvent(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{filepath.Join("..", "..", "events", "ses-*.json"), filepath.Join("testdata", "*.json")} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, paths...)
	}
	if len(seeds) < 4 {
		f.Fatalf("only %d sample events found", len(seeds))
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// AWS's documented records are the detail of an EventBridge event.
	documented, err := filepath.Glob(filepath.Join("testdata", "aws-docs", "*.json"))
	if err != nil || len(documented) == 0 {
		f.Fatalf("documented records: %v, %d found", err, len(documented))
	}
	for _, path := range documented {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(`{"source":"aws.ses","time":"2026-11-21T00:31:05Z","detail":` + string(b) + `}`))
	}
	for _, s := range []string{``, `{}`, `null`, `{"source":"aws.ses"}`, `{"source":"aws.ses","detail":null}`, `{"source":"aws.ses","detail":"x"}`,
		`{"source":"aws.ses","detail":{"eventType":"Bounce","mail":{"messageId":"m"},"bounce":{"bounceType":"Permanent","bouncedRecipients":[null,{},{"emailAddress":"@"},{"emailAddress":"a@"},{"emailAddress":" A@B "},{"emailAddress":"a@b"}]}}}`,
		`{"source":"aws.ses","time":"2026-11-21T00:31:05Z","detail":{"eventType":"Complaint","mail":{"messageId":"m","tags":{"message_key":["k","k"],"ses:configuration-set":[]}},"complaint":{"complainedRecipients":[{"emailAddress":"x\u0000@y"}]}}}`,
		`{"source":"aws.ses","detail":{"eventType":"Delivery","mail":{"messageId":"m","timestamp":"0001-01-01T00:00:00Z"},"delivery":null}}`,
		`{"source":"aws.ses","detail":{"eventType":"Bounce","mail":{"messageId":"m","timestamp":"2026-11-21T09:00:00+09:00","tags":null},"bounce":{"bouncedRecipients":[{"emailAddress":"a@b"}],"timestamp":"9999-12-31T23:59:59.999999999-23:59"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev events.CloudWatchEvent
		if json.Unmarshal(raw, &ev) != nil {
			return // the Lambda runtime refuses it before the handler
		}
		fb, err := decodeSESEvent(ev)
		if err != nil {
			if !errors.Is(err, errNotFeedback) && !strings.HasPrefix(err.Error(), "decode ses event: ") {
				t.Errorf("error without its operation: %v", err)
			}
			if fb.Outcome != "" || fb.Recipients != nil {
				t.Errorf("an error came with feedback %+v", fb)
			}
			return
		}
		if ev.Source != "aws.ses" {
			t.Errorf("acted on source %q", ev.Source)
		}
		if !slices.Contains([]string{store.DeliveryDelivered, store.DeliverySoftBounced, store.DeliveryBounced, store.DeliveryComplained, outcomeOpened, outcomeClicked}, fb.Outcome) {
			t.Errorf("outcome %q", fb.Outcome)
		}
		if fb.MessageID == "" {
			t.Error("no SES message id (soft bounces are counted once per message by it)")
		}
		if fb.At.IsZero() || fb.At.Location() != time.UTC {
			t.Errorf("at %v", fb.At)
		}
		var detail struct {
			Mail struct {
				Tags map[string][]string `json:"tags"`
			} `json:"mail"`
			Bounce *struct {
				Recipients []recipient `json:"bouncedRecipients"`
			} `json:"bounce"`
			Complaint *struct {
				Recipients []recipient `json:"complainedRecipients"`
			} `json:"complaint"`
		}
		if err := json.Unmarshal(ev.Detail, &detail); err != nil {
			t.Fatalf("decoded a detail that does not decode: %v", err)
		}
		for name, got := range map[string]string{"message_key": fb.MessageKey, configurationSetTag: fb.ConfigSet, "campaign": fb.Campaign} {
			if want := detail.Mail.Tags[name]; (len(want) == 1 && got != want[0]) || (len(want) != 1 && got != "") {
				t.Errorf("tag %s = %q, read from %q", name, got, want)
			}
		}
		if fb.Outcome == store.DeliveryDelivered || fb.Outcome == outcomeOpened || fb.Outcome == outcomeClicked {
			if len(fb.Recipients) != 0 {
				t.Errorf("a %s names recipients %q", fb.Outcome, fb.Recipients)
			}
			return
		}
		if len(fb.Recipients) == 0 {
			t.Errorf("a %s names no recipient", fb.Outcome)
		}
		var reported []recipient
		if fb.Outcome == store.DeliveryComplained {
			reported = detail.Complaint.Recipients
		} else {
			reported = detail.Bounce.Recipients
		}
		seen := map[string]bool{}
		for _, a := range fb.Recipients {
			if a != strings.TrimSpace(a) || !plausibleAddress(a) || !strings.Contains(a, "@") {
				t.Errorf("recipient %q", a)
			}
			if seen[pseudonym.NormalizeAddress(a)] {
				t.Errorf("recipient %q twice", a)
			}
			seen[pseudonym.NormalizeAddress(a)] = true
			if !slices.ContainsFunc(reported, func(r recipient) bool { return strings.TrimSpace(r.EmailAddress) == a }) {
				t.Errorf("recipient %q is not one the event reports", a)
			}
		}
	})
}
