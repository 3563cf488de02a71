package app_test

import (
	"bytes"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	"github.com/tenurehq/tenure/services/promotion/internal/channel/smtptest"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestEmailUnsubscribeEndToEnd runs profile, segmentation, promotion and
// the gateway with a real SMTP exchange: a customer's first order moves
// them into stages/new, the welcome journey emails them through the
// relay, and the one-click List-Unsubscribe link in that email, posted as
// a mail client does, revokes their email consent in profile and nothing
// else.
func TestEmailUnsubscribeEndToEnd(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{})
	const secret = "unsub-e2e"
	s := stacktest.Start(t, stacktest.Options{})
	gw := "http://" + s.Add(gatewayapp.Component(func(c *gatewayapp.Config, _ *gatewayapp.Deps) { c.UnsubscribeSecret = secret })).Addr()
	p := s.Add(profileapp.Component(nil))
	seg := s.Add(segmentationapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, _ *app.Deps) {
		c.Outreach.Interval, c.Outreach.QuietHours = 50*time.Millisecond, ""
		c.Outreach.SMTPHost, c.Outreach.SMTPPort, c.Outreach.SMTPTLS = relay.Addr, relay.Port, "none"
		c.Outreach.SMTPFrom = "Shop <news@shop.example.com>"
		c.Outreach.UnsubscribeURL, c.Outreach.UnsubscribeKey = gw+"/v1/unsubscribe", secret
	}))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	segs := segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, seg.Addr()))
	out := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))

	email := func(id, audience, subject string) {
		t.Helper()
		if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: id, Journey: &promotionv1.Journey{
			Trigger:  &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_AUDIENCE_ENTERED, Audience: audience},
			Channels: []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL},
			Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL, Subject: subject,
				Text: "Hello {{.Customer.FirstName}}. Unsubscribe: {{.Links.Unsubscribe}}"}},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	email("welcome", "stages/new", "Welcome")
	if _, err := profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "ada", Customer: &profilev1.Customer{
		FullName: "Ada Lovelace", Email: "ada@example.com",
		Consent: &profilev1.Consent{Email: profilev1.ConsentState_CONSENT_STATE_GRANTED, Sms: profilev1.ConsentState_CONSENT_STATE_GRANTED}}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, segs) // the baseline: ada is a prospect
	if _, err := profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
		EventId: "o1", CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1", Total: gbp(2500)}}}}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, segs) // ada enters stages/new

	var msgs []smtptest.Received
	for deadline := time.Now().Add(30 * time.Second); len(msgs) == 0; time.Sleep(20 * time.Millisecond) {
		if msgs = relay.Messages(); time.Now().After(deadline) {
			t.Fatal("no email reached the relay")
		}
	}
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "ada@example.com" {
		t.Fatalf("relay got %+v, want one email to ada@example.com", msgs)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	link := strings.TrimSuffix(strings.TrimPrefix(m.Header.Get("List-Unsubscribe"), "<"), ">")
	if m.Header.Get("Subject") != "Welcome" || !strings.HasPrefix(link, gw+"/v1/unsubscribe?") ||
		m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("email headers %v, want the subject and a one-click unsubscribe link to the gateway", m.Header)
	}

	// The mail client's one-click POST (RFC 8058): no API key, the link's
	// token is the credential.
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST = %d", resp.StatusCode)
	}
	cu, err := profile.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/ada"})
	if err != nil || cu.GetCustomer().GetConsent().GetEmail() != profilev1.ConsentState_CONSENT_STATE_DENIED ||
		cu.GetCustomer().GetConsent().GetSms() != profilev1.ConsentState_CONSENT_STATE_GRANTED {
		t.Fatalf("consent after unsubscribing: %v, %v; want email denied, sms still granted", cu.GetCustomer().GetConsent(), err)
	}
}
