package grpcapi

import (
	"log/slog"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the profile service's errors.
const Domain = "profile.tenure.dev"

// Reasons carried in ErrorInfo and in rejected EventResults. They are part
// of the API: never change one.
const (
	ReasonCustomerNotFound      = "CUSTOMER_NOT_FOUND"
	ReasonCustomerAlreadyExists = "CUSTOMER_ALREADY_EXISTS"
	ReasonInvalidCustomer       = "INVALID_CUSTOMER"
	ReasonInvalidEvent          = "INVALID_EVENT"
	ReasonETagMismatch          = "ETAG_MISMATCH"
	ReasonCustomerHasEvents     = "CUSTOMER_HAS_EVENTS"
	ReasonCustomerErased        = "CUSTOMER_ERASED"
	ReasonBatchTooLarge         = "BATCH_TOO_LARGE"
	ReasonEmptyBatch            = "EMPTY_BATCH"
	ReasonInvalidPageToken      = "INVALID_PAGE_TOKEN"
	ReasonInvalidArgument       = "INVALID_ARGUMENT"
)

// ErrorTable is the one mapping from profile errors to gRPC statuses.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			{Err: profile.ErrCustomerNotFound, Code: codes.NotFound, Reason: ReasonCustomerNotFound},
			{Err: profile.ErrCustomerAlreadyExists, Code: codes.AlreadyExists, Reason: ReasonCustomerAlreadyExists},
			{Err: profile.ErrInvalidCustomer, Code: codes.InvalidArgument, Reason: ReasonInvalidCustomer},
			{Err: profile.ErrInvalidEvent, Code: codes.InvalidArgument, Reason: ReasonInvalidEvent},
			{Err: profile.ErrETagMismatch, Code: codes.Aborted, Reason: ReasonETagMismatch},
			{Err: profile.ErrCustomerHasEvents, Code: codes.FailedPrecondition, Reason: ReasonCustomerHasEvents},
			{Err: profile.ErrCustomerErased, Code: codes.FailedPrecondition, Reason: ReasonCustomerErased},
			{Err: profile.ErrBatchTooLarge, Code: codes.InvalidArgument, Reason: ReasonBatchTooLarge},
			{Err: profile.ErrEmptyBatch, Code: codes.InvalidArgument, Reason: ReasonEmptyBatch},
			{Err: profile.ErrInvalidPageToken, Code: codes.InvalidArgument, Reason: ReasonInvalidPageToken},
			{Err: profile.ErrInvalidArgument, Code: codes.InvalidArgument, Reason: ReasonInvalidArgument},
		},
	}
}
