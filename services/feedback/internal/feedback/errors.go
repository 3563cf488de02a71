package feedback

import (
	"errors"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Sentinel errors of the feedback domain; grpcapi/errors.go maps each one
// to a gRPC code and an ErrorReason.
var (
	ErrTicketNotFound       = errors.New("feedback: ticket not found")
	ErrInvalidTransition    = errors.New("feedback: invalid status transition")
	ErrTicketClosed         = errors.New("feedback: ticket is closed")
	ErrInvalidRule          = errors.New("feedback: invalid rule")
	ErrAlreadyExists        = errors.New("feedback: already exists")
	ErrSurveyNotFound       = errors.New("feedback: survey not found")
	ErrResponseNotFound     = errors.New("feedback: survey response not found")
	ErrEscalationNotFound   = errors.New("feedback: escalation not found")
	ErrEscalationInProgress = errors.New("feedback: escalation in progress")
	ErrETagMismatch         = errors.New("feedback: etag mismatch")
)

// InvalidArgument returns the bad-argument error for field.
func InvalidArgument(field, problem string) error { return fielderr.New(field, "%s", problem) }

// TransitionError is a status change the lifecycle does not allow.
type TransitionError struct{ From, To Status }

// Error implements error.
func (e *TransitionError) Error() string {
	return "feedback: cannot change status from " + string(e.From) + " to " + string(e.To)
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// ErrorMetadata gives the current and requested status to the API error.
func (e *TransitionError) ErrorMetadata() map[string]string {
	return map[string]string{"current_status": string(e.From), "requested_status": string(e.To)}
}
