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
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
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
