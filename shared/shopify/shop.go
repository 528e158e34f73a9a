package shopify

import (
	"fmt"
	"strings"
)

// ShopDomainHeader is the header naming the shop a webhook comes from.
const ShopDomainHeader = "X-Shopify-Shop-Domain"

// CheckShopDomain refuses a delivery whose X-Shopify-Shop-Domain is not the
// configured shop (its myshopify.com domain). Shopify does not sign the
// header, but every app's secret is per app, not per shop: without this a
// body signed for one shop could be replayed as another's. An empty
// configured domain (allowed on the local stack only) accepts any shop.
func CheckShopDomain(configured, header string) error {
	configured = strings.TrimSpace(configured)
	if configured == "" {
		return nil
	}
	got := strings.ToLower(strings.TrimSpace(header))
	if got == "" {
		return fmt.Errorf("%s is required", ShopDomainHeader)
	}
	if got != strings.ToLower(configured) {
		return fmt.Errorf("%s %q is not the shop this stack serves", ShopDomainHeader, header)
	}
	return nil
}
