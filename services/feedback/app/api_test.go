package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// friday is Friday 2026-11-13 16:00 UTC.
var friday = time.Date(2026, 11, 13, 16, 0, 0, 0, time.UTC)

func TestTicketJourney(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) { testTicketJourney(t, engine) })
}

// setup creates the policy and the rule the journeys use.
func setup(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	var hours []*feedbackv1.BusinessHours
	for d := int32(1); d <= 5; d++ {
		hours = append(hours, &feedbackv1.BusinessHours{Day: d, Start: "09:00", End: "17:00"})
	}
	_, err := e.feedback.CreateSlaPolicy(ctx, &feedbackv1.CreateSlaPolicyRequest{PolicyId: "billing-high", Policy: &feedbackv1.SlaPolicy{
		Priority: feedbackv1.Priority_PRIORITY_HIGH, Queue: "billing",
		FirstReplyTarget: durationpb.New(2 * time.Hour), ResolutionTarget: durationpb.New(8 * time.Hour),
		Calendar: &feedbackv1.BusinessCalendar{TimeZone: "UTC", Hours: hours}, PauseOnHold: true,
		EscalationSteps: []*feedbackv1.EscalationStep{
			{StepId: "warn", Clock: feedbackv1.SlaClock_SLA_CLOCK_FIRST_REPLY, Offset: durationpb.New(-30 * time.Minute), NotifyUrl: e.hookURL},
			{StepId: "raise", Clock: feedbackv1.SlaClock_SLA_CLOCK_FIRST_REPLY, RaisePriority: true, SetQueue: "billing-senior"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.feedback.CreateClassificationRule(ctx, &feedbackv1.CreateClassificationRuleRequest{RuleId: "refunds", Rule: &feedbackv1.ClassificationRule{
		Keywords: []string{"退款", "refund"}, SetType: feedbackv1.TicketType_TICKET_TYPE_COMPLAINT,
		SetPriority: feedbackv1.Priority_PRIORITY_HIGH, SetQueue: "billing", AddTags: []string{"refund"}}})
	if err != nil {
		t.Fatal(err)
	}
}

func testTicketJourney(t *testing.T, engine string) {
	ctx := context.Background()
	e := start(t, engine, friday)
	setup(t, e)

	// A rule can be tried on a sample before anything is saved.
	tried, err := e.feedback.TestClassificationRule(ctx, &feedbackv1.TestClassificationRuleRequest{
		Rule:   &feedbackv1.ClassificationRule{Condition: `customer.value_tier == "vip" && ticket.type == "complaint"`, SetQueue: "vip"},
		Ticket: &feedbackv1.Ticket{Type: feedbackv1.TicketType_TICKET_TYPE_COMPLAINT, Body: "x"}, Customer: &feedbackv1.CustomerContext{ValueTier: "vip"}})
	if err != nil || !tried.GetMatched() || tried.GetTicket().GetQueue() != "vip" {
		t.Fatalf("test rule: %v, %v; want matched into queue vip", tried, err)
	}

	// Friday 16:00 with a two-hour target in business hours: due Monday 10:00.
	created, err := e.feedback.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{RequestId: "create-1", Ticket: &feedbackv1.Ticket{
		CustomerId: "c-1", Channel: feedbackv1.Channel_CHANNEL_APP, Subject: "订单问题", Body: "我要退款，东西坏了"}})
	if err != nil {
		t.Fatal(err)
	}
	tk := created.GetTicket()
	monday10 := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	if tk.GetQueue() != "billing" || tk.GetType() != feedbackv1.TicketType_TICKET_TYPE_COMPLAINT || tk.GetSlaPolicy() != "slaPolicies/billing-high" ||
		!tk.GetFirstReplyDueTime().AsTime().Equal(monday10) || tk.GetStatus() != feedbackv1.TicketStatus_TICKET_STATUS_NEW {
		t.Fatalf("created %v; want queue billing, complaint, policy billing-high, first reply due %s", tk, monday10)
	}
	again, err := e.feedback.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{RequestId: "create-1", Ticket: &feedbackv1.Ticket{
		CustomerId: "c-1", Channel: feedbackv1.Channel_CHANNEL_APP, Subject: "订单问题", Body: "我要退款，东西坏了"}})
	if err != nil || again.GetTicket().GetTicketId() != tk.GetTicketId() {
		t.Fatalf("retried create: %v, %v; want the same ticket %s", again.GetTicket().GetTicketId(), err, tk.GetTicketId())
	}

	// The ticket is a service_contacted event in the customer's profile.
	events, err := e.profile.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/c-1"})
	if err != nil || len(events.GetEvents()) != 1 || events.GetEvents()[0].GetEventId() != "feedback-ticket-"+tk.GetTicketId() ||
		events.GetEvents()[0].GetServiceContacted().GetChannel() != "app" {
		t.Fatalf("profile events: %v, %v; want one service_contacted from the app", events, err)
	}

	escalations(t, e, tk.GetName())
	lifecycle(t, e, tk.GetName())
}

// escalations sweeps at Monday 09:30 (the warning) and 10:00 (the raise),
// then again: each step once.
func escalations(t *testing.T, e *env, name string) {
	ctx := context.Background()
	sweep := func(at time.Time, wantSteps int64) {
		t.Helper()
		op, err := e.feedback.Escalate(ctx, &feedbackv1.EscalateRequest{AsOfTime: timestamppb.New(at)})
		if err != nil || op.GetOperation().GetStepsApplied() != wantSteps || op.GetOperation().GetState() != feedbackv1.OperationState_OPERATION_STATE_SUCCEEDED {
			t.Fatalf("sweep at %s: %v, %v; want %d steps", at, op, err, wantSteps)
		}
		got, err := e.feedback.GetEscalation(ctx, &feedbackv1.GetEscalationRequest{Name: op.GetOperation().GetName()})
		if err != nil || got.GetOperation().GetStepsApplied() != wantSteps || !got.GetOperation().GetAsOfTime().AsTime().Equal(at) {
			t.Fatalf("get escalation: %v, %v", got, err)
		}
	}
	sweep(time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC), 0)
	sweep(time.Date(2026, 11, 16, 9, 30, 0, 0, time.UTC), 1)
	select {
	case h := <-e.hooks:
		if h.err != nil || !strings.Contains(h.body, `"step":"warn"`) || !strings.HasSuffix(h.id, "/warn") {
			t.Fatalf("webhook %+v; want a signed warn notice", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook for the warn step")
	}
	sweep(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), 1)
	sweep(time.Date(2026, 11, 16, 12, 0, 0, 0, time.UTC), 0)
	got, err := e.feedback.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: name})
	if err != nil || got.GetTicket().GetPriority() != feedbackv1.Priority_PRIORITY_URGENT || got.GetTicket().GetQueue() != "billing-senior" ||
		len(got.GetTicket().GetEscalations()) != 2 {
		t.Fatalf("after sweeps: %v, %v; want urgent in billing-senior with two escalation entries", got, err)
	}
}

// lifecycle replies late, walks the statuses and checks the SLA states.
func lifecycle(t *testing.T, e *env, name string) {
	ctx := context.Background()
	e.clock.Set(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)) // exactly at the due time
	reply, err := e.feedback.CreateTicketComment(ctx, &feedbackv1.CreateTicketCommentRequest{Parent: name,
		Comment: &feedbackv1.Comment{AuthorKind: feedbackv1.AuthorKind_AUTHOR_KIND_AGENT, Author: "bo", Body: "Sorry, refunding now"}})
	if err != nil || reply.GetTicket().GetFirstReplyState() != feedbackv1.SlaState_SLA_STATE_MET ||
		reply.GetTicket().GetStatus() != feedbackv1.TicketStatus_TICKET_STATUS_OPEN {
		t.Fatalf("reply at the due time: %v, %v; want first reply MET and the ticket OPEN", reply, err)
	}
	update := func(status feedbackv1.TicketStatus) (*feedbackv1.UpdateTicketResponse, error) {
		return e.feedback.UpdateTicket(ctx, &feedbackv1.UpdateTicketRequest{Ticket: &feedbackv1.Ticket{Name: name, Status: status},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}})
	}
	if _, err := update(feedbackv1.TicketStatus_TICKET_STATUS_CLOSED); err == nil {
		t.Fatal("open → closed succeeded, want INVALID_TRANSITION")
	} else {
		wantStatus(t, err, codes.FailedPrecondition, "INVALID_TRANSITION")
	}
	e.clock.Set(time.Date(2026, 11, 16, 11, 0, 0, 0, time.UTC))
	if _, err := update(feedbackv1.TicketStatus_TICKET_STATUS_PENDING); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 11, 16, 14, 0, 0, 0, time.UTC))
	back, err := e.feedback.CreateTicketComment(ctx, &feedbackv1.CreateTicketCommentRequest{Parent: name,
		Comment: &feedbackv1.Comment{AuthorKind: feedbackv1.AuthorKind_AUTHOR_KIND_CUSTOMER, Body: "still waiting"}})
	tk := back.GetTicket()
	if err != nil || tk.GetStatus() != feedbackv1.TicketStatus_TICKET_STATUS_OPEN || tk.GetRequesterWait().AsDuration() != 3*time.Hour {
		t.Fatalf("customer reply: %v, %v; want OPEN again after 3h of requester wait", tk, err)
	}
	// Worked Fri 16–17 and Mon 9–11 = 3h of 8: due 5h after Monday 14:00 in
	// business hours, Tuesday 11:00.
	if want := time.Date(2026, 11, 17, 11, 0, 0, 0, time.UTC); !tk.GetResolutionDueTime().AsTime().Equal(want) {
		t.Fatalf("resolution due %s, want %s", tk.GetResolutionDueTime().AsTime(), want)
	}
	solved, err := e.feedback.SolveTicket(ctx, &feedbackv1.SolveTicketRequest{Name: name})
	if err != nil || solved.GetTicket().GetResolutionState() != feedbackv1.SlaState_SLA_STATE_MET {
		t.Fatalf("solve: %v, %v; want resolution MET", solved, err)
	}

	// Created Friday 16:00, replied Monday 10:00 (66 h), solved Monday 14:00 (70 h).
	rep, err := e.feedback.GetTicketReport(ctx, &feedbackv1.GetTicketReportRequest{StartTime: timestamppb.New(friday)})
	r := rep.GetReport()
	if err != nil || r.GetTickets() != 1 || r.GetTypes()[0].GetKey() != "complaint" || r.GetQueues()[0].GetKey() != "billing-senior" ||
		r.GetFirstReplyMet() != 1 || r.GetFirstReplyAttainment() != 100 || r.GetResolutionMet() != 1 ||
		r.GetMedianFirstReplyTime().AsDuration() != 66*time.Hour || r.GetMedianResolutionTime().AsDuration() != 70*time.Hour {
		t.Fatalf("ticket report: %v, %v", r, err)
	}
	none, err := e.feedback.GetTicketReport(ctx, &feedbackv1.GetTicketReportRequest{EndTime: timestamppb.New(friday)})
	if err != nil || none.GetReport().GetTickets() != 0 {
		t.Fatalf("report before the ticket: %v, %v; want no tickets", none, err)
	}
}

