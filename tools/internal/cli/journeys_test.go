package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestOutreachCommands runs journeys list and show and messages show
// against the real services through the gateway, after a first order
// moved a customer into the audience of an in-app journey.
func TestOutreachCommands(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	profileAddr := startProfile(t, s)
	startSegmentation(t, s)
	startLoyalty(t, s)
	startFeedback(t, s)
	promo := s.Add(promotionapp.Component(func(c *promotionapp.Config, _ *promotionapp.Deps) {
		c.Outreach.Interval, c.Outreach.QuietHours = 50*time.Millisecond, ""
	})).Addr()
	gw := []string{"--gateway", startGateway(t, s)}
	ctx := context.Background()
	conns := map[string]string{"profile": profileAddr, "promotion": promo}
	clients := map[string]any{}
	for name, addr := range conns {
		conn, err := dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		switch name {
		case "profile":
			clients[name] = profilev1.NewProfileServiceClient(conn)
		case "promotion":
			clients[name] = promotionv1.NewOutreachServiceClient(conn)
		}
	}
	profile := clients["profile"].(profilev1.ProfileServiceClient)
	out := clients["promotion"].(promotionv1.OutreachServiceClient)

	inApp := promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP
	for _, id := range []string{"welcome", "old"} {
		if _, err := out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: id, Journey: &promotionv1.Journey{DisplayName: "Welcome aboard",
			Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_AUDIENCE_ENTERED, Audience: "stages/new"},
			Channels:  []promotionv1.OutreachChannel{inApp},
			Templates: []*promotionv1.MessageTemplate{{Channel: inApp, Subject: "Welcome", Text: "Hello {{.Customer.FirstName}}"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := out.DeleteJourney(ctx, &promotionv1.DeleteJourneyRequest{Name: "journeys/old"}); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "ada", Customer: &profilev1.Customer{FullName: "Ada Lovelace"}}); err != nil {
		t.Fatal(err)
	}
	recompute := func() {
		t.Helper()
		if code, stdout, stderr := run(t, false, append([]string{"segments", "recompute", "--wait"}, gw...)...); code != 0 {
			t.Fatalf("segments recompute: exit %d\n%s\n%s", code, stdout, stderr)
		}
	}
	recompute()
	if _, err := profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
		EventId: "o1", CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1",
			Total: &typev1.Money{CurrencyCode: "GBP", AmountMinor: 2500}}}}}}); err != nil {
		t.Fatal(err)
	}
	recompute()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := out.ListCustomerMessages(ctx, &promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada",
			State: promotionv1.MessageState_MESSAGE_STATE_SENT})
		if err == nil && len(r.GetMessages()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ada's message was not sent: %v %v", r, err)
		}
	}

	for _, tt := range []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"journeys", "list"}, []string{"welcome  active  audience_entered stages/new  in_app    Welcome aboard"}, "old"},
		{[]string{"journeys", "list", "--deleted"}, []string{"old      deleted"}, ""},
		{[]string{"journeys", "show", "old"}, []string{"state", "deleted (etag \"2\")", "template       in_app fallback: Welcome | Hello {{.Customer.FirstName}}"}, ""},
		{[]string{"messages", "show", "ada"}, []string{"welcome  sent", "in_app", "scheduled"}, "old"},
		{[]string{"messages", "show", "ada", "--state", "suppressed"}, []string{"(no messages)"}, "welcome"},
		{[]string{"messages", "show", "ada", "--output", "json"}, []string{`"journeys/welcome"`, `"history"`, `"MESSAGE_STATE_SCHEDULED"`}, ""},
	} {
		code, stdout, stderr := run(t, false, append(tt.args, gw...)...)
		for _, w := range tt.want {
			if code != 0 || !strings.Contains(stdout, w) {
				t.Errorf("%v: exit %d, want %q in\n%s\n%s", tt.args, code, w, stdout, stderr)
			}
		}
		if tt.not != "" && strings.Contains(stdout, tt.not) {
			t.Errorf("%v: %q in\n%s", tt.args, tt.not, stdout)
		}
	}
	code, _, stderr := run(t, false, append([]string{"journeys", "show", "nope"}, gw...)...)
	if code != 1 || !strings.Contains(stderr, "journey not found") {
		t.Errorf("show of an unknown journey: exit %d\n%s", code, stderr)
	}
	code, _, stderr = run(t, false, append([]string{"messages", "show", "ada", "--state", "lost"}, gw...)...)
	if code != 2 || !strings.Contains(stderr, "--state must be") {
		t.Errorf("messages show --state lost: exit %d\n%s", code, stderr)
	}
}
