package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/feedback/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestRulesSeeSegmentationTiers: a rule over the customer's value tier and
// lifecycle stage routes by what segmentation answers over gRPC.
func TestRulesSeeSegmentationTiers(t *testing.T) {
	ctx := context.Background()
	e := start(t, stacktest.SQLite, friday)
	ev := &profilev1.Event{EventId: "o-1", CustomerId: "c-7", OccurredAt: timestamppb.New(friday.Add(-24 * time.Hour)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o-1", Channel: "web",
			Total: &typev1.Money{CurrencyCode: "GBP", AmountMinor: 5000}}}}
	rec, err := e.profile.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "segmentation to apply the order", func() bool {
		c, err := e.seg.Cursor(ctx)
		return err == nil && c >= rec.GetResult().GetSequence()
	})
	op, err := e.segmentation.Recompute(ctx, &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(friday)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the recompute", func() bool {
		got, err := e.segmentation.GetOperation(ctx, &segmentationv1.GetOperationRequest{Name: op.GetOperation().GetName()})
		return err == nil && got.GetOperation().GetDone()
	})
	scores, err := e.segmentation.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/c-7/scores"})
	if err != nil || scores.GetScores().GetValueTier() == "" {
		t.Fatalf("scores: %v, %v; want a value tier", scores, err)
	}
	cond := fmt.Sprintf(`customer.value_tier == %q && customer.lifecycle_stage == %q && customer.loyalty_tier == ""`,
		scores.GetScores().GetValueTier(), scores.GetScores().GetLifecycleStage())
	if _, err := e.feedback.CreateClassificationRule(ctx, &feedbackv1.CreateClassificationRuleRequest{RuleId: "by-tier",
		Rule: &feedbackv1.ClassificationRule{Condition: cond, SetQueue: "tiered"}}); err != nil {
		t.Fatal(err)
	}
	for customer, queue := range map[string]string{"c-7": "tiered", "c-unknown": "general"} {
		tk, err := e.feedback.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{Ticket: &feedbackv1.Ticket{CustomerId: customer,
			Channel: feedbackv1.Channel_CHANNEL_WEB, Body: "hello"}})
		if err != nil || tk.GetTicket().GetQueue() != queue {
			t.Fatalf("ticket of %s: %v, %v; want queue %s (rule %s)", customer, tk, err, queue, cond)
		}
	}
}

// waitFor polls cond until it holds, for at most 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNoSegmentationOrLoyaltyReplica: with neither segmentation nor loyalty
// registered, a ticket is created at once with empty tiers (the rule over
// them routes it), and a promoter's answer at once says UNAVAILABLE, instead
// of either waiting until the caller's deadline.
func TestNoSegmentationOrLoyaltyReplica(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Engine: stacktest.SQLite})
	s.Add(profileapp.Component(nil))
	f := s.Add(app.Component(func(c *app.Config, _ *app.Deps) { c.EscalationInterval = 0 }))
	client := feedbackv1.NewFeedbackServiceClient(stacktest.Dial(t, f.Addr()))
	ctx := t.Context()
	if _, err := client.CreateClassificationRule(ctx, &feedbackv1.CreateClassificationRuleRequest{RuleId: "untiered",
		Rule: &feedbackv1.ClassificationRule{Condition: `customer.value_tier == "" && customer.loyalty_tier == ""`,
			SetQueue: "untiered"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: "nps", Survey: &feedbackv1.Survey{
		Kind: feedbackv1.SurveyKind_SURVEY_KIND_NPS, PromoterPoints: 100}}); err != nil {
		t.Fatal(err)
	}
	// Fast: well before the 10 s deadline, with room for a loaded machine.
	const fast = 3 * time.Second
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	begin := time.Now()
	tk, err := client.CreateTicket(cctx, &feedbackv1.CreateTicketRequest{Ticket: &feedbackv1.Ticket{CustomerId: "c-1",
		Channel: feedbackv1.Channel_CHANNEL_WEB, Body: "hello"}})
	if took := time.Since(begin); err != nil || took > fast || tk.GetTicket().GetQueue() != "untiered" {
		t.Fatalf("ticket: %v, %v after %v; want it in queue untiered within %v", tk, err, took, fast)
	}
	begin = time.Now()
	r, err := client.SubmitSurveyResponse(cctx, &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/nps",
		Response: &feedbackv1.SurveyResponse{CustomerId: "c-1", Score: 10}})
	if took := time.Since(begin); err != nil || took > fast ||
		r.GetResponse().GetRewardState() != feedbackv1.RewardState_REWARD_STATE_UNAVAILABLE {
		t.Fatalf("promoter's answer: %v, %v after %v; want reward UNAVAILABLE within %v", r, err, took, fast)
	}
}
