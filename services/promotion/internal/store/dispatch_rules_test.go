package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// capture is a provider that records what it is given.
type capture struct {
	mu  sync.Mutex
	got []channel.Message
}

func (c *capture) Send(_ context.Context, m channel.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, m)
	return nil
}

// TestDispatchRules runs the dispatcher's decisions on stored messages:
// consent picks the channel, holdout, unsubscription, missing consent and
// caps suppress with their reason, quiet hours hold a message until they
// end in the customer's zone, and a channel without a template is dead.
func TestDispatchRules(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tmpl, err := outreach.Compile("template", outreach.Template{Subject: "Hi", Text: "Hi {{.Customer.FirstName}}"})
		if err != nil {
			t.Fatal(err)
		}
		j := outreach.Journey{ID: "vip", Trigger: outreach.Trigger{Kind: outreach.TriggerAudienceEntered, Audience: "tiers/vip"},
			Channels: []outreach.Channel{outreach.ChannelPush, outreach.ChannelEmail, outreach.ChannelSMS}}
		templates := map[outreach.TemplateKey]*outreach.Compiled{{Channel: outreach.ChannelEmail}: tmpl, {Channel: outreach.ChannelPush}: tmpl}
		granted := func(chs ...outreach.Channel) outreach.Consent {
			return func(c outreach.Channel) bool {
				for _, g := range chs {
					if g == c {
						return true
					}
				}
				return false
			}
		}
		ny, _ := time.LoadLocation("America/New_York")
		people := contacts{
			"email-only": {Recipient: outreach.Recipient{Consent: granted(outreach.ChannelEmail)}},
			"none":       {Recipient: outreach.Recipient{Consent: granted()}},
			"holdout":    {Recipient: outreach.Recipient{Holdout: true, Consent: granted(outreach.ChannelEmail)}},
			"gone":       {Recipient: outreach.Recipient{Unsubscribed: true, Consent: granted(outreach.ChannelEmail)}},
			"capped":     {Recipient: outreach.Recipient{Consent: granted(outreach.ChannelPush)}},
			"sms-only":   {Recipient: outreach.Recipient{Consent: granted(outreach.ChannelSMS)}},
			"new-york":   {Recipient: outreach.Recipient{Consent: granted(outreach.ChannelPush)}, Zone: ny},
		}
		sent := &capture{}
		now := time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC) // 05:30 in New York
		d := &outreach.Dispatcher{
			Store: s, Journeys: oneJourney{outreach.Content{Journey: j, Templates: templates}}, Contacts: people,
			Sender: &channel.Router{Providers: map[outreach.Channel]channel.Provider{
				outreach.ChannelEmail: sent, outreach.ChannelPush: sent, outreach.ChannelSMS: sent}},
			Caps:  []outreach.Cap{{Channel: outreach.ChannelPush, Limit: 1, PerLocalDay: true}},
			Quiet: outreach.QuietHours{Start: 22 * 60, End: 6 * 60}, Zone: time.UTC,
			Retry: outreach.DefaultRetryPolicy, Clock: func() time.Time { return now },
		}
		create := func(customer, occurrence string) string {
			m := outreach.NewMessage(j, customer, occurrence, now, time.UTC, outreach.QuietHours{}, now)
			if _, err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		ids := map[string]string{}
		for _, c := range []string{"email-only", "none", "holdout", "gone", "capped", "sms-only", "new-york"} {
			ids[c] = create(c, "op-1")
		}
		ids["capped-2"] = create("capped", "op-2")
		if _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"email-only": "sent email", "none": "suppressed no_consent", "holdout": "suppressed holdout",
			"gone":     "suppressed unsubscribed",
			"sms-only": "dead sms", "new-york": "held ",
		}
		check := func(want map[string]string) {
			t.Helper()
			for who, w := range want {
				m, err := s.GetMessage(ctx, ids[who])
				if err != nil {
					t.Fatal(err)
				}
				got := fmt.Sprintf("%s %s", m.State, m.Reason)
				if m.Reason == outreach.ReasonNone {
					got = fmt.Sprintf("%s %s", m.State, m.Channel)
				}
				if got != w {
					t.Errorf("%s: got %q, want %q", who, got, w)
				}
			}
		}
		check(want)
		// Two messages to one customer under "1 push a day": one goes out,
		// the other is suppressed for the cap (which one is up to the
		// dispatcher's workers).
		a, _ := s.GetMessage(ctx, ids["capped"])
		b, _ := s.GetMessage(ctx, ids["capped-2"])
		if got := []outreach.State{a.State, b.State}; !(got[0] == outreach.StateSent && b.Reason == outreach.ReasonCap) &&
			!(got[1] == outreach.StateSent && a.Reason == outreach.ReasonCap) {
			t.Errorf("two pushes under a 1-a-day cap: got %s %s and %s %s, want one sent and one suppressed for the cap",
				a.State, a.Reason, b.State, b.Reason)
		}
		held, _ := s.GetMessage(ctx, ids["new-york"])
		if !held.Due.Equal(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("held until %s, want 06:00 in New York (10:00 UTC)", held.Due)
		}
		now = held.Due
		if _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		check(map[string]string{"new-york": "sent push"})
		if len(sent.got) != 3 {
			t.Errorf("provider got %d messages, want 3", len(sent.got))
		}
	})
}
