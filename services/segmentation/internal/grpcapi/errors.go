package grpcapi

import (
	"log/slog"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the segmentation service's errors.
const Domain = "segmentation.tenure.dev"

// Reasons carried in ErrorInfo. They are part of the API: never change one.
const (
	ReasonSegmentNotFound      = "SEGMENT_NOT_FOUND"
	ReasonSegmentAlreadyExists = "SEGMENT_ALREADY_EXISTS"
	ReasonInvalidRule          = "INVALID_RULE"
	ReasonInvalidSettings      = "INVALID_SETTINGS"
	ReasonSettingsNotFound     = "SETTINGS_NOT_FOUND"
	ReasonRecomputeInProgress  = "RECOMPUTE_IN_PROGRESS"
	ReasonNoRecompute          = "NO_RECOMPUTE"
	ReasonOperationNotFound    = "OPERATION_NOT_FOUND"
	ReasonCustomerNotFound     = "CUSTOMER_NOT_FOUND"
	ReasonNotStaticSegment     = "NOT_STATIC_SEGMENT"
	ReasonTooManyPairs         = "TOO_MANY_PAIRS"
	ReasonInvalidAudience      = "INVALID_AUDIENCE"
	ReasonInvalidPageToken     = "INVALID_PAGE_TOKEN"
	ReasonETagMismatch         = "ETAG_MISMATCH"
	ReasonInvalidArgument      = "INVALID_ARGUMENT"
	ReasonSegmentNotComputed   = "SEGMENT_NOT_COMPUTED"
)

// ErrorTable is the one mapping from segmentation errors to gRPC statuses.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			{Err: segmentation.ErrInvalidRule, Code: codes.InvalidArgument, Reason: ReasonInvalidRule},
			{Err: segmentation.ErrInvalidSettings, Code: codes.InvalidArgument, Reason: ReasonInvalidSettings},
			{Err: segmentation.ErrSegmentNotFound, Code: codes.NotFound, Reason: ReasonSegmentNotFound},
			{Err: segmentation.ErrSegmentAlreadyExists, Code: codes.AlreadyExists, Reason: ReasonSegmentAlreadyExists},
			{Err: segmentation.ErrSettingsNotFound, Code: codes.NotFound, Reason: ReasonSettingsNotFound},
			{Err: segmentation.ErrRecomputeInProgress, Code: codes.Aborted, Reason: ReasonRecomputeInProgress},
			{Err: segmentation.ErrNoRecompute, Code: codes.FailedPrecondition, Reason: ReasonNoRecompute},
			{Err: segmentation.ErrOperationNotFound, Code: codes.NotFound, Reason: ReasonOperationNotFound},
			{Err: segmentation.ErrCustomerNotFound, Code: codes.NotFound, Reason: ReasonCustomerNotFound},
			{Err: segmentation.ErrNotStaticSegment, Code: codes.FailedPrecondition, Reason: ReasonNotStaticSegment},
			{Err: segmentation.ErrTooManyPairs, Code: codes.InvalidArgument, Reason: ReasonTooManyPairs},
			{Err: segmentation.ErrInvalidAudience, Code: codes.InvalidArgument, Reason: ReasonInvalidAudience},
			{Err: segmentation.ErrInvalidPageToken, Code: codes.InvalidArgument, Reason: ReasonInvalidPageToken},
			{Err: segmentation.ErrETagMismatch, Code: codes.Aborted, Reason: ReasonETagMismatch},
			{Err: segmentation.ErrSegmentNotComputed, Code: codes.FailedPrecondition, Reason: ReasonSegmentNotComputed},
			{Err: segmentation.ErrInvalidArgument, Code: codes.InvalidArgument, Reason: ReasonInvalidArgument},
		},
	}
}
