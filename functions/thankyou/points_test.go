package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/golden"
	"github.com/tsunagu-dev/tsunagu/shared/coupon"
	"github.com/tsunagu-dev/tsunagu/shared/loyalty"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/redeem"
	"github.com/tsunagu-dev/tsunagu/shared/referral"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// withPoints wires the points of the thank-you function (its grants) and
// seeds c-1's ledger: order 1001 earned 43 points (pending) and approved
// points from before.
func withPoints(t testing.TB, e *env, approved int64) {
	t.Helper()
	handlerStore := e.h.Store.(*store.Store)
	coder, _ := coupon.NewCoder(secret)
	refs, _ := referral.NewCoder(secret)
	e.h.Points, e.h.Referrals = handlerStore, refs
	e.h.Redeemer = &redeem.Redeemer{Store: handlerStore, Coupons: coder, Rules: e.h.Rules}
	ctx := context.Background()
	for _, m := range []loyalty.Movement{
		{CustomerID: "c-1", Kind: loyalty.Earned, OrderID: "1001", Reason: "order", Points: 43, Merchandise: 4300, At: placed},
		{CustomerID: "c-1", Kind: loyalty.Adjusted, Reason: "移行", Ref: "import", Points: approved, At: placed.Add(-24 * time.Hour)},
	} {
		if _, err := e.store.PutMovement(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func pointsRequest(orderID, query, origin, body string) events.APIGatewayV2HTTPRequest {
	req := viewRequest(orderID, query)
	req.RouteKey, req.Body = pointsRoute, body
	req.Headers = map[string]string{"content-type": "text/plain;charset=UTF-8", "origin": origin}
	return req
}

// TestThankyouShowsPoints: the widget's answer for a shop with a points
// programme carries what the order earns (pending), the balance, the
// rewards and which the customer can afford, and the referral link
// (golden file).
func TestThankyouShowsPoints(t *testing.T) {
	e := newEnv(t, nil, order.ConsentGranted)
	withPoints(t, e, 600)
	resp, err := e.h.Handle(context.Background(), viewRequest("1001", signed("1001")))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("view = %d %s, %v", resp.StatusCode, resp.Body, err)
	}
	var a struct {
		Points   json.RawMessage `json:"points"`
		Referral json.RawMessage `json:"referral"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	json.Indent(&out, []byte(`{"points":`+string(a.Points)+`,"referral":`+string(a.Referral)+`}`), "", "  ")
	golden.Check(t, "thankyou-points.json", out.String()+"\n")
}

// TestThankyouRedeemsPoints exchanges points from the thank-you page: a
// coupon once per request id; over the balance, an unknown reward, a bad
// request id, another site, a forged or expired link: a 4xx naming why,
// and nothing spent.
func TestThankyouRedeemsPoints(t *testing.T) {
	e := newEnv(t, nil, order.ConsentGranted)
	e.h.Rules.Settings.Thankyou.AllowedOrigins = []string{"https://tsubaki-chaen.example.jp"}
	withPoints(t, e, 600)
	shop := "https://tsubaki-chaen.example.jp"
	ok := `{"reward": "yen500", "request": "req-0001-abcd"}`
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		later  time.Duration
		status int
		want   string
	}{
		{name: "a reward the points cover", req: pointsRequest("1001", signed("1001"), shop, ok), status: 200, want: `"balance":100`},
		{name: "the same request again", req: pointsRequest("1001", signed("1001"), shop, ok), status: 200, want: `"balance":100`},
		{name: "another reward, over the balance", req: pointsRequest("1001", signed("1001"), shop, `{"reward": "yen500", "request": "req-0002-abcd"}`), status: 409, want: "not enough approved points"},
		{name: "an unknown reward", req: pointsRequest("1001", signed("1001"), shop, `{"reward": "yen50000", "request": "req-0003-abcd"}`), status: 400, want: `"field":"reward"`},
		{name: "no request id", req: pointsRequest("1001", signed("1001"), shop, `{"reward": "yen500"}`), status: 400, want: `"field":"request"`},
		{name: "not JSON", req: pointsRequest("1001", signed("1001"), shop, `reward=yen500`), status: 400, want: `"field":"body"`},
		{name: "from another site", req: pointsRequest("1001", signed("1001"), "https://evil.example", `{"reward": "yen500", "request": "req-0004-abcd"}`), status: 403},
		{name: "a forged signature", req: pointsRequest("1001", "sig="+strings.Repeat("0", 64), shop, `{"reward": "yen500", "request": "req-0005-abcd"}`), status: 401},
		{name: "another order's signature", req: pointsRequest("1001", signed("1002"), shop, `{"reward": "yen500", "request": "req-0006-abcd"}`), status: 401},
		{name: "an expired link", req: pointsRequest("1001", signed("1001"), shop, `{"reward": "yen500", "request": "req-0007-abcd"}`), later: 400 * 24 * time.Hour, status: 401},
	}
	var code string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := placed.Add(time.Minute + tt.later)
			e.h.Now = func() time.Time { return now }
			resp, err := e.h.Handle(context.Background(), tt.req)
			if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
				t.Fatalf("answer = %d %s, %v; want %d with %s", resp.StatusCode, resp.Body, err, tt.status, tt.want)
			}
			if tt.status == 200 {
				var a struct {
					Coupon struct{ Code, Discount string }
				}
				json.Unmarshal([]byte(resp.Body), &a)
				if code == "" {
					code = a.Coupon.Code
				}
				if a.Coupon.Code != code || a.Coupon.Discount != "500円引き" {
					t.Errorf("coupon %+v, want %s for 500円引き", a.Coupon, code)
				}
			}
		})
	}
	ledger, err := e.store.Ledger(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	spends := 0
	for _, m := range ledger {
		if m.Kind == loyalty.Spent {
			spends++
		}
	}
	if b := loyalty.BalanceOf(ledger); spends != 1 || b.Approved != 100 || b.Pending != 43 {
		t.Errorf("%d spends, balance %+v; want one spend, 100 approved, 43 pending", spends, b)
	}
	if c, err := e.store.GetCoupon(context.Background(), code); err != nil || c.Campaign != redeem.CouponCampaign || c.CustomerID != "c-1" {
		t.Errorf("coupon %s = %+v, %v", code, c, err)
	}
}

// TestThankyouPointsAtTheRate: with a rate (1 pt = 1円 in steps of 100
// pt) the answer offers the largest exchange the balance covers (golden),
// the widget's POST exchanges it for a coupon of its value, and an amount
// off the step is a 400 naming the reward, nothing spent.
func TestThankyouPointsAtTheRate(t *testing.T) {
	e := newEnv(t, nil, order.ConsentGranted)
	e.h.Rules.Settings.Thankyou.AllowedOrigins = []string{"https://tsubaki-chaen.example.jp"}
	e.h.Rules.Loyalty.Rate = &rules.RewardRate{ValuePerPoint: 1, Step: 100}
	withPoints(t, e, 650)
	resp, err := e.h.Handle(context.Background(), viewRequest("1001", signed("1001")))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("view = %d %s, %v", resp.StatusCode, resp.Body, err)
	}
	var a struct {
		Points json.RawMessage `json:"points"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	json.Indent(&out, a.Points, "", "  ")
	golden.Check(t, "thankyou-points-rate.json", out.String()+"\n")
	shop := "https://tsubaki-chaen.example.jp"
	e.h.Now = func() time.Time { return placed.Add(time.Minute) }
	tests := []struct {
		body   string
		status int
		want   string
	}{
		{body: `{"reward": "pt-250", "request": "req-rate-0001"}`, status: 400, want: `"field":"reward"`},
		{body: `{"reward": "pt-600", "request": "req-rate-0002"}`, status: 200, want: `"balance":50`},
		{body: `{"reward": "pt-100", "request": "req-rate-0003"}`, status: 409, want: "not enough approved points"},
	}
	for _, tt := range tests {
		resp, err := e.h.Handle(context.Background(), pointsRequest("1001", signed("1001"), shop, tt.body))
		if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
			t.Fatalf("%s: answer = %d %s, %v; want %d with %s", tt.body, resp.StatusCode, resp.Body, err, tt.status, tt.want)
		}
	}
	ledger, err := e.store.Ledger(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if b := loyalty.BalanceOf(ledger); b.Approved != 50 || b.Pending != 43 {
		t.Errorf("balance %+v; want 50 approved, 43 pending", b)
	}
}
