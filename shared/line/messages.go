package line

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// LINE's limits on what tsunagu sends (Messaging API reference).
const (
	// MaxMessages is how many messages one push or reply carries.
	MaxMessages = 5
	// MaxTextLength is the longest text message.
	MaxTextLength = 5000
	// MaxAltTextLength is the longest alternative text of a Flex Message.
	MaxAltTextLength = 1500
	// MaxCarouselBubbles is how many bubbles a carousel holds.
	MaxCarouselBubbles = 12
	maxURILength       = 1000
	maxImageURLLength  = 2000
)

// The look of tsunagu's Flex Messages: the shop's brown, as on its pages.
const (
	brandColor = "#8a5a2b"
	textColor  = "#333333"
	mutedColor = "#777777"
)

// Text is a text message. Text longer than LINE takes is cut.
func Text(s string) *messaging_api.TextMessage {
	return &messaging_api.TextMessage{Text: clip(s, MaxTextLength)}
}

// Product is one product a carousel shows.
type Product struct {
	Name string
	// URL is the product's page (http or https).
	URL string
	// ImageURL is optional; LINE shows https images only.
	ImageURL string
}

// Recommendations turns cross-sell recommendations into products for a
// carousel.
func Recommendations(recs []rules.Recommendation) []Product {
	out := make([]Product, len(recs))
	for i, r := range recs {
		out[i] = Product{Name: r.Title, URL: r.URL, ImageURL: r.ImageURL}
	}
	return out
}

// ProductCarousel is a Flex carousel with one bubble per product: its
// image and name, and a button to its page. Products without a
// usable web address are left out, and so are those past the twelve a
// carousel holds; nil means none was left.
func ProductCarousel(altText string, products []Product) *messaging_api.FlexMessage {
	carousel := &messaging_api.FlexCarousel{}
	for _, p := range products {
		if len(carousel.Contents) == MaxCarouselBubbles {
			break
		}
		if !webURL(p.URL, maxURILength, false) || strings.TrimSpace(p.Name) == "" {
			continue
		}
		carousel.Contents = append(carousel.Contents, productBubble(p))
	}
	if len(carousel.Contents) == 0 {
		return nil
	}
	return &messaging_api.FlexMessage{AltText: clip(altText, MaxAltTextLength), Contents: carousel}
}

func productBubble(p Product) messaging_api.FlexBubble {
	open := &messaging_api.UriAction{Label: "詳しく見る", Uri: p.URL}
	body := []messaging_api.FlexComponentInterface{
		&messaging_api.FlexText{Text: p.Name, Size: "md", Weight: messaging_api.FlexTextWEIGHT_BOLD, Color: textColor, Wrap: true, MaxLines: 2},
	}
	b := messaging_api.FlexBubble{
		Size: messaging_api.FlexBubbleSIZE_KILO,
		Body: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Contents: body, PaddingAll: "lg"},
		Footer: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Contents: []messaging_api.FlexComponentInterface{
			&messaging_api.FlexButton{Action: open, Style: messaging_api.FlexButtonSTYLE_PRIMARY, Color: brandColor, Height: messaging_api.FlexButtonHEIGHT_SM},
		}},
	}
	if webURL(p.ImageURL, maxImageURLLength, true) {
		b.Hero = &messaging_api.FlexImage{Url: p.ImageURL, Size: "full", AspectRatio: "1:1", AspectMode: messaging_api.FlexImageASPECT_MODE_COVER,
			Action: &messaging_api.UriAction{Uri: p.URL}}
	}
	return b
}

// CouponCard is a Flex bubble presenting an issued coupon: its name and
// discount, the minimum order, the code with a button that copies it, the
// expiry in the shop's zone, and a button to the shop.
func CouponCard(c rules.CouponData, shop rules.Shop, loc *time.Location) *messaging_api.FlexMessage {
	expires := c.ExpiresAt.In(loc).Format("2006年1月2日 15:04") + "まで"
	body := []messaging_api.FlexComponentInterface{
		&messaging_api.FlexText{Text: shop.Name + " クーポン", Size: "xs", Color: mutedColor, Wrap: true},
		&messaging_api.FlexText{Text: c.Name, Size: "lg", Weight: messaging_api.FlexTextWEIGHT_BOLD, Color: textColor, Wrap: true, Margin: "sm"},
		&messaging_api.FlexText{Text: c.Discount, Size: "xxl", Weight: messaging_api.FlexTextWEIGHT_BOLD, Color: brandColor, Margin: "md"},
	}
	if c.MinOrder > 0 {
		body = append(body, &messaging_api.FlexText{Text: rules.Money(c.MinOrder, shop.Currency) + "以上のご注文で", Size: "sm", Color: mutedColor, Wrap: true})
	}
	body = append(body,
		&messaging_api.FlexSeparator{Margin: "lg"},
		labelled("コード", &messaging_api.FlexText{Text: c.Code, Size: "md", Weight: messaging_api.FlexTextWEIGHT_BOLD, Color: textColor, Wrap: true, Flex: 5}, "lg"),
		labelled("有効期限", &messaging_api.FlexText{Text: expires, Size: "sm", Color: textColor, Wrap: true, Flex: 5}, "sm"),
	)
	footer := []messaging_api.FlexComponentInterface{
		&messaging_api.FlexButton{Action: &messaging_api.ClipboardAction{Label: "コードをコピー", ClipboardText: c.Code},
			Style: messaging_api.FlexButtonSTYLE_PRIMARY, Color: brandColor, Height: messaging_api.FlexButtonHEIGHT_SM},
	}
	if webURL(shop.URL, maxURILength, false) {
		footer = append(footer, &messaging_api.FlexButton{Action: &messaging_api.UriAction{Label: "ショップで使う", Uri: shop.URL},
			Style: messaging_api.FlexButtonSTYLE_LINK, Color: brandColor, Height: messaging_api.FlexButtonHEIGHT_SM})
	}
	return &messaging_api.FlexMessage{
		AltText: clip(fmt.Sprintf("%s（%s）クーポンコード: %s %s", c.Name, c.Discount, c.Code, expires), MaxAltTextLength),
		Contents: &messaging_api.FlexBubble{
			Body:   &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Contents: body, PaddingAll: "xl"},
			Footer: &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_VERTICAL, Contents: footer, Spacing: "sm"},
		},
	}
}

