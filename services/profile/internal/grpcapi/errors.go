package grpcapi

import (
	"log/slog"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the profile service's errors.
const Domain = "profile.tenure.dev"

// ErrorTable is the one mapping from profile errors to gRPC statuses. The
// reasons are the API's ErrorReason values (their names, which never
// change). A bad argument the rules do not name (a *fielderr.Error) is
// mapped by the platform, to INVALID_ARGUMENT.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			{Err: profile.ErrCustomerNotFound, Code: codes.NotFound, Reason: profilev1.ErrorReason_CUSTOMER_NOT_FOUND.String()},
			{Err: profile.ErrCustomerAlreadyExists, Code: codes.AlreadyExists, Reason: profilev1.ErrorReason_CUSTOMER_ALREADY_EXISTS.String()},
			{Err: profile.ErrInvalidCustomer, Code: codes.InvalidArgument, Reason: profilev1.ErrorReason_INVALID_CUSTOMER.String()},
			{Err: profile.ErrInvalidEvent, Code: codes.InvalidArgument, Reason: profilev1.ErrorReason_INVALID_EVENT.String()},
			{Err: profile.ErrETagMismatch, Code: codes.Aborted, Reason: profilev1.ErrorReason_ETAG_MISMATCH.String()},
			{Err: profile.ErrCustomerHasEvents, Code: codes.FailedPrecondition, Reason: profilev1.ErrorReason_CUSTOMER_HAS_EVENTS.String()},
			{Err: profile.ErrCustomerErased, Code: codes.FailedPrecondition, Reason: profilev1.ErrorReason_CUSTOMER_ERASED.String()},
			{Err: profile.ErrBatchTooLarge, Code: codes.InvalidArgument, Reason: profilev1.ErrorReason_BATCH_TOO_LARGE.String()},
			{Err: profile.ErrEmptyBatch, Code: codes.InvalidArgument, Reason: profilev1.ErrorReason_EMPTY_BATCH.String()},
			{Err: profile.ErrInvalidPageToken, Code: codes.InvalidArgument, Reason: profilev1.ErrorReason_INVALID_PAGE_TOKEN.String()},
		},
	}
}
