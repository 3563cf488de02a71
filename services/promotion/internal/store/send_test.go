package store_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// captured records what a Sender was given.
type captured struct {
	mu   sync.Mutex
	sent map[string]outreach.Rendered
}

func (c *captured) Send(_ context.Context, m outreach.Message, _ outreach.Channel, _ string, r outreach.Rendered) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[m.ID] = r
	return nil
}

// TestSendJourneyMessage creates API-triggered messages: once per
// occurrence, with the journey's variables stored and rendered by the
// dispatcher, and refused for other journeys or missing variables.
func TestSendJourneyMessage(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := func() time.Time { return t0 }
		journeys := outreach.Journeys{Store: s, Clock: clock}
		survey := outreach.JourneyDef{
			Journey: outreach.Journey{ID: "survey", Trigger: outreach.Trigger{Kind: outreach.TriggerAPI}, Transactional: true,
				Channels: []outreach.Channel{outreach.ChannelWebhook}, Variables: []string{"survey_url", "order_id"}},
			Templates: []outreach.TemplateDef{{Channel: outreach.ChannelWebhook,
				Template: outreach.Template{Text: "How was order {{.Vars.order_id}}? {{.Vars.survey_url}}"}}},
		}
		welcome := outreach.JourneyDef{
			Journey:   outreach.Journey{ID: "welcome", Trigger: outreach.Trigger{Kind: outreach.TriggerFirstOrder}, Channels: []outreach.Channel{outreach.ChannelWebhook}},
			Templates: []outreach.TemplateDef{{Channel: outreach.ChannelWebhook, Template: outreach.Template{Text: "Welcome"}}},
		}
		for _, d := range []outreach.JourneyDef{survey, welcome} {
			if _, err := journeys.Create(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		sends := outreach.Sends{Journeys: s, Messages: s, Clock: clock}
		vars := map[string]string{"survey_url": "https://s.example/nps?i=1", "order_id": "o-77", "ticket_id": ""}
		req := outreach.SendRequest{JourneyID: "survey", CustomerID: "c1", OccurrenceID: "order:o-77", Vars: vars}
		first, created, err := sends.Send(ctx, req)
		if err != nil || !created {
			t.Fatalf("first send: created %v, %v", created, err)
		}
		again, created, err := sends.Send(ctx, req)
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("second send: got %s created %v, %v; want %s not created", again.ID, created, err, first.ID)
		}
		wantVars := map[string]string{"survey_url": "https://s.example/nps?i=1", "order_id": "o-77"}
		if !reflect.DeepEqual(again.Vars, wantVars) || again.Occurrence != "api:order:o-77" {
			t.Errorf("stored message: vars %v occurrence %q; want %v api:order:o-77", again.Vars, again.Occurrence, wantVars)
		}

		for _, c := range []struct {
			name string
			req  outreach.SendRequest
			want error
		}{
			{"unknown journey", outreach.SendRequest{JourneyID: "nope", CustomerID: "c1", OccurrenceID: "x"}, outreach.ErrJourneyNotFound},
			{"first-order journey", outreach.SendRequest{JourneyID: "welcome", CustomerID: "c1", OccurrenceID: "x"}, outreach.ErrNotAPITriggered},
			{"missing variable", outreach.SendRequest{JourneyID: "survey", CustomerID: "c1", OccurrenceID: "x",
				Vars: map[string]string{"order_id": "o-1"}}, outreach.ErrMissingVariables},
		} {
			if _, _, err := sends.Send(ctx, c.req); !errors.Is(err, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			}
		}

		sender := &captured{sent: map[string]outreach.Rendered{}}
		d := &outreach.Dispatcher{Store: s, Journeys: journeys, Sender: sender, Clock: clock,
			Contacts: contacts{"c1": {Recipient: outreach.Recipient{Consent: func(outreach.Channel) bool { return true }}, Data: outreach.SampleData}},
			Retry:    outreach.RetryPolicy{MaxAttempts: 3, Min: time.Minute, Max: time.Minute}}
		if n, err := d.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce: attempted %d, %v; want 1", n, err)
		}
		if got := sender.sent[first.ID].Text; got != "How was order o-77? https://s.example/nps?i=1" {
			t.Errorf("rendered text: got %q", got)
		}
	})
}
