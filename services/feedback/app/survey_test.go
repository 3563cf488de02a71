package app_test

import (
	"context"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestSurveyJourney(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) { testSurveyJourney(t, engine) })
}

func testSurveyJourney(t *testing.T, engine string) {
	ctx := context.Background()
	e := start(t, engine, friday)
	_, err := e.feedback.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: "delivery", Survey: &feedbackv1.Survey{
		Kind: feedbackv1.SurveyKind_SURVEY_KIND_NPS, Trigger: feedbackv1.SurveyTrigger_SURVEY_TRIGGER_ORDER_DELIVERED,
		FollowUpQueue: "recovery", PromoterPoints: 100, Journey: "journeys/delivery-survey"}})
	if err != nil {
		t.Fatal(err)
	}
	submit := func(customer string, score int32, comment string) *feedbackv1.SurveyResponse {
		t.Helper()
		r, err := e.feedback.SubmitSurveyResponse(ctx, &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/delivery",
			Response: &feedbackv1.SurveyResponse{CustomerId: customer, Score: score, Comment: comment, Channel: feedbackv1.Channel_CHANNEL_EMAIL}})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetResponse()
	}
	var detractor, promoter, extra *feedbackv1.SurveyResponse
	for i, score := range []int32{10, 10, 9, 9, 9, 8, 7, 7, 6, 0} {
		r := submit("c-"+string(rune('a'+i)), score, "comment")
		switch score {
		case 0:
			detractor = r
		case 10:
			promoter = r
		}
	}
	extra = submit("c-z", 0, "counted until dismissed")

	// A detractor's answer opened a follow-up ticket in the survey's queue.
	tk, err := e.feedback.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: detractor.GetFollowUpTicket()})
	if err != nil || tk.GetTicket().GetQueue() != "recovery" || tk.GetTicket().GetBody() != "comment" ||
		tk.GetTicket().GetSurveyResponse() != detractor.GetName() {
		t.Fatalf("follow-up ticket: %v, %v; want one in recovery with the comment", tk, err)
	}
	// No loyalty service: the promoter is not rewarded, and the answer says so.
	if promoter.GetRewardState() != feedbackv1.RewardState_REWARD_STATE_UNAVAILABLE {
		t.Fatalf("promoter reward %v, want UNAVAILABLE", promoter.GetRewardState())
	}
	if _, err := e.feedback.DismissSurveyResponse(ctx, &feedbackv1.DismissSurveyResponseRequest{Name: extra.GetName()}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.feedback.GetSurveyReport(ctx, &feedbackv1.GetSurveyReportRequest{Name: "surveys/delivery/report"})
	if err != nil {
		t.Fatal(err)
	}
	o := rep.GetReport().GetOverall()
	if o.GetScore() != 30 || o.GetResponses() != 10 || o.GetPromoters() != 5 || o.GetPassives() != 3 || o.GetDetractors() != 2 ||
		o.GetScoreLow() >= 30 || o.GetScoreHigh() <= 30 {
		t.Fatalf("overall %v; want NPS 30 over 10 answers (5/3/2) inside its interval", o)
	}
	if len(rep.GetReport().GetChannels()) != 1 || rep.GetReport().GetChannels()[0].GetKey() != "email" || len(rep.GetReport().GetDetractorComments()) != 2 {
		t.Fatalf("report groups %v; want one channel (email) and two detractor comments", rep.GetReport())
	}
	// An answer sent twice with one request id is recorded once, with one
	// follow-up ticket.
	twice := &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/delivery", RequestId: "answer-c-y",
		Response: &feedbackv1.SurveyResponse{CustomerId: "c-y", Score: 1, Comment: "broken"}}
	first, err1 := e.feedback.SubmitSurveyResponse(ctx, twice)
	second, err2 := e.feedback.SubmitSurveyResponse(ctx, twice)
	if err1 != nil || err2 != nil || first.GetResponse().GetName() != second.GetResponse().GetName() ||
		first.GetResponse().GetFollowUpTicket() != second.GetResponse().GetFollowUpTicket() {
		t.Fatalf("answer sent twice: %v / %v (%v, %v); want the same answer and ticket", first, second, err1, err2)
	}
	list, err := e.feedback.ListTickets(ctx, &feedbackv1.ListTicketsRequest{CustomerId: "c-y"})
	if err != nil || len(list.GetTickets()) != 1 {
		t.Fatalf("tickets of c-y: %v, %v; want one follow-up", list, err)
	}

	_, err = e.feedback.SubmitSurveyResponse(ctx, &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/delivery",
		Response: &feedbackv1.SurveyResponse{CustomerId: "c-1", Score: 11}})
	if f := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); f != "response.score" {
		t.Fatalf("field %q, want response.score", f)
	}
	_, err = e.feedback.DismissSurveyResponse(ctx, &feedbackv1.DismissSurveyResponseRequest{Name: "surveys/delivery/responses/nope"})
	wantStatus(t, err, codes.NotFound, "RESPONSE_NOT_FOUND")
}

