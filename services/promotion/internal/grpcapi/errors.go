package grpcapi

import (
	"log/slog"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/paging"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/grpc/codes"
)

// Domain is the ErrorInfo domain of the promotion service's errors.
const Domain = "promotion.tenure.dev"

// ErrorTable is the one mapping from promotion errors to gRPC statuses. The
// reasons are the API's ErrorReason values. A bad argument the rules do not
// name (a *fielderr.Error) is mapped by the platform, to INVALID_ARGUMENT.
func ErrorTable(logger *slog.Logger) *apierr.Table {
	r := func(err error, code codes.Code, reason promotionv1.ErrorReason) apierr.Rule {
		return apierr.Rule{Err: err, Code: code, Reason: reason.String()}
	}
	return &apierr.Table{
		Domain: Domain,
		Logger: logger,
		Rules: []apierr.Rule{
			r(promotion.ErrCampaignNotFound, codes.NotFound, promotionv1.ErrorReason_CAMPAIGN_NOT_FOUND),
			r(promotion.ErrCampaignAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_CAMPAIGN_ALREADY_EXISTS),
			r(promotion.ErrInvalidTransition, codes.FailedPrecondition, promotionv1.ErrorReason_INVALID_TRANSITION),
			r(promotion.ErrCampaignEnded, codes.FailedPrecondition, promotionv1.ErrorReason_CAMPAIGN_ENDED),
			r(promotion.ErrPromotionNotFound, codes.NotFound, promotionv1.ErrorReason_PROMOTION_NOT_FOUND),
			r(promotion.ErrPromotionAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_PROMOTION_ALREADY_EXISTS),
			r(promotion.ErrPromotionRedeemed, codes.FailedPrecondition, promotionv1.ErrorReason_PROMOTION_REDEEMED),
			r(promotion.ErrNotACodePromotion, codes.FailedPrecondition, promotionv1.ErrorReason_NOT_A_CODE_PROMOTION),
			r(promotion.ErrCodeAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_CODE_ALREADY_EXISTS),
			r(promotion.ErrOperationNotFound, codes.NotFound, promotionv1.ErrorReason_OPERATION_NOT_FOUND),
			r(promotion.ErrRedemptionNotFound, codes.NotFound, promotionv1.ErrorReason_REDEMPTION_NOT_FOUND),
			r(promotion.ErrOrderCartMismatch, codes.AlreadyExists, promotionv1.ErrorReason_ORDER_CART_MISMATCH),
			r(promotion.ErrPromotionsChanged, codes.FailedPrecondition, promotionv1.ErrorReason_PROMOTIONS_CHANGED),
			r(promotion.ErrRedemptionCancelled, codes.FailedPrecondition, promotionv1.ErrorReason_REDEMPTION_CANCELLED),
			r(promotion.ErrSegmentationUnavailable, codes.Unavailable, promotionv1.ErrorReason_SEGMENTATION_UNAVAILABLE),
			r(promotion.ErrTooManyRetries, codes.Aborted, promotionv1.ErrorReason_CONCURRENT_REDEMPTIONS),
			r(promotion.ErrLimitRaced, codes.Aborted, promotionv1.ErrorReason_CONCURRENT_REDEMPTIONS),
			r(pricing.ErrOverReturn, codes.InvalidArgument, promotionv1.ErrorReason_RETURN_EXCEEDS_QUANTITY),
			r(paging.ErrInvalidPageToken, codes.InvalidArgument, promotionv1.ErrorReason_INVALID_PAGE_TOKEN),
			r(outreach.ErrJourneyNotFound, codes.NotFound, promotionv1.ErrorReason_JOURNEY_NOT_FOUND),
			r(outreach.ErrJourneyAlreadyExists, codes.AlreadyExists, promotionv1.ErrorReason_JOURNEY_ALREADY_EXISTS),
			r(outreach.ErrInvalidTemplate, codes.InvalidArgument, promotionv1.ErrorReason_INVALID_TEMPLATE),
			r(outreach.ErrMessageNotFound, codes.NotFound, promotionv1.ErrorReason_MESSAGE_NOT_FOUND),
			r(outreach.ErrJourneyDeleted, codes.FailedPrecondition, promotionv1.ErrorReason_JOURNEY_DELETED),
			r(outreach.ErrETagMismatch, codes.Aborted, promotionv1.ErrorReason_ETAG_MISMATCH),
			r(outreach.ErrInvalidTransition, codes.FailedPrecondition, promotionv1.ErrorReason_INVALID_TRANSITION),
			r(outreach.ErrSignatureInvalid, codes.Unauthenticated, promotionv1.ErrorReason_ENGAGEMENT_SIGNATURE_INVALID),
			r(outreach.ErrSignatureExpired, codes.Unauthenticated, promotionv1.ErrorReason_ENGAGEMENT_SIGNATURE_EXPIRED),
			r(outreach.ErrEngagementForbidden, codes.PermissionDenied, promotionv1.ErrorReason_ENGAGEMENT_FORBIDDEN),
			r(outreach.ErrEngagementNotConfigured, codes.FailedPrecondition, promotionv1.ErrorReason_ENGAGEMENT_NOT_CONFIGURED),
			r(outreach.ErrNotAPITriggered, codes.FailedPrecondition, promotionv1.ErrorReason_JOURNEY_NOT_API_TRIGGERED),
			r(outreach.ErrMissingVariables, codes.InvalidArgument, promotionv1.ErrorReason_MISSING_VARIABLES),
		},
	}
}
