package grpcapi

import (
	"log/slog"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/paging"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the loyalty service's errors.
const Domain = "loyalty.tenure.dev"

// ErrorTable is the one mapping from loyalty errors to gRPC statuses. The
// reasons are the API's ErrorReason values. A bad argument the rules do not
// name (a *fielderr.Error) is mapped by the platform, to INVALID_ARGUMENT.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	r := func(err error, code codes.Code, reason loyaltyv1.ErrorReason) apierr.Rule {
		return apierr.Rule{Err: err, Code: code, Reason: reason.String()}
	}
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			r(loyalty.ErrMemberNotFound, codes.NotFound, loyaltyv1.ErrorReason_MEMBER_NOT_FOUND),
			r(loyalty.ErrMemberAlreadyExists, codes.AlreadyExists, loyaltyv1.ErrorReason_MEMBER_ALREADY_EXISTS),
			r(loyalty.ErrInsufficientPoints, codes.FailedPrecondition, loyaltyv1.ErrorReason_INSUFFICIENT_POINTS),
			r(loyalty.ErrInvalidProgramme, codes.InvalidArgument, loyaltyv1.ErrorReason_INVALID_PROGRAMME),
			r(loyalty.ErrProgrammeNotFound, codes.NotFound, loyaltyv1.ErrorReason_PROGRAMME_NOT_FOUND),
			r(loyalty.ErrVersionMismatch, codes.Aborted, loyaltyv1.ErrorReason_VERSION_MISMATCH),
			r(loyalty.ErrRewardNotFound, codes.NotFound, loyaltyv1.ErrorReason_REWARD_NOT_FOUND),
			r(loyalty.ErrRewardAlreadyExists, codes.AlreadyExists, loyaltyv1.ErrorReason_REWARD_ALREADY_EXISTS),
			r(loyalty.ErrOutOfStock, codes.FailedPrecondition, loyaltyv1.ErrorReason_OUT_OF_STOCK),
			r(loyalty.ErrRewardLimitReached, codes.FailedPrecondition, loyaltyv1.ErrorReason_REWARD_LIMIT_REACHED),
			r(loyalty.ErrRewardNotAvailable, codes.FailedPrecondition, loyaltyv1.ErrorReason_REWARD_NOT_AVAILABLE),
			r(loyalty.ErrTierTooLow, codes.FailedPrecondition, loyaltyv1.ErrorReason_TIER_TOO_LOW),
			r(loyalty.ErrRedemptionNotFound, codes.NotFound, loyaltyv1.ErrorReason_REDEMPTION_NOT_FOUND),
			r(loyalty.ErrRedemptionClosed, codes.FailedPrecondition, loyaltyv1.ErrorReason_REDEMPTION_CLOSED),
			r(loyalty.ErrOperationNotFound, codes.NotFound, loyaltyv1.ErrorReason_OPERATION_NOT_FOUND),
			r(paging.ErrInvalidPageToken, codes.InvalidArgument, loyaltyv1.ErrorReason_INVALID_PAGE_TOKEN),
		},
	}
}
