package grpcapi

import (
	"log/slog"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/paging"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the feedback service's errors.
const Domain = "feedback.tenure.dev"

// ErrorTable is the one mapping from feedback errors to gRPC statuses. The
// reasons are the API's ErrorReason values. A bad argument the rules do not
// name (a *fielderr.Error) is mapped by the platform, to INVALID_ARGUMENT.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	r := func(err error, code codes.Code, reason feedbackv1.ErrorReason) apierr.Rule {
		return apierr.Rule{Err: err, Code: code, Reason: reason.String()}
	}
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			r(feedback.ErrTicketNotFound, codes.NotFound, feedbackv1.ErrorReason_TICKET_NOT_FOUND),
			r(feedback.ErrInvalidTransition, codes.FailedPrecondition, feedbackv1.ErrorReason_INVALID_TRANSITION),
			r(feedback.ErrTicketClosed, codes.FailedPrecondition, feedbackv1.ErrorReason_TICKET_CLOSED),
			r(feedback.ErrInvalidRule, codes.InvalidArgument, feedbackv1.ErrorReason_INVALID_RULE),
			r(feedback.ErrAlreadyExists, codes.AlreadyExists, feedbackv1.ErrorReason_ALREADY_EXISTS),
			r(feedback.ErrSurveyNotFound, codes.NotFound, feedbackv1.ErrorReason_SURVEY_NOT_FOUND),
			r(feedback.ErrResponseNotFound, codes.NotFound, feedbackv1.ErrorReason_RESPONSE_NOT_FOUND),
			r(feedback.ErrEscalationNotFound, codes.NotFound, feedbackv1.ErrorReason_ESCALATION_NOT_FOUND),
			r(feedback.ErrEscalationInProgress, codes.Aborted, feedbackv1.ErrorReason_ESCALATION_IN_PROGRESS),
			r(feedback.ErrETagMismatch, codes.Aborted, feedbackv1.ErrorReason_ETAG_MISMATCH),
			r(feedback.ErrSurveyHasNoJourney, codes.FailedPrecondition, feedbackv1.ErrorReason_SURVEY_HAS_NO_JOURNEY),
			r(paging.ErrInvalidPageToken, codes.InvalidArgument, feedbackv1.ErrorReason_INVALID_PAGE_TOKEN),
		},
	}
}
