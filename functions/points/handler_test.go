package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/browser"
	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "dev-secret"

var sent = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)

type fixture struct {
	h     *Handler
	st    *store.Store
	links *redeem.Links
}

// newFixture is the handler under the shipped rules on a fresh table
// (PointsFunction's grants), with c-1 holding 1,200 approved and 43
// pending points.
func newFixture(t *testing.T, baseURL string) fixture {
	t.Helper()
	set, err := rules.Load(filepath.Join(testenv.Root(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDB(), table)
	mine := store.New(testenv.DynamoDBAs(t, "PointsFunction"), table)
	coder, _ := coupon.NewCoder(secret)
	links, _ := redeem.NewLinks(baseURL, secret)
	for _, m := range []loyalty.Movement{
		{CustomerID: "c-1", Kind: loyalty.Adjusted, Reason: "移行", Ref: "import", Points: 1200, At: sent.Add(-48 * time.Hour)},
		{CustomerID: "c-1", Kind: loyalty.Earned, OrderID: "1001", Reason: "order", Points: 43, Merchandise: 4300, At: sent.Add(-time.Hour)},
	} {
		if _, err := st.PutMovement(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	h := &Handler{Ledger: mine, Redeemer: &redeem.Redeemer{Store: mine, Coupons: coder, Rules: set}, Links: links, Rules: set,
		Now: func() time.Time { return sent.Add(time.Hour) }}
	return fixture{h: h, st: st, links: links}
}

func (f fixture) spends(t *testing.T) (loyalty.Balance, int) {
	t.Helper()
	ledger, err := f.st.Ledger(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ledger {
		if m.Kind == loyalty.Spent {
			n++
		}
	}
	return loyalty.BalanceOf(ledger), n
}

func request(route, token, body string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RouteKey: route, PathParameters: map[string]string{"token": token}, Body: body,
		Headers: map[string]string{"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "content-type": "application/x-www-form-urlencoded"}}
	req.RequestContext.HTTP.Method = strings.Fields(route)[0]
	return req
}

// TestPointsPage: the page shows the points and a form per reward; a form
// exchanges once per nonce; over the balance, an unknown reward, a bad
// nonce, a forged or expired link: the page says why, nothing spent.
func TestPointsPage(t *testing.T) {
	f := newFixture(t, "https://api.example.jp")
	token := strings.TrimPrefix(f.links.URL("c-1", sent), "https://api.example.jp/points/")
	forged := strings.TrimPrefix(must(redeem.NewLinks("https://api.example.jp", "another-secret-0123456789")).URL("c-1", sent), "https://api.example.jp/points/")
	old := strings.TrimPrefix(f.links.URL("c-1", sent.Add(-61*24*time.Hour)), "https://api.example.jp/points/")
	nonce := "nonce-0123456789abcdef"
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		want   string
	}{
		{name: "the page", req: request(pageRoute, token, ""), status: 200, want: "1,200 pt"},
		{name: "exchange 1,000 pt", req: request(postRoute, token, "reward=yen1000&nonce="+nonce), status: 200, want: "TSN-"},
		{name: "the same form again", req: request(postRoute, token, "reward=yen1000&nonce="+nonce), status: 200, want: "TSN-"},
		{name: "over the balance", req: request(postRoute, token, "reward=yen500&nonce=nonce-second-form-xyz"), status: 409, want: "ポイントが足りません"},
		{name: "an unknown reward", req: request(postRoute, token, "reward=yen5000&nonce=nonce-third-form-xyz0"), status: 400, want: "この交換はいまは受け付けていません"},
		{name: "no nonce", req: request(postRoute, token, "reward=yen500"), status: 400, want: "ページを開き直して"},
		{name: "a forged link", req: request(postRoute, forged, "reward=yen500&nonce=nonce-fourth-form-xyz"), status: 400, want: "リンクは無効"},
		{name: "an altered link", req: request(pageRoute, token[:len(token)-2]+"AA", ""), status: 400, want: "リンクは無効"},
		{name: "an expired link", req: request(postRoute, old, "reward=yen500&nonce=nonce-fifth-form-xyz0"), status: 410, want: "有効期限"},
	}
	var code string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.h.Handle(context.Background(), tt.req)
			if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
				t.Fatalf("answer = %d, %v; want %d with %q:\n%s", resp.StatusCode, err, tt.status, tt.want, resp.Body)
			}
			if i := strings.Index(resp.Body, "TSN-"); i >= 0 {
				got := resp.Body[i : i+len("TSN-XXXX-XXXX-XXXX")]
				if code != "" && got != code {
					t.Errorf("coupon %s, want the first exchange's %s", got, code)
				}
				code = got
			}
		})
	}
	if b, n := f.spends(t); n != 1 || b.Approved != 200 || b.Pending != 43 {
		t.Errorf("%d spends, balance %+v; want one, 200 approved, 43 pending", n, b)
	}
}

// TestPointsPageInChromium opens an email's points link on a phone's
// screen through the local gateway and template.yaml's routes, and
// exchanges 500 points by the form, without JavaScript.
func TestPointsPageInChromium(t *testing.T) {
	f := newFixture(t, "http://placeholder")
	srv := testenv.APIServer(t, "PointsFunction", f.h.Handle)
	links, _ := redeem.NewLinks(srv.URL, secret)
	f.h.Links = links
	vp := browser.Viewport{Width: 375, Height: 740}
	p, err := browser.InspectPage(t.Context(), browser.PageConfig{URL: links.URL("c-1", sent), Viewport: vp,
		Screenshot: filepath.Join(testenv.Root(), ".local", "screenshots", "points-page.png"),
		Steps:      []browser.Step{{Submit: "[data-testid=exchange-yen500]"}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusOK || !strings.Contains(p.Text, "クーポンに交換しました") || !strings.Contains(p.Text, "700 pt") {
		t.Errorf("after the exchange: %d %q", p.Status, p.Text)
	}
	for _, problem := range p.Problems(vp.Width) {
		t.Error(problem)
	}
	if b, n := f.spends(t); n != 1 || b.Approved != 700 {
		t.Errorf("%d spends, balance %+v; want one, 700", n, b)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}
