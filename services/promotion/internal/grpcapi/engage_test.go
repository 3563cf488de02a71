package grpcapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

// TestEngagementErrors checks the engagement errors' codes and reasons,
// and that the API numbers engagement actions as the domain does.
func TestEngagementErrors(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, c := range []struct {
		err    error
		code   codes.Code
		reason promotionv1.ErrorReason
	}{
		{outreach.ErrSignatureInvalid, codes.Unauthenticated, promotionv1.ErrorReason_ENGAGEMENT_SIGNATURE_INVALID},
		{outreach.ErrSignatureExpired, codes.Unauthenticated, promotionv1.ErrorReason_ENGAGEMENT_SIGNATURE_EXPIRED},
		{outreach.ErrEngagementForbidden, codes.PermissionDenied, promotionv1.ErrorReason_ENGAGEMENT_FORBIDDEN},
		{outreach.ErrEngagementNotConfigured, codes.FailedPrecondition, promotionv1.ErrorReason_ENGAGEMENT_NOT_CONFIGURED},
		{outreach.ErrInvalidTransition, codes.FailedPrecondition, promotionv1.ErrorReason_INVALID_TRANSITION},
	} {
		st := table.Status(context.Background(), fmt.Errorf("wrapped: %w", c.err))
		reason := ""
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				reason = info.GetReason()
			}
		}
		if st.Code() != c.code || reason != c.reason.String() {
			t.Errorf("%v: got %v %s, want %v %s", c.err, st.Code(), reason, c.code, c.reason)
		}
	}
	for a := outreach.ActionDelivered; a <= outreach.ActionUnsubscribed; a++ {
		if got := promotionv1.EngagementAction(a).String(); got != "ENGAGEMENT_ACTION_"+upper(a.String()) {
			t.Errorf("action %s is %s in the API", a, got)
		}
	}
}
