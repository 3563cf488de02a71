package outreach

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestJourneyVariables(t *testing.T) {
	api := JourneyDef{
		Journey: Journey{ID: "survey", Trigger: Trigger{Kind: TriggerAPI}, Channels: []Channel{ChannelWebhook},
			Variables: []string{"survey_url", "order_id"}},
		Templates: []TemplateDef{{Channel: ChannelWebhook, Template: Template{Text: "Rate order {{.Vars.order_id}}: {{.Vars.survey_url}}"}}},
	}
	with := func(f func(*JourneyDef)) JourneyDef {
		d := api
		d.Variables = append([]string(nil), api.Variables...)
		d.Templates = append([]TemplateDef(nil), api.Templates...)
		f(&d)
		return d
	}
	tests := []struct {
		name string
		d    JourneyDef
		path string
	}{
		{"declared variables", api, ""},
		{"undeclared variable in a template", with(func(d *JourneyDef) { d.Variables = d.Variables[:1] }), "journey.templates[0].text"},
		{"bad name", with(func(d *JourneyDef) { d.Variables[0] = "Survey-URL" }), "journey.variables[0]"},
		{"repeated name", with(func(d *JourneyDef) { d.Variables[1] = "survey_url" }), "journey.variables[1]"},
		{"too many", with(func(d *JourneyDef) {
			for i := range MaxVariables {
				d.Variables = append(d.Variables, "v"+strings.Repeat("x", i))
			}
		}), "journey.variables"},
		{"variables on another trigger", with(func(d *JourneyDef) { d.Trigger = Trigger{Kind: TriggerFirstOrder} }), "journey.variables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldOf(tt.d.Check()); got != tt.path {
				t.Errorf("got %q, want %q", got, tt.path)
			}
		})
	}
}

func TestBindVariables(t *testing.T) {
	d := JourneyDef{Journey: Journey{ID: "survey", Trigger: Trigger{Kind: TriggerAPI}, Variables: []string{"survey_url", "order_id", "ticket_id"}}}
	got, err := d.bind(map[string]string{"survey_url": "https://s/1", "order_id": "o-1", "ticket_id": "", "extra": "dropped"})
	want := map[string]string{"survey_url": "https://s/1", "order_id": "o-1", "ticket_id": ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("bind: got %v, %v; want %v", got, err, want)
	}
	_, err = d.bind(map[string]string{"order_id": "o-1"})
	if !errors.Is(err, ErrMissingVariables) || fieldOf(err) != "variables" ||
		!strings.Contains(err.Error(), "survey_url, ticket_id") {
		t.Errorf("bind without survey_url and ticket_id: got %v, want ErrMissingVariables naming both", err)
	}
	d.Trigger = Trigger{Kind: TriggerFirstOrder}
	if _, err := d.bind(nil); !errors.Is(err, ErrNotAPITriggered) {
		t.Errorf("bind on a first-order journey: got %v, want ErrNotAPITriggered", err)
	}
}

func TestSendRequestCheck(t *testing.T) {
	ok := SendRequest{JourneyID: "survey", CustomerID: "c1", OccurrenceID: "order:o-1", Vars: map[string]string{"a": "b"}}
	tests := []struct {
		name string
		r    SendRequest
		path string
	}{
		{"valid", ok, ""},
		{"no customer", SendRequest{OccurrenceID: "x"}, "customer_id"},
		{"no occurrence", SendRequest{CustomerID: "c1"}, "occurrence_id"},
		{"control character", SendRequest{CustomerID: "c1", OccurrenceID: "a\nb"}, "occurrence_id"},
		{"long occurrence", SendRequest{CustomerID: "c1", OccurrenceID: strings.Repeat("x", MaxOccurrenceID+1)}, "occurrence_id"},
		{"long value", SendRequest{CustomerID: "c1", OccurrenceID: "x", Vars: map[string]string{"a": strings.Repeat("x", MaxVariableLen+1)}}, "variables[a]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldOf(tt.r.check()); got != tt.path {
				t.Errorf("got %q, want %q", got, tt.path)
			}
		})
	}
}
