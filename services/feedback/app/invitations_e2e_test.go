package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/feedback/app"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/stack"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// receiver is the shop's outreach webhook: it keeps each message once by
// its idempotency key, and counts requests.
type receiver struct {
	mu       sync.Mutex
	requests int
	messages map[string]map[string]string // idempotency key → body
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var body map[string]string
	_ = json.Unmarshal(b, &body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.messages[req.Header.Get(webhook.HeaderIdempotencyKey)] = body
}

func (r *receiver) snapshot() (int, []map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, m := range r.messages {
		out = append(out, m)
	}
	return r.requests, out
}

// TestSurveyInvitationsEndToEnd runs profile, promotion and feedback: an
// order_delivered event and a solved ticket each send one survey
// invitation through outreach's webhook with the survey link, even when
// the shop reports the delivery again and when feedback replays profile's
// stream from the start after a restart.
func TestSurveyInvitationsEndToEnd(t *testing.T) {
	stacktest.Engines(t, surveyInvitationsEndToEnd)
}

func surveyInvitationsEndToEnd(t *testing.T, engine string) {
	ctx := context.Background()
	rcv := &receiver{messages: map[string]map[string]string{}}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	pr := s.Add(promotionapp.Component(func(c *promotionapp.Config, _ *promotionapp.Deps) {
		c.Outreach.Interval, c.Outreach.RetryMin = 50*time.Millisecond, 50*time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret, c.Outreach.QuietHours = hook.URL, "hook", ""
	}))
	feedbackComponent := func(dsn string) stack.Component {
		c := app.Component(func(cfg *app.Config, _ *app.Deps) {
			cfg.EscalationInterval, cfg.SurveyLinkBase = 50*time.Millisecond, "https://shop.example.com/surveys"
		})
		c.DSN = dsn
		return c
	}
	dsn := stacktest.DSN(t, engine, "feedback")
	f := s.Add(feedbackComponent(dsn))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))
	fb := feedbackv1.NewFeedbackServiceClient(stacktest.Dial(t, f.Addr()))

	webhookCh := promotionv1.OutreachChannel_OUTREACH_CHANNEL_WEBHOOK
	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "survey-invite", Journey: &promotionv1.Journey{
		Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_API},
		Channels:  []promotionv1.OutreachChannel{webhookCh},
		Variables: []string{"survey_url", "survey_id", "order_id", "ticket_id"},
		Templates: []*promotionv1.MessageTemplate{{Channel: webhookCh,
			Text: "{{.Customer.FirstName}}, rate {{.Vars.survey_id}} ({{.Vars.order_id}}{{.Vars.ticket_id}}): {{.Vars.survey_url}}"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "ada",
		Customer: &profilev1.Customer{FullName: "Ada Lovelace"}}); err != nil {
		t.Fatal(err)
	}
	for id, trigger := range map[string]feedbackv1.SurveyTrigger{"delivery": feedbackv1.SurveyTrigger_SURVEY_TRIGGER_ORDER_DELIVERED,
		"support": feedbackv1.SurveyTrigger_SURVEY_TRIGGER_TICKET_SOLVED} {
		if _, err := fb.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: id, Survey: &feedbackv1.Survey{
			Kind: feedbackv1.SurveyKind_SURVEY_KIND_CSAT, Trigger: trigger, Journey: "journeys/survey-invite"}}); err != nil {
			t.Fatal(err)
		}
	}

	// The delivery, reported twice under different event ids.
	for _, eventID := range []string{"d-1", "d-1", "d-1-again"} {
		if _, err := profile.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: &profilev1.Event{
			EventId: eventID, CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Minute)),
			Payload: &profilev1.Event_OrderDelivered{OrderDelivered: &profilev1.OrderDelivered{OrderId: "o-77", Carrier: "dhl"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := fb.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{Ticket: &feedbackv1.Ticket{CustomerId: "ada",
		Channel: feedbackv1.Channel_CHANNEL_WEB, Body: "my parcel was late"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fb.SolveTicket(ctx, &feedbackv1.SolveTicketRequest{Name: tk.GetTicket().GetName()}); err != nil {
		t.Fatal(err)
	}
	waitMessages(t, rcv, 2)

	// Restart feedback with its cursor at the start of profile's log: it
	// reads the delivery again.
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE event_cursor SET sequence = 0`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s.Add(feedbackComponent(dsn))
	time.Sleep(500 * time.Millisecond) // many consumer and schedule rounds

	requests, msgs := rcv.snapshot()
	if len(msgs) != 2 || requests != 2 {
		t.Fatalf("webhook got %d requests, messages %v; want 2 messages, once each", requests, msgs)
	}
	ticketID := strings.TrimPrefix(tk.GetTicket().GetName(), "tickets/")
	var delivery, support int
	for _, m := range msgs {
		text := m["text"]
		if m["customer_id"] != "ada" || m["journey_id"] != "survey-invite" || !strings.Contains(text, "https://shop.example.com/surveys/") {
			t.Errorf("message %v: want one to ada of survey-invite with a survey link", m)
		}
		switch {
		case strings.HasPrefix(text, "Ada, rate delivery (o-77): https://shop.example.com/surveys/delivery?customer=ada&invitation="):
			delivery++
		case strings.HasPrefix(text, "Ada, rate support ("+ticketID+"): https://shop.example.com/surveys/support?customer=ada&invitation="):
			support++
		}
	}
	if delivery != 1 || support != 1 {
		t.Errorf("messages %v: want one delivery survey for o-77 and one support survey for %s", msgs, ticketID)
	}
}

// waitMessages waits until the receiver has n messages.
func waitMessages(t *testing.T, r *receiver, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		requests, msgs := r.snapshot()
		if len(msgs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook got %d messages in %d requests after 30s, want %d", len(msgs), requests, n)
		}
	}
}
