package pricing

// Reason is the stable reason a candidate did not apply (UPPER_SNAKE, the
// same words as the API's enum).
type Reason string

// The reasons, in the order Evaluate checks them.
const (
	// ReasonCodeNotFound: a cart code matches no promotion (PromotionID
	// is empty, Code is set).
	ReasonCodeNotFound Reason = "CODE_NOT_FOUND"
	// ReasonCodeUsedUp: the code has no use left.
	ReasonCodeUsedUp Reason = "CODE_USED_UP"
	// ReasonCodeNotYours: the code is assigned to another customer.
	ReasonCodeNotYours Reason = "CODE_NOT_YOURS"
	// ReasonCurrencyMismatch: the promotion is in another currency.
	ReasonCurrencyMismatch Reason = "CURRENCY_MISMATCH"
	// ReasonOutsideSchedule: the campaign is not live or now is outside
	// the promotion's window.
	ReasonOutsideSchedule Reason = "OUTSIDE_SCHEDULE"
	// ReasonChannelNotAllowed: the cart's channel is not one of the
	// promotion's channels.
	ReasonChannelNotAllowed Reason = "CHANNEL_NOT_ALLOWED"
	// ReasonNotInAudience: the customer is outside the campaign audience.
	ReasonNotInAudience Reason = "NOT_IN_AUDIENCE"
	// ReasonInHoldout: the customer is in the campaign's control group.
	ReasonInHoldout Reason = "IN_HOLDOUT"
	// ReasonAudienceUnavailable: the audience could not be checked.
	ReasonAudienceUnavailable Reason = "AUDIENCE_UNAVAILABLE"
	// ReasonFirstOrderOnly: the promotion is for a first order and this
	// is not the customer's first.
	ReasonFirstOrderOnly Reason = "FIRST_ORDER_ONLY"
	// ReasonFirstOrderUnknown: the promotion is for a first order and
	// whether this is one could not be known (profile unavailable).
	ReasonFirstOrderUnknown Reason = "FIRST_ORDER_UNKNOWN"
	// ReasonTotalLimitReached: no total use left.
	ReasonTotalLimitReached Reason = "TOTAL_LIMIT_REACHED"
	// ReasonCustomerLimitReached: no use (or flash unit) left for this
	// customer.
	ReasonCustomerLimitReached Reason = "CUSTOMER_LIMIT_REACHED"
	// ReasonStockExhausted: no flash or gift stock left (Needed and Seen:
	// the gift quantity and the stock left).
	ReasonStockExhausted Reason = "STOCK_EXHAUSTED"
	// ReasonNoEligibleItems: no line meets the SKU and category rules (or
	// none has anything left to discount).
	ReasonNoEligibleItems Reason = "NO_ELIGIBLE_ITEMS"
	// ReasonMinQuantityNotMet: Needed and Seen are eligible units.
	ReasonMinQuantityNotMet Reason = "MIN_QUANTITY_NOT_MET"
	// ReasonMinSubtotalNotMet: Needed and Seen are eligible subtotals
	// (also for a tier or repeat threshold not reached).
	ReasonMinSubtotalNotMet Reason = "MIN_SUBTOTAL_NOT_MET"
	// ReasonExcludedByStacking: an exclusive promotion applied, it is
	// exclusive and another applied, or one of its stack group applied
	// (ByPromotionID names which).
	ReasonExcludedByStacking Reason = "EXCLUDED_BY_STACKING"
	// ReasonNothingToDiscount: the conditions hold but the effect gives
	// nothing on this cart (no shipping fee, prices already at or below
	// the flash price, not enough units for one buy-X-get-Y group).
	ReasonNothingToDiscount Reason = "NOTHING_TO_DISCOUNT"
	// ReasonBudgetExhausted: the discount would take the promotion's or
	// the campaign's budget over what is left (Needed: the discount,
	// Seen: what is left).
	ReasonBudgetExhausted Reason = "BUDGET_EXHAUSTED"
)

// Reasons returns every reason, in the order Evaluate checks them: for a
// conversion table's test that it misses none.
func Reasons() []Reason {
	return []Reason{
		ReasonCodeNotFound, ReasonCodeUsedUp, ReasonCodeNotYours, ReasonCurrencyMismatch,
		ReasonOutsideSchedule, ReasonChannelNotAllowed, ReasonNotInAudience, ReasonInHoldout,
		ReasonAudienceUnavailable, ReasonFirstOrderOnly, ReasonFirstOrderUnknown,
		ReasonTotalLimitReached, ReasonCustomerLimitReached, ReasonStockExhausted,
		ReasonNoEligibleItems, ReasonMinQuantityNotMet, ReasonMinSubtotalNotMet,
		ReasonExcludedByStacking, ReasonNothingToDiscount, ReasonBudgetExhausted,
	}
}

// Result is the price of a cart after its promotions.
type Result struct {
	Currency string
	Lines    []LineResult
	// Subtotal is the sum of the lines before any promotion.
	Subtotal int64
	// ItemDiscount is the sum of line-scope discounts.
	ItemDiscount int64
	// OrderDiscount is the sum of order-scope discounts.
	OrderDiscount int64
	// ShippingFee is the cart's fee; ShippingDiscount what was taken off.
	ShippingFee      int64
	ShippingDiscount int64
	Gifts            []GiftLine
	// Total = Σ Lines[i].Final + ShippingFee − ShippingDiscount.
	Total      int64
	Applied    []Applied
	NotApplied []NotApplied
}

// LineResult is one cart line after promotions. Discount includes the
// line's share of every promotion, item or order scope.
type LineResult struct {
	LineID   string
	Subtotal int64
	Discount int64
	Final    int64
}

// GiftLine is a SKU added to the order at zero price.
type GiftLine struct {
	PromotionID string
	SKU         string
	Quantity    int64
}

// Applied is a promotion that applied, with what it took.
type Applied struct {
	PromotionID string
	CampaignID  string
	// Code is the normalised code that unlocked it; empty when automatic.
	Code  string
	Scope Scope
	// Amount is what it took off the lines (Σ Allocations).
	Amount int64
	// ShippingDiscount is what it took off shipping.
	ShippingDiscount int64
	// Allocations are its per-line parts, in cart line order, only lines
	// with a non-zero part.
	Allocations []Allocation
	// Units is the number of flash-price units sold (stock to take).
	Units int64
	// GiftQuantity is the number of gift units given (stock to take).
	GiftQuantity int64
}

// Cost is what the promotion spends from its budgets.
func (a Applied) Cost() int64 { return a.Amount + a.ShippingDiscount }

// Allocation is a promotion's part of one line's discount.
type Allocation struct {
	LineID string
	// LineIndex is the line's index in the cart.
	LineIndex int
	Amount    int64
}

// NotApplied is a candidate (or a code) that did not apply, and why.
type NotApplied struct {
	// PromotionID is empty for a code that matches no promotion.
	PromotionID string
	CampaignID  string
	Code        string
	Reason      Reason
	// Needed and Seen are the figures the reason compares (a subtotal, a
	// quantity, a budget), when it has any.
	Needed, Seen int64
	// ByPromotionID is the promotion that excluded it by stacking.
	ByPromotionID string
}
