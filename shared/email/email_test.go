package email

import (
	"context"
	"errors"
	"mime"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestSendArrivesInSES(t *testing.T) {
	s, err := NewSender(testenv.SES(), "椿茶園", "shop@tsubaki-chaen.example.jp", "support@tsubaki-chaen.example.jp", "")
	if err != nil {
		t.Fatal(err)
	}
	to := testenv.UniqueEmail(t, "misaki")
	id, err := s.Send(context.Background(), Message{
		To: to, Subject: "ご注文ありがとうございます", HTML: "<p>ありがとうございます</p>", Text: "ありがとうございます",
		Headers:  []Header{{"List-Unsubscribe", "<https://hooks.example.jp/unsubscribe?token=x>"}, {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}},
		Campaign: "post-purchase-thanks",
	})
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	got := testenv.SentEmails(t, to)
	if len(got) != 1 {
		t.Fatalf("SES received %d emails for %s, want 1", len(got), to)
	}
	e := got[0]
	name, _ := new(mime.WordDecoder).DecodeHeader(e.From)
	if name != "椿茶園 <shop@tsubaki-chaen.example.jp>" {
		t.Errorf("From = %q (decoded %q)", e.From, name)
	}
	if e.Subject != "ご注文ありがとうございます" || e.Body.HTML != "<p>ありがとうございます</p>" || e.Body.Text != "ありがとうございます" {
		t.Errorf("email = %+v", e)
	}
	if e.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || e.Header("List-Unsubscribe") == "" {
		t.Errorf("headers = %+v", e.Headers)
	}
}

func TestSendClassifiesRejections(t *testing.T) {
	s, err := NewSender(testenv.SES(), "椿茶園", "shop@tsubaki-chaen.example.jp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	// The emulator refuses a message without a subject as a bad request, the
	// way SES refuses a malformed message: not worth retrying.
	_, err = s.Send(context.Background(), Message{To: "x@example.jp", HTML: "<p>x</p>", Text: "x"})
	if !errors.Is(err, ErrRejected) {
		t.Errorf("Send without subject = %v, want ErrRejected", err)
	}
	if _, err := NewSender(testenv.SES(), "x", "not an address", "", ""); err == nil {
		t.Error("NewSender accepted an invalid From address")
	}
}
