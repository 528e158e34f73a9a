package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
	"github.com/tsunagu-dev/tsunagu/shared/review"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
	"github.com/tsunagu-dev/tsunagu/shared/store"
	"github.com/tsunagu-dev/tsunagu/shared/support"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	secret        = "dev-secret"
	judgemeSecret = "judgeme-oauth-app-secret"
)

var now = time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)

// fixture is a handler wired as main wires it, on a fresh table under the
// function's IAM policy in template.yaml, and an unrestricted store for
// what other functions write and for checks.
type fixture struct {
	h     *Handler
	st    *store.Store
	table string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	table := testenv.NewTable(t)
	st := store.New(testenv.DynamoDBAs(t, "ReviewsFunction"), table)
	forms, err := review.NewFormSealer("", secret)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		h: &Handler{Store: st, WebhookSecret: signature.Keys{secret}, JudgemeSecret: signature.Keys{judgemeSecret},
			Cases: &support.Opener{Store: st, CoolingOff: 30 * 24 * time.Hour}, Forms: forms, Shop: "椿茶園", Now: func() time.Time { return now }},
		st: store.New(testenv.DynamoDB(), table), table: table,
	}
}

// order stores order id for customer, as the purchase function would.
func (f fixture) order(t *testing.T, id, customerID string, skus ...string) {
	t.Helper()
	o := order.Order{ID: id, Currency: "JPY", Total: 4300, PlacedAt: now.Add(-10 * 24 * time.Hour), Customer: &order.Customer{ID: customerID}}
	for _, sku := range skus {
		o.Items = append(o.Items, order.Item{SKU: sku, Name: sku, UnitPrice: 1000, Quantity: 1})
	}
	if _, err := f.st.ApplyOrderEvent(context.Background(), order.Event{DeliveryID: "d-" + id, Source: order.SourceGeneric, Type: order.Created, OccurredAt: o.PlacedAt, Order: o}, nil); err != nil {
		t.Fatal(err)
	}
}

func genericRequest(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: genericRoute, Body: body,
		Headers: map[string]string{"x-tsunagu-signature": signature.SignTsunagu(secret, now, []byte(body))}}
}

func judgemeRequest(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{RouteKey: judgemeRoute, Body: body,
		Headers: map[string]string{"judgeme-hmac-sha256": signature.SignJudgeme(judgemeSecret, []byte(body))}}
}

// reviewBody is a generic review body; extra fields replace or add to it.
func reviewBody(id, orderID, sku string, rating int, published bool, extra string) string {
	return fmt.Sprintf(`{"id":%q,"order_id":%q,"sku":%q,"rating":%d,"title":"おいしい","text":"また買います。\n家族も喜んでいます。","author":"美咲","verified":true,"published":%t%s}`,
		id, orderID, sku, rating, published, extra)
}

type reply struct {
	Accepted      bool   `json:"accepted"`
	Duplicate     bool   `json:"duplicate"`
	Review        string `json:"review"`
	Counted       bool   `json:"counted"`
	StopsRequests bool   `json:"stops_requests"`
	Points        int64  `json:"points"`
	Ignored       string `json:"ignored"`
}

func call(t *testing.T, h *Handler, req events.APIGatewayV2HTTPRequest) (int, reply) {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	var r reply
	if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, resp.Body)
	}
	return resp.StatusCode, r
}

// reviewed reports whether a review request for sku may still go to
// customer: the campaign runner's own check (store.ClaimReviewRequest).
func (f fixture) reviewed(t *testing.T, customerID, sku string) string {
	t.Helper()
	ok, reason, err := f.st.ClaimReviewRequest(context.Background(), customerID, sku, "msg-"+customerID+"-"+sku, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		return "may ask"
	}
	return reason
}

func (f fixture) rating(t *testing.T, sku string) string {
	t.Helper()
	p, err := f.st.GetProductReviews(context.Background(), sku)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d reviews, %d stars", p.Count, p.RatingSum)
}

