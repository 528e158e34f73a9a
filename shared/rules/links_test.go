package rules

import (
	"encoding/hex"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeLink stands in for a message's link tracker: a URL that shows which
// link it stands for.
func fakeLink(u string) string { return "https://t.example/" + hex.EncodeToString([]byte(u)) }

// TestLinksTracked: a template's links go through MessageData.Link when
// it is rendered: in HTML every action that is a whole href value (the
// layout's, the content's, inside range and if), in text and LINE every
// field named URL; what is only shown (a URL as link text, an image), an
// href built from a field and more text, and the text part's unsubscribe
// link are not. Without WithLinks nothing changes.
func TestLinksTracked(t *testing.T) {
	fsys := shipped(t)
	dir := TemplatesDir + "/linked/"
	fsys[dir+SubjectFile] = &fstest.MapFile{Data: []byte("{{.Shop.Name}}")}
	fsys[dir+HTMLFile] = &fstest.MapFile{Data: []byte(`<p><a href="{{.Shop.URL}}">{{.Shop.URL}}</a>
{{range .Recommendations}}<a class="x" href='{{.URL}}'><img src="{{.ImageURL}}"></a>{{end}}
<a href="{{.Shop.URL}}/sale">sale</a> <a href={{.Shop.URL}}>bare</a> <a href="{{$.Link "https://instagram.example/tsubaki"}}">insta</a>
{{if .Coupon}}<a href="mailto:{{.Shop.ContactEmail}}">mail</a>{{end}}
<link rel="stylesheet" href="{{(index .Recommendations 0).URL}}"><AREA shape="rect" title="{{.Shop.Name}}" href="{{.Shop.URL}}"></p>`)}
	fsys[dir+TextFile] = &fstest.MapFile{Data: []byte("{{.Shop.URL}}\n{{range .Reviews}}{{.URL}} {{.Name}}\n{{end}}")}
	fsys[dir+LineFile] = &fstest.MapFile{Data: []byte("{{.Shop.Name}} {{.Shop.URL}}\n{{with .Recommendations}}{{(index . 0).URL}}{{end}}")}
	set, err := LoadFS(fsys, "rules")
	if err != nil {
		t.Fatal(err)
	}
	tpl := set.Templates["linked"]
	data := SampleData(set.Settings)
	data.Recommendations[0].ImageURL = "https://cdn.example/tea.jpg"
	plain, err := tpl.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.HTML+plain.Text, "t.example") {
		t.Fatalf("links changed without WithLinks:\n%s", plain.HTML)
	}
	tracked, err := tpl.Render(data.WithLinks(fakeLink))
	if err != nil {
		t.Fatal(err)
	}
	shop, rec, review := set.Settings.Shop.URL, data.Recommendations[0].URL, data.Reviews[0].URL
	tests := []struct{ part, want string }{
		{"html", `href="` + fakeLink(shop) + `">` + shop + `</a>`},
		{"html", `href='` + fakeLink(rec) + `'`},
		{"html", `src="https://cdn.example/tea.jpg"`},
		{"html", `href="` + shop + `/sale"`},
		{"html", `href=` + fakeLink(shop) + `>bare`},
		{"html", `href="` + fakeLink("https://instagram.example/tsubaki") + `"`},
		{"html", `href="mailto:`},
		{"html", `<link rel="stylesheet" href="` + rec + `">`},                    // fetched by the mail client, not clicked
		{"html", `<AREA shape="rect" title="椿茶園" href="` + fakeLink(shop) + `">`}, // an action earlier in the tag
		{"html", `<a href="` + fakeLink(shop) + `">` + shop + `</a></p>`},         // the layout's footer
		{"html", `href="` + fakeLink(data.UnsubscribeURL)},                        // the tracker, not the template, keeps it direct
		{"text", fakeLink(shop) + "\n" + fakeLink(review) + " "},
		{"text", "配信停止はこちら: " + data.UnsubscribeURL},
	}
	for _, tt := range tests {
		part := tracked.HTML
		if tt.part == "text" {
			part = tracked.Text
		}
		if !strings.Contains(part, tt.want) {
			t.Errorf("%s part lacks %q:\n%s", tt.part, tt.want, part)
		}
	}
	line, err := tpl.RenderLine(data.WithLinks(fakeLink))
	if want := set.Settings.Shop.Name + " " + fakeLink(shop) + "\n" + fakeLink(rec); err != nil || line != want {
		t.Errorf("line = %q, %v; want %q", line, err, want)
	}
}
