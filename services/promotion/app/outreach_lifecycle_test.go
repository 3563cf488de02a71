package app_test

import (
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// outreachStack is profile, segmentation and promotion, promotion's
// outreach dispatching every 50ms on a clock fixed at t0.
type outreachStack struct {
	profile profilev1.ProfileServiceClient
	segs    segmentationv1.SegmentationServiceClient
	out     promotionv1.OutreachServiceClient
}

func startOutreach(t *testing.T, engine string) *outreachStack {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	seg := s.Add(segmentationapp.Component(nil))
	pr := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		c.Outreach.Interval, c.Outreach.QuietHours = 50*time.Millisecond, ""
		d.Clock = func() time.Time { return t0 }
	}))
	return &outreachStack{profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())),
		segs: segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, seg.Addr())),
		out:  promotionv1.NewOutreachServiceClient(stacktest.Dial(t, pr.Addr()))}
}

// recompute runs a segmentation recompute to its successful end.
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

func inAppJourney(text string) *promotionv1.Journey {
	inApp := promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP
	return &promotionv1.Journey{DisplayName: "Welcome",
		Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_AUDIENCE_ENTERED, Audience: "stages/new"},
		Channels:  []promotionv1.OutreachChannel{inApp},
		Templates: []*promotionv1.MessageTemplate{{Channel: inApp, Subject: "Welcome", Text: text}}}
}

