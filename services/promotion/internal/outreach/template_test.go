package outreach

import (
	"errors"
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	c, err := Compile("template", Template{
		Subject: "{{.Customer.FirstName}}, your cart is waiting",
		Text:    "Use {{.CouponCode}} before {{date \"2 Jan\" .PointsExpiry}}. Unsubscribe: {{.Links.Unsubscribe}}",
		HTML:    `<p>Hi {{.Customer.FirstName}}</p><a href="{{.Links.Cart}}">cart</a>`,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData
	d.Customer.FirstName = `<b>Bob</b> & "co"`
	got, err := c.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	want := Rendered{
		Subject: `<b>Bob</b> & "co", your cart is waiting`,
		Text:    "Use WELCOME-7K2P before 31 Dec. Unsubscribe: https://shop.example.com/unsubscribe?t=sample",
		HTML:    `<p>Hi &lt;b&gt;Bob&lt;/b&gt; &amp; &#34;co&#34;</p><a href="https://shop.example.com/cart">cart</a>`,
	}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	tests := []struct {
		name string
		t    Template
		path string
	}{
		{"empty", Template{}, "template"},
		{"unknown field", Template{Text: "Hi {{.Customer.Nickname}}"}, "template.text"},
		{"unknown top-level field", Template{Subject: "{{.Discount}}"}, "template.subject"},
		{"parse error", Template{HTML: "<p>{{if .CouponCode}}</p>"}, "template.html"},
		{"unknown function", Template{Text: "{{shout .CouponCode}}"}, "template.text"},
		{"too long", Template{Text: strings.Repeat("x", MaxTemplateBytes+1)}, "template.text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("template", tt.t)
			if !errors.Is(err, ErrInvalidTemplate) || fieldOf(err) != tt.path {
				t.Errorf("got %v, want ErrInvalidTemplate on %s", err, tt.path)
			}
		})
	}
}

func TestTemplateRecommendations(t *testing.T) {
	with, err := Compile("template", Template{Text: `{{range $i, $r := .Recommendations}}{{if $i}}, {{end}}{{$r.SKU}} ({{$r.Reason}}){{end}}`})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Compile("template", Template{Text: "Hi {{.Customer.FirstName}}"})
	if err != nil {
		t.Fatal(err)
	}
	if !with.Recommends() || without.Recommends() {
		t.Errorf("Recommends: %v and %v, want true for the template naming .Recommendations only", with.Recommends(), without.Recommends())
	}
	got, err := with.Render(SampleData)
	if want := "22423 (bought with 85123A), 47566 (popular in party), 84879 (popular in home)"; err != nil || got.Text != want {
		t.Errorf("got %q, %v; want %q", got.Text, err, want)
	}
	if _, err := Compile("template", Template{Text: "{{range .Recommendations}}{{.Price}}{{end}}"}); !errors.Is(err, ErrInvalidTemplate) {
		t.Errorf("a field recommended items lack: got %v, want ErrInvalidTemplate", err)
	}
}
