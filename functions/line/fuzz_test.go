package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/tsunagu-dev/tsunagu/shared/line"
)

// FuzzWebhookParse checks what the webhook does with a body before it
// touches the store: the X-Line-Signature made with the channel secret
// verifies, and not for the body with one bit changed or under another
// secret; and each event, whatever its bytes, parses without a panic into
// either nothing usable or an event of a known type with a webhook event id
// and a valid LINE user id (the only ones the handler acts on).
func FuzzWebhookParse(f *testing.F) {
	bodies, err := filepath.Glob(filepath.Join("..", "..", "events", "bodies", "line-*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range bodies {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, channelSecret)
	}
	for _, s := range []string{``, `{}`, `{"events":null}`, `{"events":[null,1,"x",{}]}`, `{"destination":"` + botUser + `","events":{}}`,
		`{"events":[{"type":"follow","source":{"type":"group","groupId":"C1","userId":"` + user + `"},"webhookEventId":"e","timestamp":-1}]}`,
		`{"events":[{"type":"postback","source":{"type":"user","userId":"` + user + `"},"webhookEventId":"e","postback":{"data":"action=link&action=optin"},"timestamp":9223372036854775807}]}`,
		`{"events":[{"type":"accountLink","mode":"standby","source":{"type":"user","userId":"U` + "0123456789ABCDEF0123456789abcdef" + `"},"webhookEventId":"e","link":{"result":"failed"}}]}`} {
		f.Add([]byte(s), "")
	}
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		sig := sign(secret, body)
		if !webhook.ValidateSignature(secret, sig, body) {
			t.Fatal("a body signed with the channel secret does not verify")
		}
		if webhook.ValidateSignature(secret+"x", sig, body) {
			t.Fatal("a signature verified under another secret")
		}
		if len(body) > 0 {
			changed := append([]byte(nil), body...)
			changed[len(changed)/2] ^= 1
			if webhook.ValidateSignature(secret, sig, changed) {
				t.Fatal("a signature verified for a changed body")
			}
		}

		var cb struct {
			Events []json.RawMessage `json:"events"`
		}
		if json.Unmarshal(body, &cb) != nil {
			return
		}
		for _, raw := range cb.Events {
			ev, err := parseEvent(raw)
			if err != nil || ev.id == "" || ev.userID == "" {
				continue
			}
			switch ev.typ {
			case "follow", "unfollow", "accountLink", "postback":
			default:
				t.Errorf("event %q of type %q would be acted on", raw, ev.typ)
			}
			if !line.ValidUserID(ev.userID) {
				t.Errorf("event %q would be acted on for user id %q", raw, ev.userID)
			}
		}
	})
}