// TestInboxAndCustomerMessagesAPI sends an in-app message end to end (a
// first order moves ada into stages/new) while a second journey on the
// same audience is paused, then reads ada's messages and inbox and marks
// the message read, over gRPC on both engines.
func TestInboxAndCustomerMessagesAPI(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		o := startOutreach(t, engine)
		for id, text := range map[string]string{"welcome": "Hello {{.Customer.FirstName}}", "paused": "Not now"} {
			if _, err := o.out.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: id, Journey: inAppJourney(text)}); err != nil {
				t.Fatal(err)
			}
		}
		paused, err := o.out.PauseJourney(ctx, &promotionv1.PauseJourneyRequest{Name: "journeys/paused"})
		if err != nil || paused.GetJourney().GetState() != promotionv1.JourneyState_JOURNEY_STATE_PAUSED {
			t.Fatalf("PauseJourney: got %v, %v", paused, err)
		}
		if _, err := o.profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "ada",
			Customer: &profilev1.Customer{FullName: "Ada Lovelace"}}); err != nil {
			t.Fatal(err)
		}
		recompute(t, o.segs) // the baseline: ada is a prospect
		if _, err := o.profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
			EventId: "o1", CustomerId: "ada", OccurredAt: timestamppb.New(time.Now().Add(-time.Hour)),
			Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1", Total: gbp(2500)}}}}}); err != nil {
			t.Fatal(err)
		}
		recompute(t, o.segs) // ada enters stages/new

		var inbox *promotionv1.ListInboxMessagesResponse
		for deadline := time.Now().Add(30 * time.Second); len(inbox.GetInboxMessages()) == 0; time.Sleep(20 * time.Millisecond) {
			if inbox, err = o.out.ListInboxMessages(ctx, &promotionv1.ListInboxMessagesRequest{Parent: "customers/ada"}); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatal("no message reached ada's inbox")
			}
		}
		m := inbox.GetInboxMessages()[0]
		if len(inbox.GetInboxMessages()) != 1 || inbox.GetUnreadCount() != 1 || m.GetText() != "Hello Ada" ||
			m.GetCreateTime().AsTime() != t0 || m.GetReadTime() != nil {
			t.Fatalf("inbox: got %v; want one unread message at the service's time %s", inbox, t0)
		}

		msgs, err := o.out.ListCustomerMessages(ctx, &promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada"})
		if err != nil || len(msgs.GetMessages()) != 1 {
			t.Fatalf("ListCustomerMessages: got %v, %v; want the welcome message only", msgs, err)
		}
		got := msgs.GetMessages()[0]
		h := got.GetHistory()
		if got.GetName() != m.GetMessage() || got.GetJourney() != "journeys/welcome" || got.GetState() != promotionv1.MessageState_MESSAGE_STATE_SENT ||
			got.GetChannel() != promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP || got.GetAttempts() != 1 || len(h) != 2 ||
			h[0].GetState() != promotionv1.MessageState_MESSAGE_STATE_SCHEDULED || h[1].GetState() != promotionv1.MessageState_MESSAGE_STATE_SENT {
			t.Errorf("message: got %v", got)
		}
		for _, tt := range []struct {
			req  *promotionv1.ListCustomerMessagesRequest
			want int
		}{
			{&promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada", Journey: "journeys/paused"}, 0},
			{&promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada", State: promotionv1.MessageState_MESSAGE_STATE_SENT}, 1},
			{&promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada", State: promotionv1.MessageState_MESSAGE_STATE_SUPPRESSED}, 0},
		} {
			if r, err := o.out.ListCustomerMessages(ctx, tt.req); err != nil || len(r.GetMessages()) != tt.want {
				t.Errorf("ListCustomerMessages(%v): got %d, %v; want %d", tt.req, len(r.GetMessages()), err, tt.want)
			}
		}

		for range 2 { // marking twice keeps the first read time
			read, err := o.out.MarkInboxMessageRead(ctx, &promotionv1.MarkInboxMessageReadRequest{Name: m.GetName()})
			if err != nil || read.GetInboxMessage().GetReadTime().AsTime() != t0 {
				t.Fatalf("MarkInboxMessageRead: got %v, %v", read, err)
			}
		}
		if inbox, err = o.out.ListInboxMessages(ctx, &promotionv1.ListInboxMessagesRequest{Parent: "customers/ada"}); err != nil || inbox.GetUnreadCount() != 0 {
			t.Errorf("inbox after reading: got %v, %v; want no unread message", inbox, err)
		}
		_, err = o.out.MarkInboxMessageRead(ctx, &promotionv1.MarkInboxMessageReadRequest{Name: "customers/bob/inbox/" + got.GetName()[len("messages/"):]})
		wantErr(t, err, codes.NotFound, "MESSAGE_NOT_FOUND")
		_, err = o.out.MarkInboxMessageRead(ctx, &promotionv1.MarkInboxMessageReadRequest{Name: "inbox/x"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
		_, err = o.out.ListCustomerMessages(ctx, &promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada", Journey: "welcome"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "journey")
		_, err = o.out.ListCustomerMessages(ctx, &promotionv1.ListCustomerMessagesRequest{Parent: "customers/ada", State: 42})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "state")
		_, err = o.out.ListInboxMessages(ctx, &promotionv1.ListInboxMessagesRequest{Parent: "customers/ada", PageToken: "garbage"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN")
	})
}

// TestJourneyLifecycleAPI updates, pauses, resumes and deletes journeys
// over gRPC on both engines, and checks the errors of each.
func TestJourneyLifecycleAPI(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, f.app.Addr()))
		created, err := c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "welcome", Journey: inAppJourney("Hi")})
		if err != nil {
			t.Fatal(err)
		}
		j := created.GetJourney()
		if j.GetState() != promotionv1.JourneyState_JOURNEY_STATE_ACTIVE || j.GetEtag() == "" || j.GetUpdateTime().AsTime() != t0 {
			t.Fatalf("created: %v", j)
		}
		change := inAppJourney("Hello {{.Customer.FirstName}}")
		change.Name, change.Etag, change.DisplayName = "journeys/welcome", j.GetEtag(), "Hello"
		updated, err := c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: change,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name", "templates"}}})
		if err != nil || updated.GetJourney().GetDisplayName() != "Hello" || updated.GetJourney().GetTemplates()[0].GetText() != change.Templates[0].Text ||
			updated.GetJourney().GetEtag() == j.GetEtag() {
			t.Fatalf("UpdateJourney: got %v, %v", updated, err)
		}
		mask := &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}
		_, err = c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: change, UpdateMask: mask})
		wantErr(t, err, codes.Aborted, "ETAG_MISMATCH")
		change.Etag = ""
		_, err = c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: change, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"trigger.kind"}}})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "update_mask.paths[0]")
		_, err = c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: change})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "update_mask")
		bad := inAppJourney("{{.Customer.Nickname}}")
		bad.Name = "journeys/welcome"
		_, err = c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: bad, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"templates"}}})
		wantErr(t, err, codes.InvalidArgument, "INVALID_TEMPLATE", "journey.templates[0].text")
		bad.Name = "journeys/nope"
		_, err = c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: bad, UpdateMask: mask})
		wantErr(t, err, codes.NotFound, "JOURNEY_NOT_FOUND")

		for _, step := range []struct {
			call func() (*promotionv1.Journey, error)
			want promotionv1.JourneyState
		}{
			{func() (*promotionv1.Journey, error) {
				r, err := c.PauseJourney(ctx, &promotionv1.PauseJourneyRequest{Name: "journeys/welcome"})
				return r.GetJourney(), err
			}, promotionv1.JourneyState_JOURNEY_STATE_PAUSED},
			{func() (*promotionv1.Journey, error) {
				r, err := c.ResumeJourney(ctx, &promotionv1.ResumeJourneyRequest{Name: "journeys/welcome"})
				return r.GetJourney(), err
			}, promotionv1.JourneyState_JOURNEY_STATE_ACTIVE},
			{func() (*promotionv1.Journey, error) {
				r, err := c.DeleteJourney(ctx, &promotionv1.DeleteJourneyRequest{Name: "journeys/welcome"})
				return r.GetJourney(), err
			}, promotionv1.JourneyState_JOURNEY_STATE_DELETED},
		} {
			got, err := step.call()
			if err != nil || got.GetState() != step.want {
				t.Fatalf("got %v, %v; want state %v", got, err, step.want)
			}
		}
		got, err := c.GetJourney(ctx, &promotionv1.GetJourneyRequest{Name: "journeys/welcome"})
		if err != nil || got.GetJourney().GetDeleteTime().AsTime() != t0 {
			t.Errorf("GetJourney of a deleted journey: got %v, %v; want it with its delete time", got, err)
		}
		if l, err := c.ListJourneys(ctx, &promotionv1.ListJourneysRequest{}); err != nil || len(l.GetJourneys()) != 0 {
			t.Errorf("ListJourneys: got %v, %v; want no journey", l, err)
		}
		if l, err := c.ListJourneys(ctx, &promotionv1.ListJourneysRequest{ShowDeleted: true}); err != nil || len(l.GetJourneys()) != 1 {
			t.Errorf("ListJourneys(show_deleted): got %v, %v; want the deleted journey", l, err)
		}
		_, err = c.ResumeJourney(ctx, &promotionv1.ResumeJourneyRequest{Name: "journeys/welcome"})
		wantErr(t, err, codes.FailedPrecondition, "JOURNEY_DELETED")
		change.Name = "journeys/welcome"
		_, err = c.UpdateJourney(ctx, &promotionv1.UpdateJourneyRequest{Journey: change, UpdateMask: mask})
		wantErr(t, err, codes.FailedPrecondition, "JOURNEY_DELETED")
		_, err = c.DeleteJourney(ctx, &promotionv1.DeleteJourneyRequest{Name: "journeys/welcome"})
		wantErr(t, err, codes.NotFound, "JOURNEY_NOT_FOUND")
		_, err = c.PauseJourney(ctx, &promotionv1.PauseJourneyRequest{Name: "welcome"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
	})
}
