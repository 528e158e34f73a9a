package order

import "testing"

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain name kept", in: "高橋 美咲", want: "高橋 美咲"},
		{name: "header injection folded onto the line", in: "Misaki\r\nBcc: victim@example.jp\r\n\r\nhttps://phish.example/login", want: "Misaki Bcc: victim@example.jp https://phish.example/login"},
		{name: "ideographic space kept", in: "高橋　美咲", want: "高橋　美咲"},
		{name: "tabs and NUL", in: "a\tb\x00c", want: "a b c"},
		{name: "C1 next line", in: "a\u0085b", want: "a b"},
		{name: "Unicode line and paragraph separators", in: "a\u2028b\u2029c", want: "a b c"},
		{name: "right-to-left override", in: "invoice\u202efdp.exe", want: "invoice fdp.exe"},
		{name: "surrounding space trimmed", in: "  ギフト  券 ", want: "ギフト 券"},
		{name: "HTML is text, kept as sent", in: `<script>alert("x")</script>`, want: `<script>alert("x")</script>`},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanText(tt.in); got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
