package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	start := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	clock := newTestClock(start)
	hook := newHookReceiver(t, clock.now)
	f, out := startEventOutreach(t, engine, clock.now, hook.URL)

	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "cart-reminder", Journey: &promotionv1.Journey{
		Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_CART_ABANDONED, Hours: 2},
		Channels:  []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK},
		Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK, Text: "{{.Customer.FirstName}}, your cart is waiting"}},
	}}); err != nil {
		t.Fatal(err)
	}
	f.customers(t, "Ada", "Bob", "Cy")
	f.record(t,
		cartEvent("c-ada", "ada", start.Add(time.Minute)),
		cartEvent("c-bob", "bob", start.Add(time.Minute)),
		orderEvent("bob1", "bob", start.Add(time.Hour), 4200), // inside bob's wait
		cartEvent("c-cy", "cy", start.Add(-time.Minute)),      // before the journey
	)

	clock.set(start.Add(2 * time.Hour)) // a minute short of ada's wait
	time.Sleep(300 * time.Millisecond)
	if r := hook.received(); len(r) != 0 {
		t.Fatalf("before the wait was over the webhook got %v", r)
	}
	clock.set(start.Add(2*time.Hour + 2*time.Minute))
	r := hook.await(t, 1)
	if len(r) != 1 || r[0]["customer_id"] != "ada" || r[0]["journey_id"] != "cart-reminder" ||
		r[0]["text"] != "Ada, your cart is waiting" || r[0]["channel"] != "webhook" {
		t.Errorf("webhook got %v, want one message to ada", r)
	}
}

// TestOrderJourneysEndToEnd: a first-order journey welcomes a customer
// once, at their first order and not their second, and a post-purchase
// journey writes a day after each order, when the clock gets there.
func TestOrderJourneysEndToEnd(t *testing.T) {
	start := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	clock := newTestClock(start)
	hook := newHookReceiver(t, clock.now)
	f, out := startEventOutreach(t, stacktest.SQLite, clock.now, hook.URL)
	for id, tr := range map[string]*promotionv1.JourneyTrigger{
		"welcome": {Kind: promotionv1.TriggerKind_TRIGGER_KIND_FIRST_ORDER},
		"review":  {Kind: promotionv1.TriggerKind_TRIGGER_KIND_POST_PURCHASE, Days: 1},
	} {
		if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: id, Journey: &promotionv1.Journey{
			Trigger: tr, Channels: []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK},
			Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK, Text: id}},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	f.customers(t, "Ada")
	f.record(t, orderEvent("1", "ada", start.Add(time.Minute), 4200), orderEvent("2", "ada", start.Add(2*time.Minute), 4200))

	clock.set(start.Add(time.Hour))
	if r := hook.await(t, 1); len(r) != 1 || r[0]["journey_id"] != "welcome" || r[0]["customer_id"] != "ada" {
		t.Fatalf("after the orders the webhook got %v, want one welcome to ada", r)
	}
	clock.set(start.Add(25 * time.Hour))
	r := hook.await(t, 3)
	if len(r) != 3 || r[1]["journey_id"] != "review" || r[2]["journey_id"] != "review" || r[1]["message_id"] == r[2]["message_id"] {
		t.Errorf("a day later the webhook got %v, want a review message per order", r)
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

// await waits until the webhook has received n requests, lets a few more
// dispatch rounds pass (nothing more may arrive) and returns the bodies.
func (h *hookReceiver) await(t *testing.T, n int) []map[string]string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); len(h.received()) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got %v, want %d messages", h.received(), n)
		}
	}
	time.Sleep(300 * time.Millisecond)
	return h.received()
}

// testClock is a clock the test sets.
type testClock struct {
	mu sync.Mutex
	at time.Time
}

func newTestClock(at time.Time) *testClock { return &testClock{at: at} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *testClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

// startOutreach runs profile and promotion on engine, promotion on clock
// with outreach every 50 ms through the webhook at hookURL and no quiet
// hours.
func startEventOutreach(t *testing.T, engine string, clock func() time.Time, hookURL string) (*fixture, promotionv1.OutreachServiceClient) {
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		d.Clock = clock
		c.Outreach.Interval = 50 * time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = hookURL, "hook"
		c.Outreach.QuietHours = ""
	}))
	f := &fixture{stack: s, profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())), app: pr.Runner.(*app.App)}
	return f, promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))
}

// customers creates a customer for each first name, its id lower-case.
func (f *fixture) customers(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := f.profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: strings.ToLower(n),
			Customer: &profilev1.Customer{FullName: n + " Tester"}}); err != nil {
			t.Fatal(err)
		}
	}
}

func cartEvent(id, customer string, at time.Time) *profilev1.Event {
	return &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_CartUpdated{CartUpdated: &profilev1.CartUpdated{Value: gbp(4200)}}}
}
