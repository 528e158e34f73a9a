package lineapi

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// recorder keeps the server's complaints instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, format)
}

const (
	user     = "Ua1b2c3d4e5f60718293a4b5c6d7e8f90"
	retryKey = "997bc9f8-58bf-4d22-9175-3348edf46799"
)

func bubble(text string) messaging_api.FlexBubble {
	return messaging_api.FlexBubble{Body: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL,
		Contents: []messaging_api.FlexComponentInterface{&messaging_api.FlexText{Text: text}}}}
}

// TestServerRefusesWhatLINERefuses keeps the stand-in honest: requests LINE
// documents as invalid are refused (and fail the test that sends them).
func TestServerRefusesWhatLINERefuses(t *testing.T) {
	thirteen := make([]messaging_api.FlexBubble, 13)
	for i := range thirteen {
		thirteen[i] = bubble("x")
	}
	tests := []struct {
		name       string
		token      string
		retryKey   string
		messages   []messaging_api.MessageInterface
		wantStatus int
	}{
		{name: "a valid push", messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "こんにちは"}}, wantStatus: 200},
		{name: "a valid carousel", messages: []messaging_api.MessageInterface{&messaging_api.FlexMessage{AltText: "a",
			Contents: &messaging_api.FlexCarousel{Contents: []messaging_api.FlexBubble{bubble("x")}}}}, wantStatus: 200},
		{name: "a box without a layout", messages: []messaging_api.MessageInterface{&messaging_api.FlexMessage{AltText: "a",
			Contents: &messaging_api.FlexBubble{Body: &messaging_api.FlexBox{Contents: []messaging_api.FlexComponentInterface{&messaging_api.FlexText{Text: "x"}}}}}}, wantStatus: 400},
		{name: "13 bubbles", messages: []messaging_api.MessageInterface{&messaging_api.FlexMessage{AltText: "a",
			Contents: &messaging_api.FlexCarousel{Contents: thirteen}}}, wantStatus: 400},
		{name: "text over 5000 characters", messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: strings.Repeat("あ", 5001)}}, wantStatus: 400},
		{name: "empty text", messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{}}, wantStatus: 400},
		{name: "an http image", messages: []messaging_api.MessageInterface{&messaging_api.FlexMessage{AltText: "a", Contents: &messaging_api.FlexBubble{
			Hero: &messaging_api.FlexImage{Url: "http://example.jp/a.jpg"}}}}, wantStatus: 400},
		{name: "a flex message without alt text", messages: []messaging_api.MessageInterface{&messaging_api.FlexMessage{
			Contents: &messaging_api.FlexBubble{Body: bubble("x").Body}}}, wantStatus: 400},
		{name: "no retry key", retryKey: "-", messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "x"}}, wantStatus: 400},
		{name: "a retry key that is not a UUID", retryKey: "message-1", messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "x"}}, wantStatus: 400},
		{name: "a wrong token", token: "stolen", messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "x"}}, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			srv := NewServer(rec)
			token, key := Token, retryKey
			if tt.token != "" {
				token = tt.token
			}
			if tt.retryKey == "-" {
				key = ""
			} else if tt.retryKey != "" {
				key = tt.retryKey
			}
			api, err := messaging_api.NewMessagingApiAPI(token, messaging_api.WithEndpoint(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			res, _, _ := api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{To: user, Messages: tt.messages}, key)
			if res == nil || res.StatusCode != tt.wantStatus {
				t.Fatalf("answer %v, want %d", res, tt.wantStatus)
			}
			if refused := len(rec.errs) > 0; refused != (tt.wantStatus != http.StatusOK) {
				t.Errorf("complaints %v, want them only for a refused request", rec.errs)
			}
		})
	}
}

func TestServerRefusesRetryKeysWhereLINETakesNone(t *testing.T) {
	rec := &recorder{TB: t}
	srv := NewServer(rec)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+QuotaPath, nil)
	req.Header.Set("Authorization", "Bearer "+Token)
	req.Header.Set("X-Line-Retry-Key", retryKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || len(rec.errs) != 1 {
		t.Errorf("answer %d with complaints %v; want 400", res.StatusCode, rec.errs)
	}
}
