package loadtest

import (
	"fmt"
	"slices"
	"strings"
)

// Route keys of the requests a load test sends, as template.yaml names the
// routes.
const (
	GenericRoute = "POST /webhooks/orders"
	ShopifyRoute = "POST /webhooks/shopify/orders"
	LineRoute    = "POST /line/webhook"
	EraseRoute   = "POST /webhooks/customers/erase"
	RedactRoute  = "POST /webhooks/shopify/customers/redact"
)

// RouteNames maps the short names people select routes by (--routes) to
// route keys, in the order a run offers them.
var RouteNames = []struct{ Name, Key string }{
	{"orders", GenericRoute},
	{"shopify", ShopifyRoute},
	{"line", LineRoute},
	{"erase", EraseRoute},
	{"redact", RedactRoute},
}

// AllRoutes returns the key of every route a load test can send to, in
// the order a run offers them: what a Config without Routes offers.
func AllRoutes() []string {
	keys := make([]string, 0, len(RouteNames))
	for _, r := range RouteNames {
		keys = append(keys, r.Key)
	}
	return keys
}

// ParseRoutes reads a comma-separated list of route names ("orders,line")
// into route keys, in the order given. Every name must be known and
// appear once.
func ParseRoutes(list string) ([]string, error) {
	var keys []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(RouteNames, func(r struct{ Name, Key string }) bool { return r.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("load test: parse routes: unknown route %q (known: %s)", name, routeNameList())
		}
		if slices.Contains(keys, RouteNames[i].Key) {
			return nil, fmt.Errorf("load test: parse routes: %q given twice", name)
		}
		keys = append(keys, RouteNames[i].Key)
	}
	return keys, nil
}

// routeNameList is the known route names, for messages.
func routeNameList() string {
	names := make([]string, 0, len(RouteNames))
	for _, r := range RouteNames {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

// checkRoutes refuses a route key a load test cannot send to, or one given
// twice.
func checkRoutes(keys []string) error {
	for i, k := range keys {
		if !slices.Contains(AllRoutes(), k) {
			return fmt.Errorf("load test: check routes: no requests for route %q", k)
		}
		if slices.Contains(keys[:i], k) {
			return fmt.Errorf("load test: check routes: route %q given twice", k)
		}
	}
	return nil
}
