package main

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/email"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// exportNotice tells the shop that a customer data export is kept and how
// to fetch it. It names the data request only, never the customer: the
// export itself stays in the shop's table.
func exportNotice(to string, rec store.ExportRecord) email.Message {
	until := rec.ExpiresAt.Format(time.DateOnly)
	command := "go run ./cmd/tsunagu customer export --request " + rec.RequestID + " --aws --table <TableName>"
	lines := []string{
		fmt.Sprintf("Shopify から顧客データの開示請求（customers/data_request、請求 ID %s）が届きました。", rec.RequestID),
		fmt.Sprintf("tsunagu がこの顧客について保持しているデータを %s（UTC）まで保管しています。次のコマンドで取り出し、顧客にお渡しください。", until),
		"",
		"A Shopify customer data request (customers/data_request, id " + rec.RequestID + ") arrived.",
		"What tsunagu holds about the customer is kept until " + until + " (UTC). Fetch it with:",
		"",
		"  " + command,
	}
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "  ") {
			fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(strings.TrimSpace(l)))
			continue
		}
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(l))
	}
	return email.Message{
		To:      to,
		Subject: "[tsunagu] 顧客データの開示請求 " + rec.RequestID + " / customer data request " + rec.RequestID,
		Text:    strings.Join(lines, "\n") + "\n",
		HTML:    b.String(),
	}
}
