package store_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/webhook"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

type oneJourney struct{ c outreach.Content }

func (j oneJourney) Content(context.Context, string) (outreach.Content, error) { return j.c, nil }

type contacts map[string]outreach.Contact

func (c contacts) Contact(_ context.Context, id string, _ outreach.Journey) (outreach.Contact, error) {
	return c[id], nil
}

// receiver is the shop's webhook endpoint: it fails the first `fail`
// requests with 503 and then accepts, counting accepted deliveries by
// idempotency key.
type receiver struct {
	mu       sync.Mutex
	fail     int
	requests int
	accepted map[string]int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.requests <= r.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.accepted[req.Header.Get(webhook.HeaderIdempotencyKey)]++
}

// TestDispatchWebhookRetries sends a cart-abandonment SMS through a
// webhook receiver that fails twice and then accepts: the message is sent
// on the third attempt, exactly one delivery is accepted, and a
// dispatcher that claimed it and died does not double it.
func TestDispatchWebhookRetries(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rcv := &receiver{fail: 2, accepted: map[string]int{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		tmpl, err := outreach.Compile("template", outreach.Template{Text: "{{.Customer.FirstName}}, your cart is waiting"})
		if err != nil {
			t.Fatal(err)
		}
		j := outreach.Journey{ID: "cart", Trigger: outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 4},
			Channels: []outreach.Channel{outreach.ChannelSMS, outreach.ChannelEmail}}
		now := t0
		d := &outreach.Dispatcher{
			Store:    s,
			Journeys: oneJourney{outreach.Content{Journey: j, Templates: map[outreach.TemplateKey]*outreach.Compiled{{Channel: outreach.ChannelSMS}: tmpl}}},
			Contacts: contacts{"c1": {Recipient: outreach.Recipient{Consent: func(c outreach.Channel) bool { return c == outreach.ChannelSMS }},
				Addresses: map[outreach.Channel]string{outreach.ChannelSMS: "+447700900123"}, Data: outreach.SampleData}},
			Sender: &channel.Router{Providers: map[outreach.Channel]channel.Provider{
				outreach.ChannelSMS: channel.Webhook{URL: srv.URL, Sender: &webhook.Sender{Secret: []byte("k")}}}},
			Retry: outreach.RetryPolicy{MaxAttempts: 5, Min: time.Minute, Max: time.Minute},
			Clock: func() time.Time { return now },
			Lease: 5 * time.Minute,
		}
		m := outreach.NewMessage(j, "c1", outreach.CartOccurrence("e1"), t0.Add(-4*time.Hour), time.UTC, outreach.QuietHours{}, now)
		if _, err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		// A dispatcher claims the message and dies before attempting it.
		if got, err := s.Claim(ctx, now, d.Lease, 10); err != nil || len(got) != 1 {
			t.Fatalf("the dying dispatcher's claim: %v, %v", got, err)
		}
		if n, err := d.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("RunOnce while the claim holds: attempted %d, %v; want none", n, err)
		}
		for round := range 8 { // the claim lapses; then a minute between attempts
			now = now.Add(5 * time.Minute)
			if _, err := d.RunOnce(ctx); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		got, err := s.GetMessage(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != outreach.StateSent || got.Attempts != 3 || got.Channel != outreach.ChannelSMS {
			t.Errorf("message: got %s after %d attempts on %s, want sent after 3 on sms", got.State, got.Attempts, got.Channel)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.requests != 3 || len(rcv.accepted) != 1 || rcv.accepted[m.ID] != 1 {
			t.Errorf("receiver: %d requests, accepted %v; want 3 requests and one delivery of %s", rcv.requests, rcv.accepted, m.ID)
		}
	})
}
