package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/feedback/app"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestPromoterRewardThroughLoyalty runs profile, segmentation, loyalty and
// feedback: a promoter's answer credits the survey's points to the loyalty
// member once, whether the answer is retried with its request id or sent
// again with another; answers carry the member's tier; a customer who is no
// member is answered NOT_MEMBER and its answer stands.
func TestPromoterRewardThroughLoyalty(t *testing.T) {
	stacktest.Engines(t, testPromoterReward)
}

func testPromoterReward(t *testing.T, engine string) {
	ctx := context.Background()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	s.Add(segmentationapp.Component(func(c *segmentationapp.Config, _ *segmentationapp.Deps) { c.MemoryLimit = 0 }))
	l := s.Add(loyaltyapp.Component(func(c *loyaltyapp.Config, _ *loyaltyapp.Deps) { c.JobInterval = 0 }))
	f := s.Add(app.Component(func(c *app.Config, _ *app.Deps) { c.EscalationInterval = 0 }))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	loyalty := loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, l.Addr()))
	feedback := feedbackv1.NewFeedbackServiceClient(stacktest.Dial(t, f.Addr()))

	// c-1's order makes it a member (the programme enrols automatically).
	placeOrder(t, profile, "c-1")
	member := func() *loyaltyv1.Member {
		t.Helper()
		m, err := loyalty.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/c-1"})
		if err != nil {
			t.Fatal(err)
		}
		return m.GetMember()
	}
	waitFor(t, "loyalty to enrol c-1", func() bool {
		_, err := loyalty.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/c-1"})
		return err == nil
	})
	before := member()

	if _, err := feedback.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: "nps", Survey: &feedbackv1.Survey{
		Kind: feedbackv1.SurveyKind_SURVEY_KIND_NPS, PromoterPoints: 200}}); err != nil {
		t.Fatal(err)
	}
	answer := &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/nps", RequestId: "answer-1",
		Response: &feedbackv1.SurveyResponse{CustomerId: "c-1", Score: 10, Comment: "great"}}
	submit := func(req *feedbackv1.SubmitSurveyResponseRequest) *feedbackv1.SurveyResponse {
		t.Helper()
		r, err := feedback.SubmitSurveyResponse(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return r.GetResponse()
	}
	first, retried := submit(answer), submit(answer)
	answer.RequestId = "answer-2"
	again := submit(answer)
	if first.GetRewardState() != feedbackv1.RewardState_REWARD_STATE_GRANTED || first.GetLoyaltyTier() == "" ||
		first.GetLoyaltyTier() != before.GetTier() {
		t.Fatalf("first answer: reward %v, loyalty tier %q; want GRANTED and the member's tier %q",
			first.GetRewardState(), first.GetLoyaltyTier(), before.GetTier())
	}
	if retried.GetName() != first.GetName() || retried.GetRewardState() != feedbackv1.RewardState_REWARD_STATE_GRANTED {
		t.Fatalf("retried answer: %v, %v; want the first answer %v back", retried.GetName(), retried.GetRewardState(), first.GetName())
	}
	if again.GetName() == first.GetName() || again.GetRewardState() != feedbackv1.RewardState_REWARD_STATE_ALREADY_GRANTED {
		t.Fatalf("answer sent again: %v, %v; want a new answer, ALREADY_GRANTED", again.GetName(), again.GetRewardState())
	}

	// Loyalty holds one credit of 200 points by feedback, naming the survey.
	if got := member().GetAvailablePoints(); got != before.GetAvailablePoints()+200 {
		t.Fatalf("available points %d, want %d + 200", got, before.GetAvailablePoints())
	}
	ledger, err := loyalty.ListLedgerEntries(ctx, &loyaltyv1.ListLedgerEntriesRequest{Parent: "members/c-1"})
	if err != nil {
		t.Fatal(err)
	}
	var credits []*loyaltyv1.LedgerEntry
	for _, e := range ledger.GetEntries() {
		if e.GetType() == loyaltyv1.EntryType_ENTRY_TYPE_ADJUST {
			credits = append(credits, e)
		}
	}
	if len(credits) != 1 || credits[0].GetPoints() != 200 || credits[0].GetOperator() != "feedback" ||
		!strings.Contains(credits[0].GetReason(), "nps") {
		t.Fatalf("adjustments %v; want one of 200 points by feedback naming survey nps", credits)
	}

	// c-2 has no activity, so no membership: nothing granted, answer kept.
	other := submit(&feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/nps",
		Response: &feedbackv1.SurveyResponse{CustomerId: "c-2", Score: 9}})
	if other.GetRewardState() != feedbackv1.RewardState_REWARD_STATE_NOT_MEMBER || other.GetLoyaltyTier() != "" {
		t.Fatalf("answer of a non-member: reward %v, tier %q; want NOT_MEMBER, no tier", other.GetRewardState(), other.GetLoyaltyTier())
	}
}

