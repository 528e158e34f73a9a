package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// customers is how many customers a run's orders are spread over, so
// profiles are updated again while other orders are in flight.
const customers = 997

// product is one sample catalog product orders are made of.
type product struct {
	sku, name, category, brand string
	price                      int64
}

var catalog = []product{
	{"SWEET-YOKAN", "本練羊羹", "sweets", "椿茶園", 2150},
	{"TEA-SENCHA", "宇治煎茶 100g", "tea", "椿茶園", 1600},
	{"TEA-GYOKURO", "玉露 50g", "tea", "椿茶園", 3200},
	{"TEAWARE-KYUSU", "常滑焼 急須", "teaware", "常滑窯", 6800},
}

// orderLine is one product of a generated order.
type orderLine struct {
	product
	qty int
}

// generator makes request i of a run: to routes[i%len(routes)], each
// request its own delivery (order, LINE event, erasure), signed when it is
// sent.
type generator struct {
	run                                      string
	routes                                   []string
	webhookSecret, shopifySecret, lineSecret string
}

// route is the route key request i goes to.
func (g *generator) route(i int) string {
	return g.routes[i%len(g.routes)]
}

// request returns the route and the signed request number i, sent at now.
func (g *generator) request(ctx context.Context, baseURL string, i int, now time.Time) (string, *http.Request, error) {
	route := g.route(i)
	var req *http.Request
	var err error
	switch route {
	case GenericRoute:
		req, err = g.genericRequest(ctx, baseURL, i, now)
	case ShopifyRoute:
		req, err = g.shopifyRequest(ctx, baseURL, i, now)
	case LineRoute:
		req, err = g.lineRequest(ctx, baseURL, i, now)
	case EraseRoute:
		req, err = g.eraseRequest(ctx, baseURL, i, now)
	case RedactRoute:
		req, err = g.redactRequest(ctx, baseURL, i, now)
	default:
		err = fmt.Errorf("load test: build request: no requests for route %q", route)
	}
	return route, req, err
}

// orderLines is the lines of order i and their total.
func orderLines(i int) ([]orderLine, int64) {
	var lines []orderLine
	var total int64
	for n := range 1 + i%3 {
		l := orderLine{catalog[(i+n)%len(catalog)], 1 + (i+n)%2}
		total += l.price * int64(l.qty)
		lines = append(lines, l)
	}
	return lines, total
}

// genericRequest is request i as a generic order webhook, signed with the
// webhook secret.
func (g *generator) genericRequest(ctx context.Context, baseURL string, i int, now time.Time) (*http.Request, error) {
	lines, total := orderLines(i)
	body, err := g.generic(i, i%customers, lines, total, now)
	if err != nil {
		return nil, err
	}
	return newRequest(ctx, baseURL+"/webhooks/orders", body, map[string]string{"X-Tsunagu-Signature": signature.SignTsunagu(g.webhookSecret, now, body)})
}

// shopifyRequest is request i as Shopify's orders/create webhook, signed
// with the Shopify secret.
func (g *generator) shopifyRequest(ctx context.Context, baseURL string, i int, now time.Time) (*http.Request, error) {
	lines, total := orderLines(i)
	body, err := g.shopify(i, i%customers, lines, total, now)
	if err != nil {
		return nil, err
	}
	return newRequest(ctx, baseURL+"/webhooks/shopify/orders", body, g.shopifyHeaders("orders/create", i, body, now))
}

// shopifyHeaders are the headers Shopify sends with a webhook of topic.
func (g *generator) shopifyHeaders(topic string, i int, body []byte, now time.Time) map[string]string {
	return map[string]string{
		"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": fmt.Sprintf("load-%s-%d", g.run, i),
		"X-Shopify-Hmac-Sha256": signature.SignShopify(g.shopifySecret, body), "X-Shopify-Triggered-At": now.UTC().Format(time.RFC3339Nano),
		"X-Shopify-Shop-Domain": shopDomain, "X-Shopify-API-Version": "2024-10",
	}
}