// TestGenericReviews posts reviews one after another and checks, after
// each, the answer, the product's rating and whether review requests for
// the product still go to the customer.
func TestGenericReviews(t *testing.T) {
	f := newFixture(t)
	f.order(t, "1001", "c-1", "SWEET-YOKAN", "TEA-SENCHA")
	f.order(t, "1002", "c-2", "SWEET-YOKAN")
	if err := f.st.ImportProfiles(context.Background(), []customer.Profile{{ID: "c-1"}, {ID: "c-2"}, {ID: "c-3"}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name, body string
		want       reply
		rating     string // of SWEET-YOKAN afterwards
	}{
		{"a published review; the order names the customer", reviewBody("r-1", "1001", "SWEET-YOKAN", 5, true, ""),
			reply{Accepted: true, Review: "generic#r-1", Counted: true, StopsRequests: true}, "1 reviews, 5 stars"},
		{"the same review again", reviewBody("r-1", "1001", "SWEET-YOKAN", 5, true, ""),
			reply{Accepted: true, Duplicate: true, Review: "generic#r-1", Counted: true, StopsRequests: true}, "1 reviews, 5 stars"},
		{"the same id with other content: the first is kept", reviewBody("r-1", "1001", "SWEET-YOKAN", 1, true, ""),
			reply{Accepted: true, Duplicate: true, Review: "generic#r-1", Counted: true, StopsRequests: true}, "1 reviews, 5 stars"},
		{"another customer's review", reviewBody("r-2", "1002", "SWEET-YOKAN", 3, true, ""),
			reply{Accepted: true, Review: "generic#r-2", Counted: true, StopsRequests: true}, "2 reviews, 8 stars"},
		{"unpublished: not counted, still stops requests", reviewBody("r-3", "1001", "TEA-SENCHA", 2, false, ""),
			reply{Accepted: true, Review: "generic#r-3", StopsRequests: true}, "2 reviews, 8 stars"},
		{"an order tsunagu never saw: kept, author unknown", reviewBody("r-4", "9999", "SWEET-YOKAN", 4, true, ""),
			reply{Accepted: true, Review: "generic#r-4", Counted: true}, "3 reviews, 12 stars"},
		{"the customer named in the body", reviewBody("r-5", "9999", "SWEET-YOKAN", 4, true, `,"customer_id":"c-3"`),
			reply{Accepted: true, Review: "generic#r-5", Counted: true, StopsRequests: true}, "4 reviews, 16 stars"},
		{"awaiting moderation: kept, not counted", reviewBody("r-6", "1002", "SWEET-YOKAN", 2, false, ""),
			reply{Accepted: true, Review: "generic#r-6", StopsRequests: true}, "4 reviews, 16 stars"},
		{"published later: counted, with the rating first sent", reviewBody("r-6", "1002", "SWEET-YOKAN", 5, true, ""),
			reply{Accepted: true, Review: "generic#r-6", Counted: true, StopsRequests: true}, "5 reviews, 18 stars"},
		{"published again: a duplicate", reviewBody("r-6", "1002", "SWEET-YOKAN", 2, true, ""),
			reply{Accepted: true, Duplicate: true, Review: "generic#r-6", Counted: true, StopsRequests: true}, "5 reviews, 18 stars"},
		{"unpublished later: not applied (not yet)", reviewBody("r-6", "1002", "SWEET-YOKAN", 2, false, ""),
			reply{Accepted: true, Duplicate: true, Review: "generic#r-6", Counted: true, StopsRequests: true}, "5 reviews, 18 stars"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, got := call(t, f.h, genericRequest(s.body))
			if status != http.StatusOK || got != s.want {
				t.Errorf("answer %d %+v, want 200 %+v", status, got, s.want)
			}
			if r := f.rating(t, "SWEET-YOKAN"); r != s.rating {
				t.Errorf("SWEET-YOKAN: %s, want %s", r, s.rating)
			}
		})
	}
	for _, c := range []struct{ customer, sku, want string }{
		{"c-1", "SWEET-YOKAN", "already_reviewed"},
		{"c-1", "TEA-SENCHA", "already_reviewed"},
		{"c-2", "SWEET-YOKAN", "already_reviewed"},
		{"c-3", "SWEET-YOKAN", "already_reviewed"},
		{"c-2", "TEA-SENCHA", "may ask"},
	} {
		if got := f.reviewed(t, c.customer, c.sku); got != c.want {
			t.Errorf("review request of %s to %s: %s, want %s", c.sku, c.customer, got, c.want)
		}
	}
	if r := f.rating(t, "TEA-SENCHA"); r != "0 reviews, 0 stars" {
		t.Errorf("TEA-SENCHA (unpublished review only): %s", r)
	}
	// The published, verified reviews of four or five stars are kept to
	// quote (written at the same moment: by key), at most three.
	p, err := f.st.GetProductReviews(context.Background(), "SWEET-YOKAN")
	if err != nil {
		t.Fatal(err)
	}
	var best []string
	for _, q := range p.Best {
		best = append(best, fmt.Sprintf("%s %d %s %s", q.Key, q.Rating, q.Title, q.Author))
	}
	if want := []string{"generic#r-1 5 おいしい 美咲", "generic#r-4 4 おいしい 美咲", "generic#r-5 4 おいしい 美咲"}; !slices.Equal(best, want) {
		t.Errorf("best reviews %q, want %q", best, want)
	}
	// The two-star reviews of known customers opened a support case each,
	// published or not, and cooled their authors off; the five-star
	// review sent again with one star did not.
	cases, err := f.st.OpenCases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.ID+" "+c.CustomerID+" "+c.About)
	}
	if want := []string{"low_review#generic#r-3 c-1 ★2 TEA-SENCHA", "low_review#generic#r-6 c-2 ★2 SWEET-YOKAN"}; !slices.Equal(got, want) {
		t.Errorf("cases %q, want %q", got, want)
	}
	for id, cooling := range map[string]bool{"c-1": true, "c-2": true, "c-3": false} {
		p, err := f.st.GetProfile(context.Background(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if cooling != p.CoolingUntil.Equal(now.Add(30*24*time.Hour)) {
			t.Errorf("%s cooling until %s, want cooling %v", id, p.CoolingUntil, cooling)
		}
	}
}

// TestRefused sends requests that must be refused with nothing stored.
func TestRefused(t *testing.T) {
	f := newFixture(t)
	good := reviewBody("r-1", "1001", "SWEET-YOKAN", 5, true, "")
	stale := genericRequest(good)
	stale.Headers["x-tsunagu-signature"] = signature.SignTsunagu(secret, now.Add(-6*time.Minute), []byte(good))
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		says   string
	}{
		{"no signature", events.APIGatewayV2HTTPRequest{RouteKey: genericRoute, Body: good}, 401, "X-Tsunagu-Signature"},
		{"another secret", func() events.APIGatewayV2HTTPRequest {
			r := genericRequest(good)
			r.Headers["x-tsunagu-signature"] = signature.SignTsunagu("other", now, []byte(good))
			return r
		}(), 401, "mismatch"},
		{"signed six minutes ago", stale, 401, "tolerance"},
		{"Judge.me's signature on the shop's route", events.APIGatewayV2HTTPRequest{RouteKey: genericRoute, Body: good,
			Headers: map[string]string{"judgeme-hmac-sha256": signature.SignJudgeme(secret, []byte(good))}}, 401, "missing"},
		{"the shop's signature on Judge.me's route", events.APIGatewayV2HTTPRequest{RouteKey: judgemeRoute, Body: good,
			Headers: map[string]string{"x-tsunagu-signature": signature.SignTsunagu(secret, now, []byte(good))}}, 401, "JUDGEME-HMAC-SHA256"},
		{"over 256 KiB", genericRequest(`{"id":"r","text":"` + strings.Repeat("a", 256<<10) + `"}`), 413, "256 KiB"},
		{"every bad field", genericRequest(`{"id":"","rating":9,"verified":"yes"}`), 400, `"field":"order_id"`},
		{"text over 5,000 characters", genericRequest(reviewBody("r-9", "1001", "SWEET-YOKAN", 5, true, `,"text":"`+strings.Repeat("良", 5001)+`"`)), 400, `"field":"text","message":"is 5001 characters; at most 5000`},
		{"title over 200 characters", genericRequest(reviewBody("r-9", "1001", "SWEET-YOKAN", 5, true, `,"title":"`+strings.Repeat("良", 201)+`"`)), 400, `"field":"title"`},
		{"not JSON", genericRequest(`{"id":`), 400, `"field":"body"`},
		{"a Judge.me body that is no review", judgemeRequest(`{"event":"review/created","review":{"id":1}}`), 400, `"field":"review.rating"`},
	}
	before := testenv.Snapshot(t, f.table)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.h.Handle(context.Background(), tt.req)
			if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.says) {
				t.Errorf("answer %d %s (%v), want %d saying %s", resp.StatusCode, resp.Body, err, tt.status, tt.says)
			}
		})
	}
	if changed := testenv.Changed(before, testenv.Snapshot(t, f.table)); len(changed) > 0 {
		t.Errorf("refused requests wrote %v", changed)
	}
}

