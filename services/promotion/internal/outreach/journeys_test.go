package outreach

import (
	"testing"
)

func TestJourneyDefCheck(t *testing.T) {
	ok := JourneyDef{
		Journey:   Journey{ID: "welcome", Trigger: Trigger{Kind: TriggerFirstOrder}, Channels: []Channel{ChannelEmail}},
		Templates: []TemplateDef{{Channel: ChannelEmail, Template: Template{Subject: "Welcome {{.Customer.FirstName}}"}}},
	}
	with := func(f func(*JourneyDef)) JourneyDef {
		d := ok
		d.Templates = append([]TemplateDef(nil), ok.Templates...)
		f(&d)
		return d
	}
	tests := []struct {
		name string
		d    JourneyDef
		path string
	}{
		{"valid", ok, ""},
		{"bad id", with(func(d *JourneyDef) { d.ID = "Welcome!" }), "journey_id"},
		{"rule problem gets the journey prefix", with(func(d *JourneyDef) { d.Channels = nil }), "journey.channels"},
		{"template problem", with(func(d *JourneyDef) { d.Templates[0].Subject = "{{.Nope}}" }), "journey.templates[0].subject"},
		{"template channel", with(func(d *JourneyDef) { d.Templates[0].Channel = 0 }), "journey.templates[0].channel"},
		{"only a localised template", with(func(d *JourneyDef) { d.Templates[0].Locale = "fr" }), "journey.channels[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldOf(tt.d.Check()); got != tt.path {
				t.Errorf("got %q, want %q", got, tt.path)
			}
		})
	}
}
