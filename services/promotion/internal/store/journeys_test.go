package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

func TestJourneys(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j := outreach.Journeys{Store: s, Clock: func() time.Time { return t0 }}
		def := outreach.JourneyDef{
			Journey: outreach.Journey{ID: "win-back", Trigger: outreach.Trigger{Kind: outreach.TriggerAudienceEntered, Audience: "stages/dormant"},
				Delay: time.Hour, Channels: []outreach.Channel{outreach.ChannelEmail, outreach.ChannelPush}, Campaign: "spring"},
			DisplayName: "Win back",
			Templates: []outreach.TemplateDef{
				{Channel: outreach.ChannelEmail, Template: outreach.Template{Subject: "We miss you, {{.Customer.FirstName}}", Text: "Come back"}},
				{Channel: outreach.ChannelEmail, Locale: "fr", Template: outreach.Template{Subject: "Vous nous manquez, {{.Customer.FirstName}}", Text: "Revenez"}},
				{Channel: outreach.ChannelPush, Template: outreach.Template{Text: "Come back, {{.Customer.FirstName}}"}},
			},
		}
		created, err := j.Create(ctx, def)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Create(ctx, def); !errors.Is(err, outreach.ErrJourneyAlreadyExists) {
			t.Errorf("second create: got %v, want ErrJourneyAlreadyExists", err)
		}
		got, err := s.GetJourney(ctx, "win-back")
		if err != nil || !reflect.DeepEqual(got, created) {
			t.Fatalf("GetJourney: got %+v, %v; want %+v", got, err, created)
		}
		for _, tt := range []struct{ locale, want string }{{"fr", "Vous nous manquez, Ada"}, {"de", "We miss you, Ada"}} {
			r, err := j.Preview(ctx, "win-back", outreach.ChannelEmail, tt.locale, nil)
			if err != nil || r.Subject != tt.want {
				t.Errorf("preview in %q: got %q, %v; want %q", tt.locale, r.Subject, err, tt.want)
			}
		}
		if _, err := j.Preview(ctx, "win-back", outreach.ChannelSMS, "", nil); !errors.Is(err, outreach.ErrInvalidTemplate) {
			t.Errorf("preview without an SMS template: got %v", err)
		}
		if _, err := j.Preview(ctx, "nope", outreach.ChannelEmail, "", nil); !errors.Is(err, outreach.ErrJourneyNotFound) {
			t.Errorf("preview of an unknown journey: got %v", err)
		}
		second := def
		second.ID = "birthday"
		second.Trigger = outreach.Trigger{Kind: outreach.TriggerBirthday, Days: 3, LocalMinute: 540}
		if _, err := j.Create(ctx, second); err != nil {
			t.Fatal(err)
		}
		page, next, err := j.List(ctx, 1, "", false)
		if err != nil || len(page) != 1 || page[0].ID != "birthday" || next == "" {
			t.Fatalf("first page: %v %q %v", page, next, err)
		}
		page, next, err = j.List(ctx, 1, next, false)
		if err != nil || len(page) != 1 || page[0].ID != "win-back" || next != "" {
			t.Fatalf("second page: %v %q %v", page, next, err)
		}
		bad := def
		bad.ID = "no-push-template"
		bad.Templates = bad.Templates[:2]
		if _, err := j.Create(ctx, bad); !errors.Is(err, outreach.ErrInvalidTemplate) {
			t.Errorf("a channel without a template: got %v, want ErrInvalidTemplate", err)
		}
	})
}
