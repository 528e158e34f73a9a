package email

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"mime"
	"slices"
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

// TestSendWithCcAndAttachment: the report's email reaches every staff
// address and carries the report as a file, byte for byte.
func TestSendWithCcAndAttachment(t *testing.T) {
	s, err := NewSender(testenv.SES(), "椿茶園", "shop@tsubaki-chaen.example.jp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	to, cc := testenv.UniqueEmail(t, "marketing"), testenv.UniqueEmail(t, "owner")
	page := []byte("<!doctype html><title>週次レポート</title><p>売上 ¥1,234</p>")
	if _, err := s.Send(context.Background(), Message{To: to, Cc: []string{cc}, Subject: "週次レポート", HTML: "<p>添付をご覧ください</p>", Text: "添付をご覧ください",
		Attachments: []Attachment{{Name: "report-2026-11-23.html", ContentType: "text/html; charset=UTF-8", Content: page}}}); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{to, cc} {
		got := testenv.SentEmails(t, addr)
		if len(got) != 1 {
			t.Fatalf("SES received %d emails for %s, want 1", len(got), addr)
		}
	}
	e := testenv.SentEmails(t, to)[0]
	if !slices.Equal(e.Destination.To, []string{to}) || !slices.Equal(e.Destination.Cc, []string{cc}) {
		t.Errorf("destination = %+v", e.Destination)
	}
	if len(e.Attachments) != 1 {
		t.Fatalf("attachments = %+v, want 1", e.Attachments)
	}
	a := e.Attachments[0]
	content, err := base64.StdEncoding.DecodeString(a.Content)
	if err != nil || !bytes.Equal(content, page) || a.Filename != "report-2026-11-23.html" || a.ContentType != "text/html; charset=UTF-8" {
		t.Errorf("attachment = %s %s %q (%v)", a.Filename, a.ContentType, content, err)
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
