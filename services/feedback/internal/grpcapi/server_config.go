package grpcapi

import (
	"context"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/paging"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// pageOf returns the page of items (all of them, in order) that starts
// after the item whose key is page.After, and the next page token.
func pageOf[T any](page paging.Page, items []T, key func(T) string) ([]T, string, error) {
	start := 0
	if page.After != "" {
		start = -1
		for i, it := range items {
			if key(it) == page.After {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, "", paging.InvalidToken()
		}
	}
	items = items[start:]
	items = items[:min(len(items), page.Limit())]
	out, next := paging.Cut(page, items, key)
	return out, next, nil
}

// CreateClassificationRule implements feedbackv1.FeedbackServiceServer.
func (s *Server) CreateClassificationRule(ctx context.Context, req *feedbackv1.CreateClassificationRuleRequest) (*feedbackv1.CreateClassificationRuleResponse, error) {
	r, err := s.svc.CreateRule(ctx, toRule(req.GetRuleId(), req.GetRule()))
	if err != nil {
		return nil, err
	}
	return &feedbackv1.CreateClassificationRuleResponse{Rule: fromRule(r)}, nil
}

// ListClassificationRules implements feedbackv1.FeedbackServiceServer.
func (s *Server) ListClassificationRules(ctx context.Context, req *feedbackv1.ListClassificationRulesRequest) (*feedbackv1.ListClassificationRulesResponse, error) {
	page, err := paging.Parse(configSizes, int(req.GetPageSize()), req.GetPageToken(), paging.For("ListClassificationRules"))
	if err != nil {
		return nil, err
	}
	rules, err := s.svc.ListRules(ctx)
	if err != nil {
		return nil, err
	}
	rules, next, err := pageOf(page, rules, func(r feedback.Rule) string { return r.ID })
	if err != nil {
		return nil, err
	}
	out := &feedbackv1.ListClassificationRulesResponse{NextPageToken: next}
	for i := range rules {
		out.Rules = append(out.Rules, fromRule(&rules[i]))
	}
	return out, nil
}

// TestClassificationRule implements feedbackv1.FeedbackServiceServer.
func (s *Server) TestClassificationRule(ctx context.Context, req *feedbackv1.TestClassificationRuleRequest) (*feedbackv1.TestClassificationRuleResponse, error) {
	if req.GetRule() == nil {
		return nil, feedback.InvalidArgument("rule", "is required")
	}
	matched, t, err := s.svc.TestRule(toRule(req.GetRule().GetRuleId(), req.GetRule()), toTicket(req.GetTicket()), toCustomer(req.GetCustomer()))
	if err != nil {
		return nil, err
	}
	out := fromTicket(feedback.TicketView{Ticket: t})
	out.Name, out.Etag, out.RequesterWait, out.AgentWork, out.FirstReplyState, out.ResolutionState = "", "", nil, nil, 0, 0
	return &feedbackv1.TestClassificationRuleResponse{Matched: matched, Ticket: out}, nil
}

// CreateSlaPolicy implements feedbackv1.FeedbackServiceServer.
func (s *Server) CreateSlaPolicy(ctx context.Context, req *feedbackv1.CreateSlaPolicyRequest) (*feedbackv1.CreateSlaPolicyResponse, error) {
	in, err := toPolicy(req.GetPolicyId(), req.GetPolicy())
	if err != nil {
		return nil, err
	}
	p, err := s.svc.CreatePolicy(ctx, in)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.CreateSlaPolicyResponse{Policy: fromPolicy(p)}, nil
}

// ListSlaPolicies implements feedbackv1.FeedbackServiceServer.
func (s *Server) ListSlaPolicies(ctx context.Context, req *feedbackv1.ListSlaPoliciesRequest) (*feedbackv1.ListSlaPoliciesResponse, error) {
	page, err := paging.Parse(configSizes, int(req.GetPageSize()), req.GetPageToken(), paging.For("ListSlaPolicies"))
	if err != nil {
		return nil, err
	}
	policies, err := s.svc.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	policies, next, err := pageOf(page, policies, func(p feedback.Policy) string { return p.ID })
	if err != nil {
		return nil, err
	}
	out := &feedbackv1.ListSlaPoliciesResponse{NextPageToken: next}
	for i := range policies {
		out.Policies = append(out.Policies, fromPolicy(&policies[i]))
	}
	return out, nil
}

// Escalate implements feedbackv1.FeedbackServiceServer.
func (s *Server) Escalate(ctx context.Context, req *feedbackv1.EscalateRequest) (*feedbackv1.EscalateResponse, error) {
	asOf, err := optionalTime("as_of_time", req.GetAsOfTime())
	if err != nil {
		return nil, err
	}
	op, err := s.svc.Escalate(ctx, asOf, false)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.EscalateResponse{Operation: fromOperation(op)}, nil
}

// GetEscalation implements feedbackv1.FeedbackServiceServer.
func (s *Server) GetEscalation(ctx context.Context, req *feedbackv1.GetEscalationRequest) (*feedbackv1.GetEscalationResponse, error) {
	id, err := escalationNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	op, err := s.svc.GetOperation(ctx, id)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.GetEscalationResponse{Operation: fromOperation(op)}, nil
}

// GetTicketReport implements feedbackv1.FeedbackServiceServer.
func (s *Server) GetTicketReport(ctx context.Context, req *feedbackv1.GetTicketReportRequest) (*feedbackv1.GetTicketReportResponse, error) {
	from, err := optionalTime("start_time", req.GetStartTime())
	if err != nil {
		return nil, err
	}
	to, err := optionalTime("end_time", req.GetEndTime())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.TicketReport(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.GetTicketReportResponse{Report: fromTicketReport(r)}, nil
}

// optionalTime reads an optional time field: zero when absent.
func optionalTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, feedback.InvalidArgument(field, "must be a valid time such as 2026-11-01T00:00:00Z")
	}
	return ts.AsTime(), nil
}
