package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/shopify"
	"github.com/tsunagu-dev/tsunagu/shared/signature"
)

// eraseLag is how many requests before an erasure the order of the
// customer it erases was offered (about a second at 200/s), so that the
// customer is usually stored by then.
const eraseLag = 200

// erasureTarget is the customer request i erases: every other erasure
// request, a customer of an order the run offered at least eraseLag
// requests earlier on orderRoute (j is that order's request); the others,
// and those with no such order, a customer no one has (known is false).
func (g *generator) erasureTarget(i int, orderRoute string) (j int, known bool) {
	pos := slices.Index(g.routes, orderRoute)
	last := i - eraseLag
	if pos < 0 || last < pos || (i/len(g.routes))%2 == 1 {
		return 0, false
	}
	n := len(g.routes)
	return last - (last-pos)%n, true
}

// eraseRequest is request i as the generic customer erasure webhook
// (POST /webhooks/customers/erase), signed with the webhook secret.
func (g *generator) eraseRequest(ctx context.Context, baseURL string, i int, now time.Time) (*http.Request, error) {
	id := fmt.Sprintf("lc-%s-none-%d", g.run, i)
	if j, ok := g.erasureTarget(i, GenericRoute); ok {
		id = fmt.Sprintf("lc-%s-%d", g.run, j%customers)
	}
	body, err := json.Marshal(map[string]any{"customer_id": id})
	if err != nil {
		return nil, fmt.Errorf("load test: encode erasure webhook: %w", err)
	}
	return newRequest(ctx, baseURL+"/webhooks/customers/erase", body, map[string]string{"X-Tsunagu-Signature": signature.SignTsunagu(g.webhookSecret, now, body)})
}

// redactRequest is request i as Shopify's mandatory customers/redact
// webhook, signed with the Shopify secret. A customer no one has gets an
// id far above the run's Shopify customers.
func (g *generator) redactRequest(ctx context.Context, baseURL string, i int, now time.Time) (*http.Request, error) {
	id := 2_000_000_000_000 + g.hash()*10_000_000 + int64(i)
	email := fmt.Sprintf("load+%s-none-%d@example.jp", g.run, i)
	orders := []int64{}
	if j, ok := g.erasureTarget(i, ShopifyRoute); ok {
		id, email, orders = g.number()/1000+int64(j%customers), g.address(j%customers), []int64{g.number() + int64(j)}
	}
	body, err := json.Marshal(map[string]any{
		"shop_id": 954889, "shop_domain": shopDomain,
		"customer":         map[string]any{"id": id, "email": email, "phone": nil},
		"orders_to_redact": orders,
	})
	if err != nil {
		return nil, fmt.Errorf("load test: encode Shopify redact webhook: %w", err)
	}
	return newRequest(ctx, baseURL+"/webhooks/shopify/customers/redact", body, g.shopifyHeaders(shopify.RedactTopic, i, body, now))
}
