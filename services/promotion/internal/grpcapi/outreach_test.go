package grpcapi

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// checkOutreachErrors checks the outreach sentinels the API returns map to
// their code and reason (the others never reach a caller: they become
// INTERNAL).
func checkOutreachErrors(t *testing.T, table *apierr.Table) {
	t.Helper()
	for _, c := range []struct {
		err    error
		code   codes.Code
		reason promotionv1.ErrorReason
	}{
		{outreach.ErrJourneyNotFound, codes.NotFound, promotionv1.ErrorReason_JOURNEY_NOT_FOUND},
		{outreach.ErrJourneyAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_JOURNEY_ALREADY_EXISTS},
		{outreach.ErrInvalidTemplate, codes.InvalidArgument, promotionv1.ErrorReason_INVALID_TEMPLATE},
		{outreach.ErrMessageNotFound, codes.NotFound, promotionv1.ErrorReason_MESSAGE_NOT_FOUND},
		{outreach.ErrJourneyDeleted, codes.FailedPrecondition, promotionv1.ErrorReason_JOURNEY_DELETED},
		{outreach.ErrETagMismatch, codes.Aborted, promotionv1.ErrorReason_ETAG_MISMATCH},
		{outreach.ErrInvalidTransition, codes.FailedPrecondition, promotionv1.ErrorReason_INVALID_TRANSITION},
		{outreach.ErrSignatureInvalid, codes.Unauthenticated, promotionv1.ErrorReason_ENGAGEMENT_SIGNATURE_INVALID},
		{outreach.ErrSignatureExpired, codes.Unauthenticated, promotionv1.ErrorReason_ENGAGEMENT_SIGNATURE_EXPIRED},
		{outreach.ErrEngagementForbidden, codes.PermissionDenied, promotionv1.ErrorReason_ENGAGEMENT_FORBIDDEN},
		{outreach.ErrEngagementNotConfigured, codes.FailedPrecondition, promotionv1.ErrorReason_ENGAGEMENT_NOT_CONFIGURED},
		{outreach.ErrNotAPITriggered, codes.FailedPrecondition, promotionv1.ErrorReason_JOURNEY_NOT_API_TRIGGERED},
		{outreach.ErrMissingVariables, codes.InvalidArgument, promotionv1.ErrorReason_MISSING_VARIABLES},
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
}

// TestEnumsMatch checks the API's outreach enums number their values as
// the domain does, which the conversions rely on.
func TestEnumsMatch(t *testing.T) {
	for c := outreach.ChannelEmail; c <= outreach.ChannelWebhook; c++ {
		if got := promotionv1.OutreachChannel(c).String(); got != "OUTREACH_CHANNEL_"+upper(c.String()) {
			t.Errorf("channel %s is %s in the API", c, got)
		}
	}
	for s := outreach.StateScheduled; s <= outreach.StateDead; s++ {
		if got := promotionv1.MessageState(s).String(); got != "MESSAGE_STATE_"+upper(s.String()) {
			t.Errorf("state %s is %s in the API", s, got)
		}
	}
	for _, r := range []outreach.SuppressionReason{outreach.ReasonNoConsent, outreach.ReasonCap, outreach.ReasonHoldout,
		outreach.ReasonUnsubscribed, outreach.ReasonNoCoupon, outreach.ReasonJourneyDeleted} {
		if got := promotionv1.SuppressionReason(r).String(); got != "SUPPRESSION_REASON_"+upper(r.String()) {
			t.Errorf("reason %s is %s in the API", r, got)
		}
	}
	for s := outreach.JourneyActive; s <= outreach.JourneyDeleted; s++ {
		if got := promotionv1.JourneyState(s).String(); got != "JOURNEY_STATE_"+upper(s.String()) {
			t.Errorf("journey state %s is %s in the API", s, got)
		}
	}
	for a := outreach.ActionDelivered; a <= outreach.ActionUnsubscribed; a++ {
		if got := promotionv1.EngagementAction(a).String(); got != "ENGAGEMENT_ACTION_"+upper(a.String()) {
			t.Errorf("action %s is %s in the API", a, got)
		}
	}
	for k := outreach.TriggerCartAbandoned; k <= outreach.TriggerAPI; k++ {
		if got := promotionv1.TriggerKind(k).String(); got != "TRIGGER_KIND_"+upper(k.String()) {
			t.Errorf("trigger %s is %s in the API", k, got)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
