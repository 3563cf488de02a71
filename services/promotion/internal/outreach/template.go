package outreach

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Template is a message's content for one channel and locale: a subject
// (email, push title), a text body and, for email, an HTML body. Each is a
// Go template over Data ({{.Customer.FirstName}}, {{.CouponCode}},
// {{.Links.Unsubscribe}}); the HTML body is escaped by context
// (html/template).
type Template struct {
	Subject string
	Text    string
	HTML    string
}

// Data is what a template renders.
type Data struct {
	Customer       CustomerData
	Points         int64     // loyalty points balance
	ExpiringPoints int64     // points expiring soonest
	PointsExpiry   time.Time // when they expire
	CouponCode     string
	Links          Links
	// Vars are the values of an API-triggered journey's variables,
	// given with each message.
	Vars map[string]string
	// Recommendations are the customer's recommended items, best first
	// (segmentation's recommendations at send time; the popularity
	// fallback for a customer with no history). They are read only for
	// journeys whose templates name .Recommendations.
	Recommendations []RecommendedItem
}

// RecommendedItem is one recommended product.
type RecommendedItem struct {
	SKU    string
	Score  float64
	Reason string // readable: "bought with 22423", "popular in kitchen"
}

// CustomerData are the customer fields a template may use.
type CustomerData struct {
	ID        string
	FirstName string
	FullName  string
	Email     string
	Locale    string
}

// Links are the URLs a template may use. Open is the message's open
// pixel (<img src="{{.Links.Open}}" width="1" height="1" alt="">), and
// {{.Links.Click "https://shop.example.com/sale"}} a link through the
// gateway that records the click and redirects to the URL given (signed:
// it redirects nowhere else). Without tracking configured, Open is empty
// and Click gives the URL itself.
type Links struct {
	Shop        string
	Cart        string
	Unsubscribe string
	Open        string
	click       func(string) (string, error)
}

// Click returns the tracked link to dest, an absolute http(s) URL.
func (l Links) Click(dest string) (string, error) {
	if l.click != nil {
		return l.click(dest)
	}
	if u, err := url.Parse(dest); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("click link to %q: not an absolute http(s) URL", dest)
	}
	return dest, nil
}

// SampleData is what templates are validated against when saved, and what
// a preview renders when no customer is given.
var SampleData = Data{
	Customer: CustomerData{ID: "c-1001", FirstName: "Ada", FullName: "Ada Lovelace", Email: "ada@example.com", Locale: "en-GB"},
	Points:   1250, ExpiringPoints: 300, PointsExpiry: time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC),
	CouponCode: "WELCOME-7K2P",
	Recommendations: []RecommendedItem{{SKU: "22423", Score: 0.82, Reason: "bought with 85123A"},
		{SKU: "47566", Score: 0.64, Reason: "popular in party"}, {SKU: "84879", Score: 0.51, Reason: "popular in home"}},
	Links: Links{Shop: "https://shop.example.com/", Cart: "https://shop.example.com/cart",
		Unsubscribe: "https://shop.example.com/unsubscribe?t=sample", Open: "https://shop.example.com/v1/outreach/open?token=sample"},
}

// MaxTemplateBytes bounds each part of a template.
const MaxTemplateBytes = 64 << 10

// Rendered is a message rendered for one customer.
type Rendered struct {
	Subject, Text, HTML string
}

// Compiled is a parsed, validated template.
type Compiled struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
	// recommends: the template names .Recommendations, so sending it
	// needs the customer's recommendations.
	recommends bool
}

// recommendationsField is the Data field whose reading costs a call.
const recommendationsField = "Recommendations"

// Recommends reports whether the template uses the customer's
// recommendations.
func (c *Compiled) Recommends() bool { return c.recommends }

// templateFuncs are the functions templates may call.
var templateFuncs = map[string]any{
	"date":  func(layout string, t time.Time) string { return t.Format(layout) },
	"upper": strings.ToUpper,
}

// SampleFor returns SampleData with a sample value for each of the
// variables, so that a template using a variable the journey does not
// declare fails to render.
func SampleFor(variables []string) Data {
	d := SampleData
	d.Vars = make(map[string]string, len(variables))
	for _, v := range variables {
		d.Vars[v] = "sample-" + v
	}
	return d
}

// Compile parses t and renders it with SampleData (no variables).
func Compile(path string, t Template) (*Compiled, error) { return CompileWith(path, t, SampleData) }

// CompileWith parses t and renders it with sample, so that a template
// naming a field Data lacks, or a variable sample lacks, or failing
// otherwise, is rejected when saved rather than when sent. Errors name the
// part under path ("template.html") and wrap ErrInvalidTemplate. Text
// needs at least a subject or a body.
func CompileWith(path string, t Template, sample Data) (*Compiled, error) {
	if t.Subject == "" && t.Text == "" && t.HTML == "" {
		return nil, &fielderr.Error{Path: path, Problem: "is empty", Fix: "give a subject, a text body or an HTML body", Err: ErrInvalidTemplate}
	}
	c := Compiled{recommends: strings.Contains(t.Subject+t.Text+t.HTML, recommendationsField)}
	var err error
	if c.subject, err = parseText(path+".subject", t.Subject); err != nil {
		return nil, err
	}
	if c.text, err = parseText(path+".text", t.Text); err != nil {
		return nil, err
	}
	if len(t.HTML) > MaxTemplateBytes {
		return nil, tooLong(path+".html", len(t.HTML))
	}
	if c.html, err = htmltemplate.New("html").Option("missingkey=error").Funcs(templateFuncs).Parse(t.HTML); err != nil {
		return nil, templateError(path+".html", err)
	}
	if _, err := c.render(sample, path); err != nil {
		return nil, err
	}
	return &c, nil
}

func parseText(path, src string) (*texttemplate.Template, error) {
	if len(src) > MaxTemplateBytes {
		return nil, tooLong(path, len(src))
	}
	t, err := texttemplate.New("text").Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err != nil {
		return nil, templateError(path, err)
	}
	return t, nil
}

func tooLong(path string, n int) error {
	return &fielderr.Error{Path: path, Problem: fmt.Sprintf("is %d bytes long", n),
		Fix: fmt.Sprintf("keep it under %d bytes", MaxTemplateBytes), Err: ErrInvalidTemplate}
}

func templateError(path string, err error) error {
	return &fielderr.Error{Path: path, Problem: err.Error(),
		Fix: "use fields of the template data, such as {{.Customer.FirstName}}, {{.CouponCode}} or {{.Links.Unsubscribe}}, or variables the journey declares ({{.Vars.name}})",
		Err: ErrInvalidTemplate}
}

// Render renders c for d.
func (c *Compiled) Render(d Data) (Rendered, error) { return c.render(d, "template") }

func (c *Compiled) render(d Data, path string) (Rendered, error) {
	var r Rendered
	var b bytes.Buffer
	for _, p := range []struct {
		name string
		exec func(*bytes.Buffer) error
		out  *string
	}{
		{"subject", func(b *bytes.Buffer) error { return c.subject.Execute(b, d) }, &r.Subject},
		{"text", func(b *bytes.Buffer) error { return c.text.Execute(b, d) }, &r.Text},
		{"html", func(b *bytes.Buffer) error { return c.html.Execute(b, d) }, &r.HTML},
	} {
		b.Reset()
		if err := p.exec(&b); err != nil {
			return Rendered{}, templateError(path+"."+p.name, err)
		}
		*p.out = b.String()
	}
	return r, nil
}
