package grpcapi

import (
	"io"
	"log/slog"
	"testing"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/apierr/apierrtest"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/grpc/codes"
)

// TestErrorTable checks every sentinel of the promotion domain (found in
// its source, so a new one fails here until it has a case) maps to its
// code and ErrorReason, and every ErrorReason is given.
func TestErrorTable(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if table.Domain != "promotion.tenure.dev" {
		t.Fatalf("domain = %q, want promotion.tenure.dev", table.Domain)
	}
	r := func(err error, code codes.Code, reason promotionv1.ErrorReason) apierrtest.Case {
		return apierrtest.Case{Err: err, Code: code, Reason: reason.String()}
	}
	cases := map[string]apierrtest.Case{
		"ErrCampaignNotFound":        r(promotion.ErrCampaignNotFound, codes.NotFound, promotionv1.ErrorReason_CAMPAIGN_NOT_FOUND),
		"ErrCampaignAlreadyExists":   r(promotion.ErrCampaignAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_CAMPAIGN_ALREADY_EXISTS),
		"ErrInvalidTransition":       r(promotion.ErrInvalidTransition, codes.FailedPrecondition, promotionv1.ErrorReason_INVALID_TRANSITION),
		"ErrCampaignEnded":           r(promotion.ErrCampaignEnded, codes.FailedPrecondition, promotionv1.ErrorReason_CAMPAIGN_ENDED),
		"ErrPromotionNotFound":       r(promotion.ErrPromotionNotFound, codes.NotFound, promotionv1.ErrorReason_PROMOTION_NOT_FOUND),
		"ErrPromotionAlreadyExists":  r(promotion.ErrPromotionAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_PROMOTION_ALREADY_EXISTS),
		"ErrPromotionRedeemed":       r(promotion.ErrPromotionRedeemed, codes.FailedPrecondition, promotionv1.ErrorReason_PROMOTION_REDEEMED),
		"ErrNotACodePromotion":       r(promotion.ErrNotACodePromotion, codes.FailedPrecondition, promotionv1.ErrorReason_NOT_A_CODE_PROMOTION),
		"ErrCodeAlreadyExists":       r(promotion.ErrCodeAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_CODE_ALREADY_EXISTS),
		"ErrOperationNotFound":       r(promotion.ErrOperationNotFound, codes.NotFound, promotionv1.ErrorReason_OPERATION_NOT_FOUND),
		"ErrRedemptionNotFound":      r(promotion.ErrRedemptionNotFound, codes.NotFound, promotionv1.ErrorReason_REDEMPTION_NOT_FOUND),
		"ErrOrderCartMismatch":       r(promotion.ErrOrderCartMismatch, codes.AlreadyExists, promotionv1.ErrorReason_ORDER_CART_MISMATCH),
		"ErrPromotionsChanged":       r(promotion.ErrPromotionsChanged, codes.FailedPrecondition, promotionv1.ErrorReason_PROMOTIONS_CHANGED),
		"ErrRedemptionCancelled":     r(promotion.ErrRedemptionCancelled, codes.FailedPrecondition, promotionv1.ErrorReason_REDEMPTION_CANCELLED),
		"ErrSegmentationUnavailable": r(promotion.ErrSegmentationUnavailable, codes.Unavailable, promotionv1.ErrorReason_SEGMENTATION_UNAVAILABLE),
		"ErrTooManyRetries":          r(promotion.ErrTooManyRetries, codes.Aborted, promotionv1.ErrorReason_CONCURRENT_REDEMPTIONS),
		"ErrLimitRaced":              r(promotion.ErrLimitRaced, codes.Aborted, promotionv1.ErrorReason_CONCURRENT_REDEMPTIONS),
	}
	checkOutreachErrors(t, table)
	apierrtest.CheckTable(t, table, "../promotion", cases, promotionv1.ErrorReason_value)
}