// TestJudgemeSamples sends Judge.me's documented bodies (see
// shared/review/testdata/judgeme/PROVENANCE), signed as Judge.me signs
// them, through the handler.
func TestJudgemeSamples(t *testing.T) {
	f := newFixture(t)
	sample := func(name string) string {
		b, err := os.ReadFile(filepath.Join(testenv.Root(), "shared", "review", "testdata", "judgeme", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	steps := []struct {
		name, file string
		want       reply
	}{
		{"a product review", "pipedream-review-created.json", reply{Accepted: true, Review: "judgeme#465077653", Counted: true, StopsRequests: true}},
		{"its redelivery", "pipedream-review-created.json", reply{Accepted: true, Duplicate: true, Review: "judgeme#465077653", Counted: true, StopsRequests: true}},
		{"a review of the shop", "mechanic-review-created.json", reply{Accepted: true, Ignored: "not a product review"}},
		{"a review of the shop, updated", "mechanic-review-updated.json", reply{Accepted: true, Ignored: "not a product review"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, got := call(t, f.h, judgemeRequest(sample(s.file)))
			if status != http.StatusOK || got != s.want {
				t.Errorf("answer %d %+v, want 200 %+v", status, got, s.want)
			}
		})
	}
	sku := order.ProductKey("8302173290794")
	if r := f.rating(t, sku); r != "1 reviews, 5 stars" {
		t.Errorf("%s: %s", sku, r)
	}
	if got := f.reviewed(t, "5083214609", sku); got != "already_reviewed" {
		t.Errorf("review request to the reviewer: %s", got)
	}
	// The same product on a Shopify line with a SKU: the line names the
	// product id, and the review request finds the review under it.
	line := order.Item{SKU: "SNOWBOARD-OXYGEN", ProductID: "8302173290794"}
	ok, reason, err := f.st.ClaimReviewRequest(context.Background(), "5083214609", line.SKU, "msg-oxygen", now.Add(time.Hour), line.OtherKeys()...)
	if err != nil || ok || reason != "already_reviewed" {
		t.Errorf("review request of the SKU line to the reviewer: %v %q %v", ok, reason, err)
	}
	forged := judgemeRequest(sample("pipedream-review-created.json"))
	forged.Headers["judgeme-hmac-sha256"] = signature.SignJudgeme("another-secret", []byte(forged.Body))
	if status, _ := call(t, f.h, forged); status != http.StatusUnauthorized {
		t.Errorf("forged signature: %d", status)
	}
	unconfigured := *f.h
	unconfigured.JudgemeSecret = nil
	resp, err := unconfigured.Handle(context.Background(), judgemeRequest(sample("pipedream-review-created.json")))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, "JUDGEME_WEBHOOK_SECRET is not configured") {
		t.Errorf("without JUDGEME_WEBHOOK_SECRET: %d %s, want 401 saying so", resp.StatusCode, resp.Body)
	}
}

// TestConcurrentDeliveries sends every review of a product several times
// at once: each is stored and counted once, and exactly one copy of each
// answers duplicate false.
func TestConcurrentDeliveries(t *testing.T) {
	f := newFixture(t)
	const reviews, copies = 8, 4
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first = map[string]int{}
	)
	for i := range reviews {
		for range copies {
			wg.Go(func() {
				body := reviewBody(fmt.Sprintf("r-%d", i), "1001", "SWEET-YOKAN", 1+i%5, true, fmt.Sprintf(`,"customer_id":"c-%d"`, i))
				resp, err := f.h.Handle(context.Background(), genericRequest(body))
				var r reply
				if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &r) != nil {
					t.Errorf("answer %d %s %v", resp.StatusCode, resp.Body, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if !r.Duplicate {
					first[r.Review]++
				}
			})
		}
	}
	wg.Wait()
	want := 0
	for i := range reviews {
		want += 1 + i%5
		if n := first[fmt.Sprintf("generic#r-%d", i)]; n != 1 {
			t.Errorf("r-%d: %d copies answered duplicate false, want 1", i, n)
		}
	}
	if r, w := f.rating(t, "SWEET-YOKAN"), fmt.Sprintf("%d reviews, %d stars", reviews, want); r != w {
		t.Errorf("SWEET-YOKAN: %s, want %s", r, w)
	}
}

// failingStore fails one step once, as DynamoDB might midway.
type failingStore struct {
	Store
	step string
	once sync.Once
}

var errInjected = errors.New("injected failure")

func (s *failingStore) fail(step string) error {
	var err error
	if step == s.step {
		s.once.Do(func() { err = errInjected })
	}
	return err
}

func (s *failingStore) CountReview(ctx context.Context, r review.Review, at time.Time) (bool, error) {
	if err := s.fail("count"); err != nil {
		return false, err
	}
	return s.Store.CountReview(ctx, r, at)
}

func (s *failingStore) RecordReview(ctx context.Context, customerID, sku, key string, at time.Time) error {
	if err := s.fail("record"); err != nil {
		return err
	}
	return s.Store.RecordReview(ctx, customerID, sku, key, at)
}

func (s *failingStore) MarkReviewCounted(ctx context.Context, key string, at time.Time) error {
	if err := s.fail("mark"); err != nil {
		return err
	}
	return s.Store.MarkReviewCounted(ctx, key, at)
}

func (s *failingStore) PublishReview(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := s.fail("publish"); err != nil {
		return false, err
	}
	return s.Store.PublishReview(ctx, key, at)
}

func (s *failingStore) FinishReview(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := s.fail("finish"); err != nil {
		return false, err
	}
	return s.Store.FinishReview(ctx, key, at)
}

// TestRetryAfterFailure fails each step once: the answer is 503, and the
// shop's retry finishes the review, counted once.
func TestRetryAfterFailure(t *testing.T) {
	for _, step := range []string{"count", "mark", "record", "finish"} {
		t.Run(step, func(t *testing.T) {
			f := newFixture(t)
			f.h.Store = &failingStore{Store: f.h.Store, step: step}
			body := reviewBody("r-1", "1001", "SWEET-YOKAN", 4, true, `,"customer_id":"c-1"`)
			if status, _ := call(t, f.h, genericRequest(body)); status != http.StatusServiceUnavailable {
				t.Fatalf("with %s failing: %d, want 503", step, status)
			}
			if status, got := call(t, f.h, genericRequest(body)); status != http.StatusOK || got.Duplicate {
				t.Errorf("retry: %d %+v, want 200 not duplicate", status, got)
			}
			if status, got := call(t, f.h, genericRequest(body)); status != http.StatusOK || !got.Duplicate {
				t.Errorf("redelivery: %d %+v, want duplicate", status, got)
			}
			if r := f.rating(t, "SWEET-YOKAN"); r != "1 reviews, 4 stars" {
				t.Errorf("SWEET-YOKAN: %s", r)
			}
			if got := f.reviewed(t, "c-1", "SWEET-YOKAN"); got != "already_reviewed" {
				t.Errorf("review request: %s", got)
			}
		})
	}
}

// TestJudgemeModeration: a review Judge.me sends while it awaits
// curation is kept and not counted; Judge.me's review/updated once it is
// published counts it, once however often it comes.
func TestJudgemeModeration(t *testing.T) {
	f := newFixture(t)
	body := func(event, curated string) string {
		return `{"event":"` + event + `","platform":"shopify","shop_domain":"tsubaki.myshopify.com","review":{"id":77,"title":"香りが良い","body":"毎朝飲んでいます。","rating":4,` +
			`"product_external_id":632910392,"reviewer":{"external_id":115310627314723954,"name":"高橋"},"curated":"` + curated + `","hidden":false,"verified":"buyer",` +
			`"created_at":"2026-11-28T00:00:00+00:00","updated_at":"2026-11-28T00:00:00+00:00"}}`
	}
	steps := []struct {
		name, body string
		want       reply
		rating     string
	}{
		{"created, awaiting curation", body("review/created", "not-yet"), reply{Accepted: true, Review: "judgeme#77", StopsRequests: true}, "0 reviews, 0 stars"},
		{"updated, still awaiting", body("review/updated", "not-yet"), reply{Accepted: true, Duplicate: true, Review: "judgeme#77", StopsRequests: true}, "0 reviews, 0 stars"},
		{"updated, curated", body("review/updated", "ok"), reply{Accepted: true, Review: "judgeme#77", Counted: true, StopsRequests: true}, "1 reviews, 4 stars"},
		{"the update redelivered", body("review/updated", "ok"), reply{Accepted: true, Duplicate: true, Review: "judgeme#77", Counted: true, StopsRequests: true}, "1 reviews, 4 stars"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, got := call(t, f.h, judgemeRequest(s.body))
			if status != http.StatusOK || got != s.want {
				t.Errorf("answer %d %+v, want 200 %+v", status, got, s.want)
			}
			if r := f.rating(t, order.ProductKey("632910392")); r != s.rating {
				t.Errorf("rating %s, want %s", r, s.rating)
			}
		})
	}
}

// TestPointsForReviews: with points for reviews on, a review of a product
// of an order by the customer who placed it earns the points once per
// review, whatever its rating, however often (and however concurrently)
// it is delivered; a review of another product, of an order tsunagu never
// saw, or by someone else earns nothing.
func TestPointsForReviews(t *testing.T) {
	f := newFixture(t)
	f.h.ReviewPoints = 50
	f.order(t, "1001", "c-1", "SWEET-YOKAN", "TEA-SENCHA")
	steps := []struct {
		name, body string
		points     int64 // in the answer
	}{
		{"one star earns as five would", reviewBody("r-1", "1001", "SWEET-YOKAN", 1, false, ""), 50},
		{"the same review again", reviewBody("r-1", "1001", "SWEET-YOKAN", 1, true, ""), 0},
		{"another product of the order", reviewBody("r-2", "1001", "TEA-SENCHA", 5, true, ""), 50},
		{"a product not in the order", reviewBody("r-3", "1001", "TEAWARE-KYUSU", 5, true, ""), 0},
		{"an order tsunagu never saw", reviewBody("r-4", "9999", "SWEET-YOKAN", 5, true, `,"customer_id":"c-1"`), 0},
		{"someone else's order", reviewBody("r-5", "1001", "SWEET-YOKAN", 5, true, `,"customer_id":"c-2"`), 0},
	}
	for _, s := range steps {
		status, got := call(t, f.h, genericRequest(s.body))
		_, again := call(t, f.h, genericRequest(s.body)) // a redelivery: never points again
		if status != http.StatusOK || !got.Accepted || got.Points != s.points || again.Points != 0 {
			t.Errorf("%s: answer %d %+v, redelivery %+v; want %d points once", s.name, status, got, again, s.points)
		}
	}
	// Copies of one review delivered at once: one movement.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.h.Handle(context.Background(), genericRequest(reviewBody("r-6", "1001", "TEA-SENCHA", 3, true, "")))
		}()
	}
	wg.Wait()
	for customer, want := range map[string][]string{
		"c-1": {"adjusted#review:generic#r-1 review 50", "adjusted#review:generic#r-2 review 50", "adjusted#review:generic#r-6 review 50"},
		"c-2": nil,
	} {
		ledger, err := f.st.Ledger(context.Background(), customer)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ledger {
			got = append(got, fmt.Sprintf("%s %s %d", m.ID(), m.Reason, m.Points))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s ledger %q, want %q", customer, got, want)
		}
	}
}
