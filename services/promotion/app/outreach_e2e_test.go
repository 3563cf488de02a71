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
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestAudienceJourneyEndToEnd runs profile, segmentation and promotion: a
// customer's first order moves them into the "new" lifecycle stage at the
// next recompute, segmentation records the change, and the journey on
// entering stages/new sends one SMS through the shop's webhook, which fails
// once and then accepts.
func TestAudienceJourneyEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var requests int
	var got []map[string]string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte("hook"), r.Header, b, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if requests++; requests == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var body map[string]string
		_ = json.Unmarshal(b, &body)
		got = append(got, body)
	}))
	defer hook.Close()

	s := stacktest.Start(t, stacktest.Options{})
	p := s.Add(profileapp.Component(nil))
	seg := s.Add(segmentationapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, _ *app.Deps) {
		c.Outreach.Interval = 50 * time.Millisecond
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = hook.URL, "hook"
		c.Outreach.QuietHours = ""
		c.Outreach.RetryMin = 50 * time.Millisecond
	}))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	segs := segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, seg.Addr()))
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))

	if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "welcome", Journey: &promotionv1.Journey{
		Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_AUDIENCE_ENTERED, Audience: "stages/new"},
		Channels:  []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_SMS},
		Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_SMS, Text: "Welcome, {{.Customer.FirstName}}"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "ada", Customer: &profilev1.Customer{
		FullName: "Ada Lovelace", Phone: "+447700900123", Consent: &profilev1.Consent{Sms: profilev1.ConsentState_CONSENT_STATE_GRANTED}}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, segs) // the baseline: ada is a prospect
	if _, err := profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
		EventId: "o1", CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1", Total: gbp(2500)}}}}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, segs) // ada enters stages/new

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n, r := len(got), requests
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SMS reached the webhook after %d requests", r)
		}
	}
	time.Sleep(300 * time.Millisecond) // a few more dispatch rounds: nothing more may arrive
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0]["customer_id"] != "ada" || got[0]["text"] != "Welcome, Ada" || got[0]["to"] != "+447700900123" ||
		got[0]["channel"] != "sms" || requests != 2 {
		t.Errorf("webhook got %v in %d requests, want one SMS to ada after one failure", got, requests)
	}
}

// recompute runs a segmentation recompute and waits for it to succeed.
func recompute(t *testing.T, segs segmentationv1.SegmentationServiceClient) {
	t.Helper()
	op, err := segs.Recompute(ctx, &segmentationv1.RecomputeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		o, err := segs.GetOperation(ctx, &segmentationv1.GetOperationRequest{Name: op.GetOperation().GetName()})
		if err == nil && o.GetOperation().GetDone() {
			if o.GetOperation().GetState() != segmentationv1.OperationState_OPERATION_STATE_SUCCEEDED {
				t.Fatalf("recompute: %v", o.GetOperation())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("recompute not done: %v", err)
		}
	}
}