// labelled is a baseline row: a muted label, then the value beside it.
func labelled(label string, value *messaging_api.FlexText, margin string) *messaging_api.FlexBox {
	return &messaging_api.FlexBox{Layout: messaging_api.FlexBoxLAYOUT_BASELINE, Margin: margin, Spacing: "sm", Contents: []messaging_api.FlexComponentInterface{
		&messaging_api.FlexText{Text: label, Size: "sm", Color: mutedColor, Flex: 2},
		value,
	}}
}

// Content is what one campaign LINE message says.
type Content struct {
	// Text is the rendered line.txt of the campaign's template.
	Text string
	// Products, when any, follow as a carousel.
	Products []Product
	// Coupon, when the campaign issued one, follows as a card.
	Coupon *rules.CouponData
	Shop   rules.Shop
	// Location is the shop's zone, for the coupon's expiry.
	Location *time.Location
	// Link, when set, rewrites the URI actions' links (the products' and
	// the shop's): the message's click tracker. A tracked link longer than
	// LINE takes is left direct.
	Link func(rawURL string) string
	// QuickReply, when set, makes the push the text alone with a button
	// per entry under it (a survey's scores).
	QuickReply []QuickReplyButton
}

// QuickReplyButton is one quick-reply button: it posts Data back (a
// postback event) and shows Label as the customer's answer.
type QuickReplyButton struct {
	Label string
	Data  string
}

// Messages builds a campaign's push: the text, then the products as a
// carousel and the coupon as a card when there are any.
func Messages(c Content) ([]messaging_api.MessageInterface, error) {
	text := strings.TrimSpace(c.Text)
	if text == "" {
		return nil, errors.New("build line messages: the text is empty")
	}
	if len(c.QuickReply) > 0 {
		m := Text(text)
		m.QuickReply = &messaging_api.QuickReply{}
		for _, b := range c.QuickReply {
			m.QuickReply.Items = append(m.QuickReply.Items, messaging_api.QuickReplyItem{Type: "action",
				Action: &messaging_api.PostbackAction{Label: b.Label, Data: b.Data, DisplayText: b.Label}})
		}
		return []messaging_api.MessageInterface{m}, nil
	}
	out := []messaging_api.MessageInterface{Text(text)}
	products := make([]Product, len(c.Products))
	for i, p := range c.Products {
		p.URL = c.link(p.URL)
		products[i] = p
	}
	if carousel := ProductCarousel(carouselAltText(products), products); carousel != nil {
		out = append(out, carousel)
	}
	if c.Coupon != nil {
		loc := c.Location
		if loc == nil {
			loc = time.UTC
		}
		shop := c.Shop
		shop.URL = c.link(shop.URL)
		out = append(out, CouponCard(*c.Coupon, shop, loc))
	}
	return out, nil
}

// link is the address a URI action opens for rawURL: through Link when
// set and what it makes fits LINE's limit, else rawURL.
func (c Content) link(rawURL string) string {
	if c.Link == nil || rawURL == "" {
		return rawURL
	}
	if tracked := c.Link(rawURL); len(tracked) <= maxURILength {
		return tracked
	}
	return rawURL
}

func carouselAltText(products []Product) string {
	if len(products) == 0 {
		return ""
	}
	alt := "おすすめの商品: " + products[0].Name
	if n := len(products) - 1; n > 0 {
		alt += fmt.Sprintf(" ほか%d点", n)
	}
	return alt
}

// webURL reports whether s is an absolute http(s) address LINE takes as a
// link (or, with httpsOnly, as an image) within max characters.
func webURL(s string, max int, httpsOnly bool) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || len(s) > max {
		return false
	}
	return u.Scheme == "https" || !httpsOnly && u.Scheme == "http"
}

// clip cuts s to at most max UTF-16 code units (how LINE counts
// characters), never inside a character.
func clip(s string, max int) string {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > max {
			return s[:i]
		}
	}
	return s
}
