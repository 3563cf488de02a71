package grpcapi

import (
	"io"
	"log/slog"
	"testing"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/apierr/apierrtest"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/grpc/codes"
)

// TestErrorTable checks every sentinel of the segmentation domain (found in
// its source, so a new one fails here until it has a case) maps to its code
// and ErrorReason, and every ErrorReason is given.
func TestErrorTable(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if table.Domain != "segmentation.tenure.dev" {
		t.Fatalf("domain = %q, want segmentation.tenure.dev", table.Domain)
	}
	r := func(err error, code codes.Code, reason segmentationv1.ErrorReason) apierrtest.Case {
		return apierrtest.Case{Err: err, Code: code, Reason: reason.String()}
	}
	apierrtest.CheckTable(t, table, "../segmentation", map[string]apierrtest.Case{
		"ErrSegmentNotFound":      r(segmentation.ErrSegmentNotFound, codes.NotFound, segmentationv1.ErrorReason_SEGMENT_NOT_FOUND),
		"ErrSegmentAlreadyExists": r(segmentation.ErrSegmentAlreadyExists, codes.AlreadyExists, segmentationv1.ErrorReason_SEGMENT_ALREADY_EXISTS),
		"ErrNotStaticSegment":     r(segmentation.ErrNotStaticSegment, codes.FailedPrecondition, segmentationv1.ErrorReason_NOT_STATIC_SEGMENT),
		"ErrOperationNotFound":    r(segmentation.ErrOperationNotFound, codes.NotFound, segmentationv1.ErrorReason_OPERATION_NOT_FOUND),
		"ErrCustomerNotFound":     r(segmentation.ErrCustomerNotFound, codes.NotFound, segmentationv1.ErrorReason_CUSTOMER_NOT_FOUND),
		"ErrSettingsNotFound":     r(segmentation.ErrSettingsNotFound, codes.NotFound, segmentationv1.ErrorReason_SETTINGS_NOT_FOUND),
		"ErrRecomputeInProgress":  r(segmentation.ErrRecomputeInProgress, codes.Aborted, segmentationv1.ErrorReason_RECOMPUTE_IN_PROGRESS),
		"ErrNoRecompute":          r(segmentation.ErrNoRecompute, codes.FailedPrecondition, segmentationv1.ErrorReason_NO_RECOMPUTE),
		"ErrETagMismatch":         r(segmentation.ErrETagMismatch, codes.Aborted, segmentationv1.ErrorReason_ETAG_MISMATCH),
		"ErrTooManyPairs":         r(segmentation.ErrTooManyPairs, codes.InvalidArgument, segmentationv1.ErrorReason_TOO_MANY_PAIRS),
		"ErrInvalidAudience":      r(segmentation.ErrInvalidAudience, codes.InvalidArgument, segmentationv1.ErrorReason_INVALID_AUDIENCE),
		"ErrInvalidPageToken":     r(segmentation.ErrInvalidPageToken, codes.InvalidArgument, segmentationv1.ErrorReason_INVALID_PAGE_TOKEN),
		"ErrSegmentNotComputed":   r(segmentation.ErrSegmentNotComputed, codes.FailedPrecondition, segmentationv1.ErrorReason_SEGMENT_NOT_COMPUTED),
		"ErrInvalidRule":          r(segmentation.ErrInvalidRule, codes.InvalidArgument, segmentationv1.ErrorReason_INVALID_RULE),
		"ErrInvalidSettings":      r(segmentation.ErrInvalidSettings, codes.InvalidArgument, segmentationv1.ErrorReason_INVALID_SETTINGS),
		// Score's own argument checks: only the engine calls Score, so one
		// failing is a bug, never the caller's fault.
		"ErrInvalidInput": {Err: segmentation.ErrInvalidInput, Code: codes.Internal, Reason: "INTERNAL"},
	}, segmentationv1.ErrorReason_value)
}
