package outreach

import (
	"errors"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/paging"
)

func TestApplyField(t *testing.T) {
	in := JourneyDef{Journey: Journey{Trigger: Trigger{Kind: TriggerFirstOrder}, Delay: time.Hour, Channels: []Channel{ChannelSMS},
		Transactional: true, Campaign: "spring"}, DisplayName: "New", Templates: []TemplateDef{{Channel: ChannelSMS}}}
	for _, tt := range []struct {
		field string
		check func(JourneyDef) bool
	}{
		{"display_name", func(d JourneyDef) bool { return d.DisplayName == "New" }},
		{"trigger", func(d JourneyDef) bool { return d.Trigger.Kind == TriggerFirstOrder }},
		{"delay", func(d JourneyDef) bool { return d.Delay == time.Hour }},
		{"channels", func(d JourneyDef) bool { return len(d.Channels) == 1 && d.Channels[0] == ChannelSMS }},
		{"transactional", func(d JourneyDef) bool { return d.Transactional }},
		{"campaign", func(d JourneyDef) bool { return d.Campaign == "spring" }},
		{"templates", func(d JourneyDef) bool { return len(d.Templates) == 1 }},
	} {
		t.Run(tt.field, func(t *testing.T) {
			var d JourneyDef
			if err := applyField(&d, in, tt.field); err != nil || !tt.check(d) {
				t.Errorf("got %+v, %v; want %s copied", d, err, tt.field)
			}
		})
	}
	for _, field := range []string{"displayName", "trigger.kind", ""} {
		if err := applyField(&JourneyDef{}, in, field); err == nil {
			t.Errorf("field %q: got no error", field)
		}
	}
}

func TestPositions(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 123, time.UTC)
	pos, err := parsePosition(formatPosition(at, "m/1"))
	if err != nil || !pos.CreateTime.Equal(at) || pos.ID != "m/1" {
		t.Errorf("round trip: got %+v, %v", pos, err)
	}
	if pos, err := parsePosition(""); err != nil || pos != (MessagePosition{}) {
		t.Errorf("empty position: got %+v, %v; want the start", pos, err)
	}
	for _, bad := range []string{"x/m1", "12", "12/", "/m1"} {
		if _, err := parsePosition(bad); !errors.Is(err, paging.ErrInvalidPageToken) {
			t.Errorf("parsePosition(%q): got %v, want ErrInvalidPageToken", bad, err)
		}
	}
}

func TestETagChangesWithVersion(t *testing.T) {
	a, b := JourneyDef{Version: 1}, JourneyDef{Version: 2}
	if a.ETag() == b.ETag() || a.ETag() != `"1"` {
		t.Errorf("etags %s and %s", a.ETag(), b.ETag())
	}
}
