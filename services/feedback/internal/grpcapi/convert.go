package grpcapi

import (
	"strings"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Resource name patterns.
var (
	ticketNames     = resourcename.MustCompile("tickets/{ticket_id}")
	ruleNames       = resourcename.MustCompile("classificationRules/{rule_id}")
	policyNames     = resourcename.MustCompile("slaPolicies/{policy_id}")
	surveyNames     = resourcename.MustCompile("surveys/{survey_id}")
	responseNames   = resourcename.MustCompile("surveys/{survey_id}/responses/{response_id}")
	reportNames     = resourcename.MustCompile("surveys/{survey_id}/report")
	escalationNames = resourcename.MustCompile("escalations/{escalation_id}")
	invitationNames = resourcename.MustCompile("surveys/{survey_id}/invitations/{invitation_id}")
	// journeyNames are the promotion service's outreach journeys.
	journeyNames = resourcename.MustCompile("journeys/{journey_id}")
	// messageNames are the promotion service's outreach messages.
	messageNames = resourcename.MustCompile("messages/{message_id}")
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func dur(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// protoEnum is a generated enum type.
type protoEnum interface {
	~int32
	String() string
}

// toName is an enum value's name without its prefix, lower case
// (TICKET_TYPE_COMPLAINT → complaint); "" for the zero value.
func toName[T ~string, E protoEnum](e E, prefix string) T {
	if e == 0 {
		return ""
	}
	return T(strings.ToLower(strings.TrimPrefix(e.String(), prefix)))
}

// fromName is the enum value of a lower-case domain name; 0 if unknown.
func fromName[E ~int32, T ~string](values map[string]int32, prefix string, name T) E {
	if name == "" {
		return 0
	}
	return E(values[prefix+strings.ToUpper(string(name))])
}

func toType(t feedbackv1.TicketType) feedback.TicketType {
	return toName[feedback.TicketType](t, "TICKET_TYPE_")
}
func fromType(t feedback.TicketType) feedbackv1.TicketType {
	return fromName[feedbackv1.TicketType](feedbackv1.TicketType_value, "TICKET_TYPE_", t)
}
func toChannel(c feedbackv1.Channel) feedback.Channel { return toName[feedback.Channel](c, "CHANNEL_") }
func fromChannel(c feedback.Channel) feedbackv1.Channel {
	return fromName[feedbackv1.Channel](feedbackv1.Channel_value, "CHANNEL_", c)
}
func toStatus(s feedbackv1.TicketStatus) feedback.Status {
	return toName[feedback.Status](s, "TICKET_STATUS_")
}
func fromStatus(s feedback.Status) feedbackv1.TicketStatus {
	return fromName[feedbackv1.TicketStatus](feedbackv1.TicketStatus_value, "TICKET_STATUS_", s)
}
func fromSLA(s feedback.SLAState) feedbackv1.SlaState {
	return fromName[feedbackv1.SlaState](feedbackv1.SlaState_value, "SLA_STATE_", s)
}

// The domain's priorities have the API's numbers.
func toPriority(p feedbackv1.Priority) feedback.Priority   { return feedback.Priority(p) }
func fromPriority(p feedback.Priority) feedbackv1.Priority { return feedbackv1.Priority(p) }

func toTicket(t *feedbackv1.Ticket) feedback.Ticket {
	return feedback.Ticket{
		CustomerID: t.GetCustomerId(), Email: t.GetEmail(), Type: toType(t.GetType()), Channel: toChannel(t.GetChannel()),
		Subject: t.GetSubject(), Body: t.GetBody(), OrderID: t.GetOrderId(), Priority: toPriority(t.GetPriority()),
		Queue: t.GetQueue(), Assignee: t.GetAssignee(), Tags: t.GetTags(),
	}
}

func fromTicket(v feedback.TicketView) *feedbackv1.Ticket {
	t, c := v.Ticket, v.Clocks
	out := &feedbackv1.Ticket{
		Name: ticketNames.Format(t.ID), TicketId: t.ID, CustomerId: t.CustomerID, Email: t.Email, Type: fromType(t.Type),
		Channel: fromChannel(t.Channel), Subject: t.Subject, Body: t.Body, OrderId: t.OrderID, Priority: fromPriority(t.Priority),
		Queue: t.Queue, Assignee: t.Assignee, Tags: t.Tags, Status: fromStatus(t.Status),
		FirstReplyDueTime: ts(t.FirstReplyDue), FirstReplyState: fromSLA(v.FirstReply),
		ResolutionDueTime: ts(t.ResolutionDue), ResolutionState: fromSLA(v.Resolution),
		RequesterWait: durationpb.New(c.RequesterWait), AgentWork: durationpb.New(c.AgentWork),
		MatchedRules: t.MatchedRules, SurveyResponse: t.SurveyResponse, CreateTime: ts(t.CreateTime), UpdateTime: ts(t.UpdateTime),
		FirstReplyTime: ts(t.FirstReplyTime), SolveTime: ts(t.SolveTime), Etag: t.ETag(),
	}
	if t.PolicyID != "" {
		out.SlaPolicy = policyNames.Format(t.PolicyID)
	}
	for _, cm := range t.Comments {
		kind := feedbackv1.AuthorKind_AUTHOR_KIND_CUSTOMER
		if cm.FromAgent {
			kind = feedbackv1.AuthorKind_AUTHOR_KIND_AGENT
		}
		out.Comments = append(out.Comments, &feedbackv1.Comment{CommentId: cm.ID, AuthorKind: kind, Author: cm.Author,
			Body: cm.Body, Internal: cm.Internal, CreateTime: ts(cm.CreateTime)})
	}
	for _, e := range t.Escalations {
		out.Escalations = append(out.Escalations, &feedbackv1.EscalationEntry{StepId: e.StepID, Actions: e.Actions,
			ApplyTime: ts(e.ApplyTime), Escalation: e.Escalation})
	}
	return out
}

func toRule(id string, r *feedbackv1.ClassificationRule) feedback.Rule {
	return feedback.Rule{ID: id, DisplayName: r.GetDisplayName(), Position: int(r.GetPosition()), Keywords: r.GetKeywords(),
		Condition: r.GetCondition(), SetType: toType(r.GetSetType()), SetPriority: toPriority(r.GetSetPriority()),
		SetQueue: r.GetSetQueue(), AddTags: r.GetAddTags()}
}

func fromRule(r *feedback.Rule) *feedbackv1.ClassificationRule {
	return &feedbackv1.ClassificationRule{Name: ruleNames.Format(r.ID), RuleId: r.ID, DisplayName: r.DisplayName,
		Position: int32(r.Position), Keywords: r.Keywords, Condition: r.Condition, SetType: fromType(r.SetType),
		SetPriority: fromPriority(r.SetPriority), SetQueue: r.SetQueue, AddTags: r.AddTags, CreateTime: ts(r.CreateTime)}
}

func toCustomer(c *feedbackv1.CustomerContext) feedback.CustomerContext {
	return feedback.CustomerContext{ValueTier: c.GetValueTier(), LifecycleStage: c.GetLifecycleStage(), LoyaltyTier: c.GetLoyaltyTier()}
}