// TestPromoterRewardRetried: a promoter who answers while loyalty is down
// is answered UNAVAILABLE, and thanked once loyalty is back: the schedule
// retries the thanks, credits the points once and records the reward, so a
// later answer of the customer is ALREADY_GRANTED.
func TestPromoterRewardRetried(t *testing.T) {
	stacktest.Engines(t, testPromoterRewardRetried)
}

func testPromoterRewardRetried(t *testing.T, engine string) {
	ctx := context.Background()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	// Loyalty keeps its database across its restart.
	loyaltyComponent := loyaltyapp.Component(func(c *loyaltyapp.Config, _ *loyaltyapp.Deps) { c.JobInterval = 0 })
	loyaltyComponent.DSN = stacktest.DSN(t, engine, "loyalty")
	l := s.Add(loyaltyComponent)
	f := s.Add(app.Component(func(c *app.Config, _ *app.Deps) { c.EscalationInterval = 50 * time.Millisecond }))
	profile := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	feedback := feedbackv1.NewFeedbackServiceClient(stacktest.Dial(t, f.Addr()))

	// c-1's order makes it a member.
	placeOrder(t, profile, "c-1")
	points := func(loyalty loyaltyv1.LoyaltyServiceClient) (int64, error) {
		m, err := loyalty.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/c-1"})
		return m.GetMember().GetAvailablePoints(), err
	}
	loyalty := loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, l.Addr()))
	waitFor(t, "loyalty to enrol c-1", func() bool { _, err := points(loyalty); return err == nil })
	before, _ := points(loyalty)
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}

	if _, err := feedback.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: "nps", Survey: &feedbackv1.Survey{
		Kind: feedbackv1.SurveyKind_SURVEY_KIND_NPS, PromoterPoints: 200}}); err != nil {
		t.Fatal(err)
	}
	submit := func(id string) feedbackv1.RewardState {
		t.Helper()
		r, err := feedback.SubmitSurveyResponse(ctx, &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/nps", RequestId: id,
			Response: &feedbackv1.SurveyResponse{CustomerId: "c-1", Score: 10}})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetResponse().GetRewardState()
	}
	if got := submit("answer-1"); got != feedbackv1.RewardState_REWARD_STATE_UNAVAILABLE {
		t.Fatalf("answer with loyalty down: reward %v, want UNAVAILABLE", got)
	}

	l = s.Add(loyaltyComponent)
	loyalty = loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, l.Addr()))
	waitFor(t, "the retried thanks to credit c-1", func() bool { got, err := points(loyalty); return err == nil && got > before })
	// Sweeps go on: the thanks is not given again.
	sweeps := f.Runner.(*app.App).ScheduledSweeps()
	waitFor(t, "more sweeps", func() bool { return f.Runner.(*app.App).ScheduledSweeps() >= sweeps+5 })
	if got, err := points(loyalty); err != nil || got != before+200 {
		t.Fatalf("points %d, %v; want %d + 200, once", got, err, before)
	}
	if got := submit("answer-2"); got != feedbackv1.RewardState_REWARD_STATE_ALREADY_GRANTED {
		t.Fatalf("a later answer: reward %v, want ALREADY_GRANTED: the retried thanks is recorded", got)
	}
}

// placeOrder records an order of customer an hour ago in profile.
func placeOrder(t *testing.T, profile profilev1.ProfileServiceClient, customer string) {
	t.Helper()
	_, err := profile.RecordEvent(t.Context(), &profilev1.RecordEventRequest{Event: &profilev1.Event{EventId: "o-" + customer,
		CustomerId: customer, OccurredAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o-" + customer, Channel: "web",
			Total: &typev1.Money{CurrencyCode: "GBP", AmountMinor: 5000}}}}})
	if err != nil {
		t.Fatal(err)
	}
}
