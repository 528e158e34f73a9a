package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/shared/review"
)

// formAsk is the request of customer c-1 about the yokan of order 1001,
// sent a day before now.
var formAsk = review.FormAsk{MessageKey: "m-1", CustomerID: "c-1", OrderID: "1001", SKU: "SWEET-YOKAN", Name: "本練羊羹", SentAt: now.Add(-24 * time.Hour)}

func formRequest(method, token, query, body string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RouteKey: method + " /review/{token}", PathParameters: map[string]string{"token": token}, RawQueryString: query, Body: body}
	req.RequestContext.HTTP.Method = method
	return req
}

func (f fixture) page(t *testing.T, req events.APIGatewayV2HTTPRequest) (int, string) {
	t.Helper()
	res, err := f.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Body
}

// TestReviewForm walks tsunagu's own form: a star link opens it with the
// rating chosen and stores nothing; a submission stores the review once,
// unpublished and not counted, on the shop's pending list, and stops
// further requests for the product; sending it again changes nothing; a
// one-star review opens a support case.
func TestReviewForm(t *testing.T) {
	f := newFixture(t)
	forms, _ := review.NewFormSealer("", secret)
	token := forms.Token(formAsk)
	ctx := context.Background()

	status, body := f.page(t, formRequest("GET", token, "rating=4", ""))
	if status != http.StatusOK || !strings.Contains(body, `value="4" checked`) || !strings.Contains(body, "本練羊羹 のレビュー") {
		t.Fatalf("the star link's page: %d\n%.600s", status, body)
	}
	if pending, _ := f.st.ListPendingReviews(ctx); len(pending) != 0 {
		t.Fatalf("opening the form stored %d reviews", len(pending))
	}

	form := url.Values{"rating": {"1"}, "title": {"<b>残念</b>"}, "text": {"届いたとき\r\n箱がつぶれていました"}, "author": {"みさき"}}.Encode()
	status, body = f.page(t, formRequest("POST", token, "", form))
	if status != http.StatusOK || !strings.Contains(body, "お店で確認したあと") {
		t.Fatalf("submit: %d\n%.600s", status, body)
	}
	pending, err := f.st.ListPendingReviews(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending reviews %d, %v; want 1", len(pending), err)
	}
	r := pending[0]
	if r.Key() != "form#m-1#SWEET-YOKAN" || r.Rating != 1 || r.Title != "<b>残念</b>" || r.Text != "届いたとき\n箱がつぶれていました" || r.Author != "みさき" ||
		r.Published || !r.Verified || r.CustomerID != "c-1" || r.OrderID != "1001" {
		t.Errorf("stored review %+v", r)
	}
	if got := f.rating(t, "SWEET-YOKAN"); got != "0 reviews, 0 stars" {
		t.Errorf("an unapproved review counted: %s", got)
	}
	if got := f.reviewed(t, "c-1", "SWEET-YOKAN"); got != "already_reviewed" {
		t.Errorf("review request after the form: %s", got)
	}
	if cases, _ := f.st.OpenCases(ctx); len(cases) != 1 || cases[0].ID != "low_review#form#m-1#SWEET-YOKAN" {
		t.Errorf("cases %+v, want the one-star review's", cases)
	}

	// Sent again (a double tap, the back button): nothing new.
	resend := url.Values{"rating": {"5"}, "text": {"やっぱり美味しい"}}.Encode()
	status, body = f.page(t, formRequest("POST", token, "", resend))
	if status != http.StatusOK || !strings.Contains(body, "すでにお送りいただいています") {
		t.Errorf("resubmit: %d\n%.400s", status, body)
	}
	if pending, _ := f.st.ListPendingReviews(ctx); len(pending) != 1 || pending[0].Rating != 1 {
		t.Errorf("after a resubmit: %+v", pending)
	}
}

// TestReviewFormRefused: a forged or altered link, a form past its time,
// no rating and a text over the limit store nothing and say why; what the
// customer typed is shown back escaped.
func TestReviewFormRefused(t *testing.T) {
	f := newFixture(t)
	forms, _ := review.NewFormSealer("", secret)
	other, _ := review.NewFormSealer("", "another-secret-0123456789abcdefghij")
	token := forms.Token(formAsk)
	old := formAsk
	old.SentAt = now.Add(-FormValidFor - time.Hour)
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		page   string
	}{
		{"forged", formRequest("POST", other.Token(formAsk), "", "rating=5"), 400, "リンクは無効"},
		{"altered", formRequest("GET", token[:len(token)-3]+"abc", "", ""), 400, "リンクは無効"},
		{"past its time", formRequest("POST", forms.Token(old), "", "rating=5"), 410, "受付期間が終わりました"},
		{"no rating", formRequest("POST", token, "", "text=%3Cscript%3Ex%3C%2Fscript%3E"), 400, "星の数（1〜5）を選んでください"},
		{"a text over the limit", formRequest("POST", token, "", url.Values{"rating": {"4"}, "text": {strings.Repeat("あ", review.MaxText+1)}}.Encode()), 400, "本文は5000文字までです（いま5001文字）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.page(t, tt.req)
			if status != tt.status || !strings.Contains(body, tt.page) {
				t.Errorf("%d, want %d with %q\n%.500s", status, tt.status, tt.page, body)
			}
			if strings.Contains(body, "<script>x") {
				t.Error("the page shows what was typed as markup")
			}
			if pending, _ := f.st.ListPendingReviews(context.Background()); len(pending) != 0 {
				t.Errorf("%d reviews stored", len(pending))
			}
		})
	}
}
