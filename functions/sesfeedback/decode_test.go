package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestDecodeSESEvent(t *testing.T) {
	sesAt := time.Date(2026, 11, 21, 0, 31, 4, 0, time.UTC)
	tests := []struct {
		name    string
		ev      events.CloudWatchEvent
		want    feedback
		wantErr string // "ignored" for errNotFeedback
	}{
		{name: "hard bounce", ev: event(t, "bounce-permanent.json"), want: feedback{Outcome: "bounced", Recipients: []string{"gone@example.jp"},
			MessageID: "0106019-ses-message-id", MessageKey: "k-bounce", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: sesAt}},
		{name: "soft bounce", ev: event(t, "bounce-transient.json"), want: feedback{Outcome: "soft_bounced", Recipients: []string{"full@example.jp"},
			MessageID: "0106019-ses-message-id", MessageKey: "k-soft", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: sesAt}},
		{name: "complaint", ev: event(t, "complaint.json"), want: feedback{Outcome: "complained", Recipients: []string{"angry@example.jp"},
			MessageID: "0106019-ses-message-id", MessageKey: "k-complaint", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)}},
		{name: "delivery", ev: event(t, "delivery.json"), want: feedback{Outcome: "delivered",
			MessageID: "0106019-ses-message-id", MessageKey: "k-delivered", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: time.Date(2026, 11, 21, 0, 31, 2, 0, time.UTC)}},
		{name: "undetermined bounce is soft", ev: edited(t, "bounce-permanent.json", "u", func(d map[string]any) { d["bounce"].(map[string]any)["bounceType"] = "Undetermined" }),
			want: feedback{Outcome: "soft_bounced", Recipients: []string{"gone@example.jp"}, MessageID: "0106019-ses-message-id", MessageKey: "k-bounce", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: sesAt}},
		{name: "recipients trimmed, deduplicated, implausible ones left out", ev: edited(t, "bounce-permanent.json", "r", func(d map[string]any) {
			d["bounce"].(map[string]any)["bouncedRecipients"] = []any{map[string]any{"emailAddress": " gone@example.jp "}, map[string]any{"emailAddress": "GONE@example.jp"},
				map[string]any{"emailAddress": ""}, map[string]any{"emailAddress": "no-at-sign"}, map[string]any{"emailAddress": "a b@example.jp"}, map[string]any{}, map[string]any{"emailAddress": "other@example.jp"}}
		}), want: feedback{Outcome: "bounced", Recipients: []string{"gone@example.jp", "other@example.jp"}, MessageID: "0106019-ses-message-id", MessageKey: "k-bounce", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: sesAt}},
		{name: "no event timestamp: the mail's", ev: edited(t, "delivery.json", "t", func(d map[string]any) { delete(d, "delivery") }),
			want: feedback{Outcome: "delivered", MessageID: "0106019-ses-message-id", MessageKey: "k-delivered", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: time.Date(2026, 11, 21, 0, 31, 0, 0, time.UTC)}},
		{name: "two message keys: none", ev: edited(t, "delivery.json", "k", tag("message_key", []any{"a", "b"})),
			want: feedback{Outcome: "delivered", MessageID: "0106019-ses-message-id", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: time.Date(2026, 11, 21, 0, 31, 2, 0, time.UTC)}},
		{name: "another source", ev: events.CloudWatchEvent{Source: "aws.sns", Detail: event(t, "delivery.json").Detail}, wantErr: "ignored"},
		{name: "open", ev: event(t, "open.json"), want: feedback{Outcome: "opened",
			MessageID: "0106019-ses-message-id", MessageKey: "k-engaged", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: time.Date(2026, 11, 21, 1, 2, 3, 0, time.UTC)}},
		{name: "click", ev: event(t, "click.json"), want: feedback{Outcome: "clicked",
			MessageID: "0106019-ses-message-id", MessageKey: "k-engaged", ConfigSet: "tsunagu", Campaign: "post-purchase-thanks", At: time.Date(2026, 11, 21, 1, 3, 3, 0, time.UTC)}},
		{name: "send event", ev: edited(t, "delivery.json", "s", func(d map[string]any) { d["eventType"] = "Send" }), wantErr: "ignored"},
		{name: "no detail", ev: events.CloudWatchEvent{Source: "aws.ses"}, wantErr: "decode ses event: unexpected end of JSON input"},
		{name: "detail not an object", ev: events.CloudWatchEvent{Source: "aws.ses", Detail: []byte(`[1]`)}, wantErr: "decode ses event: json: cannot unmarshal array into Go value of type main.sesEvent"},
		{name: "bounce without bounce", ev: edited(t, "bounce-permanent.json", "b", func(d map[string]any) { delete(d, "bounce") }), wantErr: "decode ses event: bounce without a bounce object"},
		{name: "complaint without complaint", ev: edited(t, "complaint.json", "c", func(d map[string]any) { d["complaint"] = nil }), wantErr: "decode ses event: complaint without a complaint object"},
		{name: "complaint without recipients", ev: edited(t, "complaint.json", "c", func(d map[string]any) { d["complaint"].(map[string]any)["complainedRecipients"] = nil }), wantErr: "decode ses event: complaint names no recipient address"},
		{name: "no message id", ev: edited(t, "delivery.json", "m", func(d map[string]any) { delete(d["mail"].(map[string]any), "messageId") }), wantErr: "decode ses event: mail.messageId is missing"},
		{name: "timestamp not a time", ev: edited(t, "bounce-permanent.json", "t", func(d map[string]any) { d["bounce"].(map[string]any)["timestamp"] = "gone@example.jp" }), wantErr: "decode ses event: a timestamp is not RFC 3339"},
		{name: "no timestamp at all", ev: func() events.CloudWatchEvent {
			ev := edited(t, "delivery.json", "z", func(d map[string]any) { delete(d, "delivery"); delete(d["mail"].(map[string]any), "timestamp") })
			ev.Time = time.Time{}
			return ev
		}(), wantErr: "decode ses event: no timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeSESEvent(tt.ev)
			switch {
			case tt.wantErr == "ignored":
				if !errors.Is(err, errNotFeedback) {
					t.Errorf("err = %v, want errNotFeedback", err)
				}
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr || errors.Is(err, errNotFeedback) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "@") {
					t.Errorf("the error (which is logged) carries an address: %v", err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, tt.want):
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
