package main

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/rules"
)

// The opt-in confirmation email. It is the shop's system mail, not a
// campaign, so it is written here rather than among the marketer's
// templates; it carries the shop's name, postal address and contact like
// every email.
var (
	confirmationSubject = texttemplate.Must(texttemplate.New("subject").Parse(`【{{.Shop.Name}}】メールでのお知らせ再開のご確認`))
	confirmationText    = texttemplate.Must(texttemplate.New("text").Parse(`{{.Shop.Name}}をご利用いただきありがとうございます。

ご注文完了ページで、メールでのお知らせ（新商品・セール情報）の受け取りをお申し込みいただきました。
以前に配信を停止されていたため、ご本人の確認をお願いしています。
再開される場合は、7日以内に次のリンクを開き、「受け取りを再開する」を押してください。

{{.Link}}

お心当たりのない場合は、このメールを破棄してください。何も変わりません。

--
{{.Shop.Name}}
{{.Shop.PostalAddress}}
お問い合わせ: {{.Shop.ContactEmail}}{{if .Shop.ContactPhone}} / {{.Shop.ContactPhone}}{{end}}
`))
	confirmationHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>メールでのお知らせ再開のご確認</title></head>
<body style="font-family:'Hiragino Sans','Noto Sans JP',sans-serif;color:#333;line-height:1.7">
<p>{{.Shop.Name}}をご利用いただきありがとうございます。</p>
<p>ご注文完了ページで、メールでのお知らせ（新商品・セール情報）の受け取りをお申し込みいただきました。以前に配信を停止されていたため、ご本人の確認をお願いしています。</p>
<p>再開される場合は、7日以内に次のリンクを開き、「受け取りを再開する」を押してください。</p>
<p><a href="{{.Link}}">メールでのお知らせの受け取りを確認する</a></p>
<p>お心当たりのない場合は、このメールを破棄してください。何も変わりません。</p>
<hr><p style="font-size:12px;color:#777">{{.Shop.Name}}<br>{{.Shop.PostalAddress}}<br>お問い合わせ: {{.Shop.ContactEmail}}{{if .Shop.ContactPhone}} / {{.Shop.ContactPhone}}{{end}}</p>
</body></html>
`))
)

// confirmationEmail renders the confirmation email of an opt-in to to.
func confirmationEmail(shop rules.Shop, to, link string) (email.Message, error) {
	data := struct {
		Shop rules.Shop
		Link string
	}{shop, link}
	var subject, text, html strings.Builder
	for _, r := range []func() error{
		func() error { return confirmationSubject.Execute(&subject, data) },
		func() error { return confirmationText.Execute(&text, data) },
		func() error { return confirmationHTML.Execute(&html, data) },
	} {
		if err := r(); err != nil {
			return email.Message{}, err
		}
	}
	return email.Message{To: to, Subject: subject.String(), Text: text.String(), HTML: html.String()}, nil
}
