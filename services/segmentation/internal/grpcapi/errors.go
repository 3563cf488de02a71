package grpcapi

import (
	"log/slog"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the segmentation service's errors.
const Domain = "segmentation.tenure.dev"

// ErrorTable is the one mapping from segmentation errors to gRPC statuses.
// The reasons are the API's ErrorReason values (their names, which never
// change). A bad argument the rules do not name (a *fielderr.Error) is
// mapped by the platform, to INVALID_ARGUMENT.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			{Err: segmentation.ErrInvalidRule, Code: codes.InvalidArgument, Reason: segmentationv1.ErrorReason_INVALID_RULE.String()},
			{Err: segmentation.ErrInvalidSettings, Code: codes.InvalidArgument, Reason: segmentationv1.ErrorReason_INVALID_SETTINGS.String()},
			{Err: segmentation.ErrSegmentNotFound, Code: codes.NotFound, Reason: segmentationv1.ErrorReason_SEGMENT_NOT_FOUND.String()},
			{Err: segmentation.ErrSegmentAlreadyExists, Code: codes.AlreadyExists, Reason: segmentationv1.ErrorReason_SEGMENT_ALREADY_EXISTS.String()},
			{Err: segmentation.ErrSettingsNotFound, Code: codes.NotFound, Reason: segmentationv1.ErrorReason_SETTINGS_NOT_FOUND.String()},
			{Err: segmentation.ErrRecomputeInProgress, Code: codes.Aborted, Reason: segmentationv1.ErrorReason_RECOMPUTE_IN_PROGRESS.String()},
			{Err: segmentation.ErrNoRecompute, Code: codes.FailedPrecondition, Reason: segmentationv1.ErrorReason_NO_RECOMPUTE.String()},
			{Err: segmentation.ErrOperationNotFound, Code: codes.NotFound, Reason: segmentationv1.ErrorReason_OPERATION_NOT_FOUND.String()},
			{Err: segmentation.ErrCustomerNotFound, Code: codes.NotFound, Reason: segmentationv1.ErrorReason_CUSTOMER_NOT_FOUND.String()},
			{Err: segmentation.ErrNotStaticSegment, Code: codes.FailedPrecondition, Reason: segmentationv1.ErrorReason_NOT_STATIC_SEGMENT.String()},
			{Err: segmentation.ErrTooManyPairs, Code: codes.InvalidArgument, Reason: segmentationv1.ErrorReason_TOO_MANY_PAIRS.String()},
			{Err: segmentation.ErrInvalidAudience, Code: codes.InvalidArgument, Reason: segmentationv1.ErrorReason_INVALID_AUDIENCE.String()},
			{Err: segmentation.ErrInvalidPageToken, Code: codes.InvalidArgument, Reason: segmentationv1.ErrorReason_INVALID_PAGE_TOKEN.String()},
			{Err: segmentation.ErrETagMismatch, Code: codes.Aborted, Reason: segmentationv1.ErrorReason_ETAG_MISMATCH.String()},
			{Err: segmentation.ErrSegmentNotComputed, Code: codes.FailedPrecondition, Reason: segmentationv1.ErrorReason_SEGMENT_NOT_COMPUTED.String()},
		},
	}
}