// shopDomain is the shop the Shopify webhooks come from.
const shopDomain = "tsubaki-chaen.myshopify.com"

// generic is a generic order webhook body, as README.md documents it.
func (g *generator) generic(i, cust int, items []orderLine, total int64, now time.Time) ([]byte, error) {
	var lines []map[string]any
	for _, l := range items {
		lines = append(lines, map[string]any{"sku": l.sku, "name": l.name, "category": l.category, "brand": l.brand, "price": l.price, "quantity": l.qty})
	}
	body, err := json.Marshal(map[string]any{
		"id": fmt.Sprintf("load-%s-%d", g.run, i), "type": "order.created", "occurred_at": now.Format(time.RFC3339),
		"order": map[string]any{
			"id": fmt.Sprintf("L%s-%d", g.run, i), "currency": "JPY", "total": total,
			"customer": map[string]any{"id": fmt.Sprintf("lc-%s-%d", g.run, cust), "email": g.address(cust), "name": "負荷 太郎", "accepts_marketing": cust%3 != 0},
			"items":    lines, "coupon_codes": []string{},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("load test: encode generic webhook: %w", err)
	}
	return body, nil
}

// shopify is an orders/create payload shaped as Shopify sends it (the
// fields tsunagu reads, and some it ignores).
func (g *generator) shopify(i, cust int, items []orderLine, total int64, now time.Time) ([]byte, error) {
	base := g.number()
	var lines []map[string]any
	for n, l := range items {
		lines = append(lines, map[string]any{
			"id": base*10 + int64(i)*4 + int64(n), "sku": l.sku, "name": l.name, "title": l.name, "vendor": l.brand,
			"price": strconv.FormatInt(l.price, 10), "quantity": l.qty, "product_id": 632910392 + n, "variant_id": 808950810 + n,
			"requires_shipping": true, "taxable": true, "gift_card": false,
		})
	}
	state := "subscribed"
	if cust%3 == 0 {
		state = "not_subscribed"
	}
	created := now.Format(time.RFC3339)
	body, err := json.Marshal(map[string]any{
		"id": base + int64(i), "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Order/%d", base+int64(i)), "name": fmt.Sprintf("#L%d", i),
		"email": g.address(cust), "contact_email": g.address(cust), "created_at": created, "updated_at": created, "processed_at": created,
		"currency": "JPY", "presentment_currency": "JPY", "total_price": strconv.FormatInt(total, 10), "current_total_price": strconv.FormatInt(total, 10),
		"subtotal_price": strconv.FormatInt(total, 10), "total_tax": strconv.FormatInt(total/11, 10), "taxes_included": true,
		"financial_status": "paid", "buyer_accepts_marketing": cust%3 != 0, "cancelled_at": nil, "discount_codes": []any{}, "tags": "", "test": false,
		"customer": map[string]any{
			"id": base/1000 + int64(cust), "email": g.address(cust), "first_name": "太郎", "last_name": "負荷", "state": "enabled", "verified_email": true,
			"email_marketing_consent": map[string]any{"state": state, "opt_in_level": "single_opt_in", "consent_updated_at": created},
		},
		"line_items": lines,
	})
	if err != nil {
		return nil, fmt.Errorf("load test: encode Shopify webhook: %w", err)
	}
	return body, nil
}

// address is a customer's email address: example.jp, which delivers nowhere.
func (g *generator) address(cust int) string {
	return fmt.Sprintf("load+%s-%d@example.jp", g.run, cust)
}

// number derives Shopify-style numeric ids for the run (order ids from it
// up, customer ids from it/1000 up), so runs do not collide.
func (g *generator) number() int64 {
	return 900000000000000 + g.hash()*1000000
}

// hash is a number from 0 to 99999 that tells runs apart.
func (g *generator) hash() int64 {
	h := fnv.New32a()
	h.Write([]byte(g.run))
	return int64(h.Sum32() % 100000)
}
