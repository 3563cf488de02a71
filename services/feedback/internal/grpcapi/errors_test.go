package grpcapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/feedback/internal/rules"
	"github.com/tenurehq/tenure/services/platform/apierr/apierrtest"
	"github.com/tenurehq/tenure/services/platform/paging"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

// TestErrorTableCoversDomain checks every sentinel of the feedback domain
// maps to its code and ErrorReason, and every ErrorReason is given.
func TestErrorTableCoversDomain(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	r := func(err error, code codes.Code, reason feedbackv1.ErrorReason) apierrtest.Case {
		return apierrtest.Case{Err: err, Code: code, Reason: reason.String()}
	}
	apierrtest.CheckTable(t, table, "../feedback", map[string]apierrtest.Case{
		"ErrTicketNotFound":       r(feedback.ErrTicketNotFound, codes.NotFound, feedbackv1.ErrorReason_TICKET_NOT_FOUND),
		"ErrInvalidTransition":    r(feedback.ErrInvalidTransition, codes.FailedPrecondition, feedbackv1.ErrorReason_INVALID_TRANSITION),
		"ErrTicketClosed":         r(feedback.ErrTicketClosed, codes.FailedPrecondition, feedbackv1.ErrorReason_TICKET_CLOSED),
		"ErrInvalidRule":          r(feedback.ErrInvalidRule, codes.InvalidArgument, feedbackv1.ErrorReason_INVALID_RULE),
		"ErrAlreadyExists":        r(feedback.ErrAlreadyExists, codes.AlreadyExists, feedbackv1.ErrorReason_ALREADY_EXISTS),
		"ErrSurveyNotFound":       r(feedback.ErrSurveyNotFound, codes.NotFound, feedbackv1.ErrorReason_SURVEY_NOT_FOUND),
		"ErrResponseNotFound":     r(feedback.ErrResponseNotFound, codes.NotFound, feedbackv1.ErrorReason_RESPONSE_NOT_FOUND),
		"ErrEscalationNotFound":   r(feedback.ErrEscalationNotFound, codes.NotFound, feedbackv1.ErrorReason_ESCALATION_NOT_FOUND),
		"ErrEscalationInProgress": r(feedback.ErrEscalationInProgress, codes.Aborted, feedbackv1.ErrorReason_ESCALATION_IN_PROGRESS),
		"ErrETagMismatch":         r(feedback.ErrETagMismatch, codes.Aborted, feedbackv1.ErrorReason_ETAG_MISMATCH),
		"ErrSurveyHasNoJourney":   r(feedback.ErrSurveyHasNoJourney, codes.FailedPrecondition, feedbackv1.ErrorReason_SURVEY_HAS_NO_JOURNEY),
	}, feedbackv1.ErrorReason_value)
}

func TestErrorDetails(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		reason   string
		metadata map[string]string
	}{
		{"transition", &feedback.TransitionError{From: feedback.StatusClosed, To: feedback.StatusOpen}, codes.FailedPrecondition,
			"INVALID_TRANSITION", map[string]string{"current_status": "closed", "requested_status": "open"}},
		{"rule", &rules.CompileError{Line: 2, Column: 7, Message: "bad"}, codes.InvalidArgument, "INVALID_RULE",
			map[string]string{"line": "2", "column": "7"}},
		{"page token", paging.InvalidToken(), codes.InvalidArgument, "INVALID_PAGE_TOKEN", nil},
		{"bad field", feedback.InvalidArgument("ticket.body", "is required"), codes.InvalidArgument, "INVALID_ARGUMENT", nil},
		{"unknown", errors.New("disk on fire"), codes.Internal, "INTERNAL", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := table.Status(context.Background(), tt.err)
			if st.Code() != tt.code {
				t.Fatalf("code = %v, want %v", st.Code(), tt.code)
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			if info.GetReason() != tt.reason {
				t.Fatalf("reason = %q, want %q", info.GetReason(), tt.reason)
			}
			for k, v := range tt.metadata {
				if info.GetMetadata()[k] != v {
					t.Fatalf("metadata %s = %q, want %q", k, info.GetMetadata()[k], v)
				}
			}
			if tt.code == codes.Internal && st.Message() == tt.err.Error() {
				t.Fatalf("internal error leaked its detail: %q", st.Message())
			}
		})
	}
}
