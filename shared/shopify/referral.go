package shopify

import (
	"net/url"

	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// refParameter is the ref query parameter of an order's landing site
// (the first page of the buyer's visit, a path with its query, as the
// referral link leads there with ?ref=<code>); "" when it has none.
func refParameter(landingSite string) string {
	u, err := url.Parse(landingSite)
	if err != nil {
		return ""
	}
	return order.CleanText(u.Query().Get("ref"))
}

// customerPhone is the phone number of the order's customer record, when
// the order itself has none.
func customerPhone(w wireOrder) string {
	if w.Customer == nil {
		return ""
	}
	return deref(w.Customer.Phone)
}

// shippingPhone is the phone number of the order's shipping address.
func shippingPhone(w wireOrder) string {
	if w.ShippingAddress == nil {
		return ""
	}
	return deref(w.ShippingAddress.Phone)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
