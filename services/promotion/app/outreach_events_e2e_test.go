package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestCartAbandonedJourneyEndToEnd runs profile and promotion on a clock
// the test moves: a cart-abandonment journey is created through the API,
// carts and an order go through profile's log, and once the clock passes
// the wait exactly one message reaches the shop's webhook - for the
// customer who did not order, not for the one who did, nor for a cart
// older than the journey. It runs on both engines.
func TestCartAbandonedJourneyEndToEnd(t *testing.T) {
	stacktest.Engines(t, testCartAbandoned)
}

func testCartAbandoned(t *testing.T, engine string) {
	var mu sync.Mutex
	start := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	now := start
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	hook := newHookReceiver(t, clock)

	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		d.Clock = clock
		c.Outreach.Interval = 50 * time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = hook.URL, "hook"
		c.Outreach.QuietHours = ""
	}))
	f := &fixture{stack: s, profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())), app: pr.Runner.(*app.App)}
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))

	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "cart-reminder", Journey: &promotionv1.Journey{
		Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_CART_ABANDONED, Hours: 2},
		Channels:  []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK},
		Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK, Text: "{{.Customer.FirstName}}, your cart is waiting"}},
	}}); err != nil {
		t.Fatal(err)
	}
	for id, name := range map[string]string{"ada": "Ada Lovelace", "bob": "Bob Babbage", "cy": "Cy Old"} {
		if _, err := f.profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: id, Customer: &profilev1.Customer{FullName: name}}); err != nil {
			t.Fatal(err)
		}
	}
	event := func(id, customer string, at time.Time, cart bool) *profilev1.Event {
		e := &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at)}
		if cart {
			e.Payload = &profilev1.Event_CartUpdated{CartUpdated: &profilev1.CartUpdated{Value: gbp(4200)}}
		} else {
			e.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: id, Total: gbp(4200)}}
		}
		return e
	}
	f.record(t,
		event("c-ada", "ada", start.Add(time.Minute), true),
		event("c-bob", "bob", start.Add(time.Minute), true),
		event("o-bob", "bob", start.Add(time.Hour), false), // inside bob's wait
		event("c-cy", "cy", start.Add(-time.Minute), true), // before the journey
	)

	set := func(at time.Time) {
		mu.Lock()
		now = at
		mu.Unlock()
	}
	set(start.Add(2 * time.Hour)) // a minute short of ada's wait
	time.Sleep(300 * time.Millisecond)
	if r := hook.received(); len(r) != 0 {
		t.Fatalf("before the wait was over the webhook got %v", r)
	}
	set(start.Add(2*time.Hour + 2*time.Minute))
	for deadline := time.Now().Add(30 * time.Second); len(hook.received()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no message reached the webhook")
		}
	}
	time.Sleep(300 * time.Millisecond) // a few more rounds: nothing more may arrive
	r := hook.received()
	if len(r) != 1 || r[0]["customer_id"] != "ada" || r[0]["journey_id"] != "cart-reminder" ||
		r[0]["text"] != "Ada, your cart is waiting" || r[0]["channel"] != "webhook" {
		t.Errorf("webhook got %v, want one message to ada", r)
	}
}

// hookReceiver is the shop's webhook endpoint: it checks each request's
// signature at clock and keeps the bodies.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []map[string]string
}

func newHookReceiver(t *testing.T, clock func() time.Time) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte("hook"), r.Header, b, clock(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		var body map[string]string
		_ = json.Unmarshal(b, &body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.got = append(h.got, body)
	}))
	t.Cleanup(h.Close)
	return h
}

// received returns the bodies received so far.
func (h *hookReceiver) received() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]string(nil), h.got...)
}
