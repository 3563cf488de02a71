package grpcapi

import (
	"context"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// CreateSurvey implements feedbackv1.FeedbackServiceServer.
func (s *Server) CreateSurvey(ctx context.Context, req *feedbackv1.CreateSurveyRequest) (*feedbackv1.CreateSurveyResponse, error) {
	in, err := toSurvey(req.GetSurveyId(), req.GetSurvey())
	if err != nil {
		return nil, err
	}
	sv, err := s.svc.CreateSurvey(ctx, in)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.CreateSurveyResponse{Survey: fromSurvey(sv)}, nil
}

// GetSurvey implements feedbackv1.FeedbackServiceServer.
func (s *Server) GetSurvey(ctx context.Context, req *feedbackv1.GetSurveyRequest) (*feedbackv1.GetSurveyResponse, error) {
	id, err := surveyNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	sv, err := s.svc.GetSurvey(ctx, id)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.GetSurveyResponse{Survey: fromSurvey(sv)}, nil
}

// SendSurvey implements feedbackv1.FeedbackServiceServer.
func (s *Server) SendSurvey(ctx context.Context, req *feedbackv1.SendSurveyRequest) (*feedbackv1.SendSurveyResponse, error) {
	id, err := surveyNames.ParseID("survey", req.GetSurvey())
	if err != nil {
		return nil, err
	}
	invs, err := s.svc.SendSurvey(ctx, id, req.GetCustomerIds(), req.GetOccurrenceId())
	if err != nil {
		return nil, err
	}
	out := &feedbackv1.SendSurveyResponse{}
	for _, inv := range invs {
		out.Invitations = append(out.Invitations, fromInvitation(inv))
	}
	return out, nil
}

// SubmitSurveyResponse implements feedbackv1.FeedbackServiceServer.
func (s *Server) SubmitSurveyResponse(ctx context.Context, req *feedbackv1.SubmitSurveyResponseRequest) (*feedbackv1.SubmitSurveyResponseResponse, error) {
	id, err := surveyNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	in := req.GetResponse()
	if in == nil {
		return nil, feedback.InvalidArgument("response", "is required")
	}
	r, err := s.svc.SubmitResponse(ctx, id, feedback.Response{CustomerID: in.GetCustomerId(), Score: int(in.GetScore()),
		Comment: in.GetComment(), Channel: toChannel(in.GetChannel())})
	if err != nil {
		return nil, err
	}
	return &feedbackv1.SubmitSurveyResponseResponse{Response: fromResponse(r)}, nil
}

// DismissSurveyResponse implements feedbackv1.FeedbackServiceServer.
func (s *Server) DismissSurveyResponse(ctx context.Context, req *feedbackv1.DismissSurveyResponseRequest) (*feedbackv1.DismissSurveyResponseResponse, error) {
	ids, err := responseNames.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.DismissResponse(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return &feedbackv1.DismissSurveyResponseResponse{Response: fromResponse(r)}, nil
}

// GetSurveyReport implements feedbackv1.FeedbackServiceServer.
func (s *Server) GetSurveyReport(ctx context.Context, req *feedbackv1.GetSurveyReportRequest) (*feedbackv1.GetSurveyReportResponse, error) {
	id, err := reportNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.SurveyReport(ctx, id)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.GetSurveyReportResponse{Report: fromReport(r)}, nil
}
