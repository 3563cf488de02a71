package promotion

import "errors"

// Sentinel errors of the promotion domain; grpcapi maps each to a code and
// an ErrorReason.
var (
	ErrCampaignNotFound        = errors.New("promotion: campaign not found")
	ErrCampaignAlreadyExists   = errors.New("promotion: campaign already exists")
	ErrInvalidTransition       = errors.New("promotion: invalid campaign state transition")
	ErrCampaignEnded           = errors.New("promotion: campaign has ended")
	ErrPromotionNotFound       = errors.New("promotion: promotion not found")
	ErrPromotionAlreadyExists  = errors.New("promotion: promotion already exists")
	ErrPromotionRedeemed       = errors.New("promotion: promotion has been redeemed")
	ErrNotACodePromotion       = errors.New("promotion: promotion does not take codes")
	ErrCodeAlreadyExists       = errors.New("promotion: code already exists")
	ErrOperationNotFound       = errors.New("promotion: operation not found")
	ErrRedemptionNotFound      = errors.New("promotion: redemption not found")
	ErrOrderCartMismatch       = errors.New("promotion: order was redeemed with another cart")
	ErrPromotionsChanged       = errors.New("promotion: promotions the caller saw applied no longer apply")
	ErrRedemptionCancelled     = errors.New("promotion: redemption is cancelled")
	ErrSegmentationUnavailable = errors.New("promotion: segmentation is unavailable")
	// ErrLimitRaced is returned by a store when a guarded write found a
	// limit reached after the evaluation: the use case evaluates again.
	ErrLimitRaced = errors.New("promotion: a limit was reached concurrently")
)

// ErrTooManyRetries says a redemption kept losing races for its limits.
var ErrTooManyRetries = errors.New("promotion: redemption retried too often against concurrent ones")
