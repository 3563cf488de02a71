package grpcapi

import (
	"context"
	"io"
	"log/slog"
	"testing"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/apierr/apierrtest"
	"github.com/tenurehq/tenure/services/platform/paging"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

// TestErrorTable checks every sentinel of the loyalty domain (found in its
// source, so a new one fails here until it has a case) maps to its code and
// ErrorReason, and every ErrorReason is given.
func TestErrorTable(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if table.Domain != "loyalty.tenure.dev" {
		t.Fatalf("domain = %q, want loyalty.tenure.dev", table.Domain)
	}
	r := func(err error, code codes.Code, reason loyaltyv1.ErrorReason) apierrtest.Case {
		return apierrtest.Case{Err: err, Code: code, Reason: reason.String()}
	}
	cases := map[string]apierrtest.Case{
		"ErrMemberNotFound":      r(loyalty.ErrMemberNotFound, codes.NotFound, loyaltyv1.ErrorReason_MEMBER_NOT_FOUND),
		"ErrMemberAlreadyExists": r(loyalty.ErrMemberAlreadyExists, codes.AlreadyExists, loyaltyv1.ErrorReason_MEMBER_ALREADY_EXISTS),
		"ErrInsufficientPoints":  r(loyalty.ErrInsufficientPoints, codes.FailedPrecondition, loyaltyv1.ErrorReason_INSUFFICIENT_POINTS),
		"ErrInvalidProgramme":    r(loyalty.ErrInvalidProgramme, codes.InvalidArgument, loyaltyv1.ErrorReason_INVALID_PROGRAMME),
		"ErrProgrammeNotFound":   r(loyalty.ErrProgrammeNotFound, codes.NotFound, loyaltyv1.ErrorReason_PROGRAMME_NOT_FOUND),
		"ErrVersionMismatch":     r(loyalty.ErrVersionMismatch, codes.Aborted, loyaltyv1.ErrorReason_VERSION_MISMATCH),
		"ErrRewardNotFound":      r(loyalty.ErrRewardNotFound, codes.NotFound, loyaltyv1.ErrorReason_REWARD_NOT_FOUND),
		"ErrRewardAlreadyExists": r(loyalty.ErrRewardAlreadyExists, codes.AlreadyExists, loyaltyv1.ErrorReason_REWARD_ALREADY_EXISTS),
		"ErrOutOfStock":          r(loyalty.ErrOutOfStock, codes.FailedPrecondition, loyaltyv1.ErrorReason_OUT_OF_STOCK),
		"ErrRewardLimitReached":  r(loyalty.ErrRewardLimitReached, codes.FailedPrecondition, loyaltyv1.ErrorReason_REWARD_LIMIT_REACHED),
		"ErrRewardNotAvailable":  r(loyalty.ErrRewardNotAvailable, codes.FailedPrecondition, loyaltyv1.ErrorReason_REWARD_NOT_AVAILABLE),
		"ErrTierTooLow":          r(loyalty.ErrTierTooLow, codes.FailedPrecondition, loyaltyv1.ErrorReason_TIER_TOO_LOW),
		"ErrRedemptionNotFound":  r(loyalty.ErrRedemptionNotFound, codes.NotFound, loyaltyv1.ErrorReason_REDEMPTION_NOT_FOUND),
		"ErrRedemptionClosed":    r(loyalty.ErrRedemptionClosed, codes.FailedPrecondition, loyaltyv1.ErrorReason_REDEMPTION_CLOSED),
		"ErrOperationNotFound":   r(loyalty.ErrOperationNotFound, codes.NotFound, loyaltyv1.ErrorReason_OPERATION_NOT_FOUND),
	}
	apierrtest.CheckTable(t, table, "../loyalty", cases, loyaltyv1.ErrorReason_value)

	// A bad page token, from the platform's paging, has the API's reason.
	st := table.Status(context.Background(), paging.InvalidToken())
	var reason string
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			reason = i.GetReason()
		}
	}
	if st.Code() != codes.InvalidArgument || reason != "INVALID_PAGE_TOKEN" {
		t.Fatalf("bad page token = %v, %s; want INVALID_ARGUMENT, INVALID_PAGE_TOKEN", st.Code(), reason)
	}
}