func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	e := start(t, stacktest.SQLite, friday)
	_, err := e.feedback.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{Ticket: &feedbackv1.Ticket{CustomerId: "c-1", Channel: feedbackv1.Channel_CHANNEL_WEB}})
	if f := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); f != "ticket.body" {
		t.Fatalf("field %q, want ticket.body", f)
	}
	_, err = e.feedback.CreateClassificationRule(ctx, &feedbackv1.CreateClassificationRuleRequest{RuleId: "bad",
		Rule: &feedbackv1.ClassificationRule{Condition: `ticket.type ==`}})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_RULE")
	_, err = e.feedback.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: "tickets/nope"})
	wantStatus(t, err, codes.NotFound, "TICKET_NOT_FOUND")
	_, err = e.feedback.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: "nope"})
	if f := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); f != "name" {
		t.Fatalf("field %q, want name", f)
	}
	_, err = e.feedback.ListTickets(ctx, &feedbackv1.ListTicketsRequest{PageToken: "garbage"})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN")
	_, err = e.feedback.CreateSlaPolicy(ctx, &feedbackv1.CreateSlaPolicyRequest{PolicyId: "p", Policy: &feedbackv1.SlaPolicy{
		Priority: feedbackv1.Priority_PRIORITY_LOW, FirstReplyTarget: durationpb.New(time.Hour),
		Calendar: &feedbackv1.BusinessCalendar{TimeZone: "Mars/Olympus", Hours: []*feedbackv1.BusinessHours{{Day: 1, Start: "09:00", End: "17:00"}}}}})
	if f := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); f != "policy.calendar.time_zone" {
		t.Fatalf("field %q, want policy.calendar.time_zone", f)
	}
	_, err = e.feedback.SubmitSurveyResponse(ctx, &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/none",
		Response: &feedbackv1.SurveyResponse{CustomerId: "c-1", Score: 5}})
	wantStatus(t, err, codes.NotFound, "SURVEY_NOT_FOUND")
}
