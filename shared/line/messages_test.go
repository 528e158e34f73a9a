package line

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

func TestProductCarousel(t *testing.T) {
	many := make([]Product, 15)
	for i := range many {
		many[i] = Product{Name: fmt.Sprintf("商品%d", i+1), URL: fmt.Sprintf("https://tsubaki-chaen.example.jp/products/%d", i+1)}
	}
	tests := []struct {
		name        string
		products    []Product
		wantBubbles int
		wantHeroes  int
	}{
		{name: "unusable links and nameless products are left out; only https images show", products: products, wantBubbles: 3, wantHeroes: 1},
		{name: "at most twelve", products: many, wantBubbles: MaxCarouselBubbles},
		{name: "nothing to show", products: []Product{{Name: "x", URL: "/relative"}, {URL: "https://a.example.jp"}}, wantBubbles: 0},
		{name: "no products", wantBubbles: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ProductCarousel("おすすめ", tt.products)
			if tt.wantBubbles == 0 {
				if m != nil {
					t.Fatalf("want no message, got %+v", m)
				}
				return
			}
			c, ok := m.Contents.(*messaging_api.FlexCarousel)
			if !ok || len(c.Contents) != tt.wantBubbles {
				t.Fatalf("contents = %#v; want a carousel of %d", m.Contents, tt.wantBubbles)
			}
			heroes := 0
			for _, b := range c.Contents {
				if b.Hero != nil {
					heroes++
				}
			}
			if heroes != tt.wantHeroes {
				t.Errorf("%d images, want %d", heroes, tt.wantHeroes)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name    string
		content Content
		want    []string // message types
		wantErr bool
	}{
		{name: "text only", content: Content{Text: "こんにちは"}, want: []string{"*messaging_api.TextMessage"}},
		{name: "text, carousel and coupon", content: Content{Text: "こんにちは", Products: products, Coupon: &coupon, Shop: shop},
			want: []string{"*messaging_api.TextMessage", "*messaging_api.FlexMessage", "*messaging_api.FlexMessage"}},
		{name: "products none can show: no carousel", content: Content{Text: "こんにちは", Products: []Product{{Name: "x", URL: "ftp://x"}}},
			want: []string{"*messaging_api.TextMessage"}},
		{name: "blank text", content: Content{Text: " \n", Coupon: &coupon}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := Messages(tt.content)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Messages error = %v", err)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, fmt.Sprintf("%T", m))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("messages = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTextIsClippedToLINEsLimit(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  int // UTF-16 length
	}{
		{name: "short", input: "こんにちは", want: 5},
		{name: "long Japanese", input: strings.Repeat("あ", 6000), want: MaxTextLength},
		{name: "emoji never cut in half", input: strings.Repeat("🍵", 2600), want: MaxTextLength},
		{name: "odd boundary before an emoji", input: "a" + strings.Repeat("🍵", 2600), want: MaxTextLength - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.input).Text
			if n := len(utf16.Encode([]rune(got))); n != tt.want || !strings.HasPrefix(tt.input, got) {
				t.Errorf("%d UTF-16 units, want %d", n, tt.want)
			}
		})
	}
}