// TestSurveyInvitationsAPI: a survey's journey and invitation delay are
// checked and kept; SendSurvey refuses what it cannot send, and without a
// promotion service leaves its invitations pending.
func TestSurveyInvitationsAPI(t *testing.T) {
	ctx := context.Background()
	e := start(t, stacktest.SQLite, friday)
	create := func(id string, sv *feedbackv1.Survey) (*feedbackv1.CreateSurveyResponse, error) {
		sv.Kind = feedbackv1.SurveyKind_SURVEY_KIND_CSAT
		return e.feedback.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: id, Survey: sv})
	}
	solved := feedbackv1.SurveyTrigger_SURVEY_TRIGGER_TICKET_SOLVED
	for _, c := range []struct {
		name  string
		sv    *feedbackv1.Survey
		field string
	}{
		{"no journey", &feedbackv1.Survey{Trigger: solved}, "survey.journey"},
		{"journey id, not name", &feedbackv1.Survey{Trigger: solved, Journey: "support-survey"}, "survey.journey"},
		{"delay too long", &feedbackv1.Survey{Trigger: solved, Journey: "journeys/support-survey",
			InvitationDelay: durationpb.New(31 * 24 * time.Hour)}, "survey.invitation_delay"},
	} {
		_, err := create("bad", c.sv)
		if f := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); f != c.field {
			t.Errorf("%s: field %q, want %q", c.name, f, c.field)
		}
	}
	got, err := create("support", &feedbackv1.Survey{Trigger: solved, Journey: "journeys/support-survey", InvitationDelay: durationpb.New(time.Hour)})
	if err != nil || got.GetSurvey().GetJourney() != "journeys/support-survey" || got.GetSurvey().GetInvitationDelay().AsDuration() != time.Hour {
		t.Fatalf("create support survey: %v, %v", got, err)
	}
	if _, err := create("plain", &feedbackv1.Survey{}); err != nil {
		t.Fatal(err)
	}
	send := func(survey string, customers ...string) (*feedbackv1.SendSurveyResponse, error) {
		return e.feedback.SendSurvey(ctx, &feedbackv1.SendSurveyRequest{Survey: survey, CustomerIds: customers, OccurrenceId: "2026-q4"})
	}
	_, err = send("surveys/plain", "c-1")
	wantStatus(t, err, codes.FailedPrecondition, "SURVEY_HAS_NO_JOURNEY")
	_, err = send("surveys/nope", "c-1")
	wantStatus(t, err, codes.NotFound, "SURVEY_NOT_FOUND")
	_, err = send("surveys/support")
	if f := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); f != "customer_ids" {
		t.Errorf("field %q, want customer_ids", f)
	}
	resp, err := send("surveys/support", "c-1", "c-2")
	if err != nil || len(resp.GetInvitations()) != 2 {
		t.Fatalf("SendSurvey: %v, %v", resp, err)
	}
	for _, inv := range resp.GetInvitations() {
		if inv.GetState() != feedbackv1.InvitationState_INVITATION_STATE_PENDING || inv.GetOccurrence() != "demand:2026-q4" ||
			!inv.GetDueTime().AsTime().Equal(friday.Add(time.Hour)) {
			t.Errorf("invitation %v: want pending, due an hour after the call", inv)
		}
	}
}
