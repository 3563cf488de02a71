// Package pricing is the promotion service's cart evaluation engine: pure
// functions that take a cart, the compiled promotions that may apply to it
// and the facts the store knows about them, and say what the cart costs,
// which promotions applied with their allocation to each line, and why
// every other one did not.
//
// All amounts are int64 minor units of the cart's currency; no float is
// used on any price path. The arithmetic and stacking policy is fixed and
// documented on Evaluate, split and Release.
package pricing

import "time"

// Bounds every input is checked against so that no computation can
// overflow an int64 (products are taken in 128 bits where they can exceed
// it). Anything beyond them is rejected with a *fielderr.Error.
const (
	// MaxAmount is the largest amount (a price, a line, a subtotal, a
	// threshold, a budget) in minor units: 10^15, ten trillion in a
	// currency with cents.
	MaxAmount int64 = 1_000_000_000_000_000
	// MaxQuantity is the largest quantity of one line.
	MaxQuantity int64 = 1_000_000
	// MaxLines is the most lines one cart may have.
	MaxLines = 1000
	// MaxCodes is the most codes one cart may carry.
	MaxCodes = 20
	// MaxBasisPoints is 100 %.
	MaxBasisPoints int64 = 10_000
)

// Cart is what the shop asks about: a customer's lines in one currency.
type Cart struct {
	CustomerID string
	// Currency is the ISO 4217 code every amount of the cart is in.
	Currency string
	// Channel is where the order is placed ("web", "app", "store"…).
	Channel string
	Lines   []Line
	// ShippingFee is the shipping charged before any promotion.
	ShippingFee int64
	// Codes are the coupon codes the customer entered, as entered.
	Codes []string
}

// Line is one cart line.
type Line struct {
	// ID identifies the line within the cart (unique, non-empty).
	ID       string
	SKU      string
	Category string
	Quantity int64
	// UnitPrice is the price of one unit before any promotion.
	UnitPrice int64
}

// Kind says how a promotion is triggered.
type Kind int

const (
	// KindAutomatic applies to every cart that meets its conditions.
	KindAutomatic Kind = iota + 1
	// KindCode applies only to a cart that carries one of its codes.
	KindCode
)

// Stacking says whether a promotion combines with others.
type Stacking int

const (
	// Stackable combines with other stackable promotions (unless they
	// share a stack group).
	Stackable Stacking = iota + 1
	// Exclusive applies only alone: not after another promotion has
	// applied, and nothing applies after it.
	Exclusive
)

// Definition is a promotion as the operator defines it and the store
// keeps it. Compile validates it and turns it into a *Promotion.
type Definition struct {
	ID         string
	CampaignID string
	Kind       Kind
	// Priority orders evaluation: highest first, then by ID.
	Priority   int32
	Stacking   Stacking
	StackGroup string
	// Currency is the currency of every amount of the definition; a cart
	// in another currency gets CURRENCY_MISMATCH.
	Currency   string
	Conditions Conditions
	Effect     Effect
}

// Conditions restrict which carts and lines a promotion applies to. The
// zero value has no condition: every line of every cart is eligible.
type Conditions struct {
	// MinSubtotal is the least eligible subtotal (the eligible lines'
	// current amounts); 0 = none.
	MinSubtotal int64
	// MinQuantity is the least number of eligible units; 0 = none.
	MinQuantity int64
	// A line is eligible when it matches IncludeSKUs or IncludeCategories
	// (or both are empty) and matches neither exclusion list.
	IncludeSKUs       []string
	IncludeCategories []string
	ExcludeSKUs       []string
	ExcludeCategories []string
	// FirstOrderOnly restricts the promotion to a customer's first order.
	FirstOrderOnly bool
	// Channels the cart must come from; empty = any.
	Channels []string
	// Window is when the promotion applies, inside its campaign's
	// schedule; nil = always.
	Window *Window
}

// Window is a time window: dates, days of the week and hours of the day,
// all read in TimeZone.
type Window struct {
	// From and Until bound the window, [From, Until); zero = open.
	From, Until time.Time
	// Weekdays the promotion applies on (local day of the week); empty =
	// every day.
	Weekdays []time.Weekday
	// DailyFrom and DailyUntil are minutes after local midnight, 0 to
	// 1440, [DailyFrom, DailyUntil). Both 0 = all day. DailyUntil before
	// DailyFrom wraps past midnight (22:00–02:00); the weekday is always
	// that of the local time being checked.
	DailyFrom, DailyUntil int
	// TimeZone is an IANA zone name; empty = UTC.
	TimeZone string
}

// Scope says where a percentage or amount discount is reported: on the
// eligible lines (an item discount) or on the order (an order discount).
// Either way it is allocated to the eligible lines, so that refunds can
// release it line by line.
type Scope int

const (
	ScopeLines Scope = iota + 1
	ScopeOrder
)

// AmountMode says how an amount off applies to the eligible lines.
type AmountMode int

const (
	// PerUnit takes the amount off every eligible unit.
	PerUnit AmountMode = iota + 1
	// PerLine takes the amount off every eligible line once.
	PerLine
	// AcrossLines takes the amount once, split across the eligible lines.
	AcrossLines
	// OnOrder takes the amount once off the order (split across the
	// eligible lines and reported as an order discount).
	OnOrder
)

// Effect is what a promotion gives: exactly one field is set.
type Effect struct {
	PercentOff   *PercentOff
	AmountOff    *AmountOff
	Tiered       *Tiered
	BuyXGetY     *BuyXGetY
	Gift         *Gift
	FreeShipping *FreeShipping
	FlashPrice   *FlashPrice
}

// PercentOff takes a percentage of the eligible subtotal.
type PercentOff struct {
	Scope Scope
	// BasisPoints is the percentage in hundredths of a percent: 1000 =
	// 10 %, 10000 = 100 %.
	BasisPoints int64
	// Cap is the most it takes off; 0 = no cap.
	Cap int64
}

// AmountOff takes a fixed amount.
type AmountOff struct {
	Mode   AmountMode
	Amount int64
}

// Tiered is a spend-threshold discount: either Tiers (the best tier the
// eligible subtotal reaches) or Repeat, not both. It is an order discount.
type Tiered struct {
	Tiers  []Tier
	Repeat *Repeat
}

// Tier is one step: reached when the eligible subtotal is at least
// Threshold; it takes Amount or BasisPoints of the eligible subtotal
// (exactly one is set).
type Tier struct {
	Threshold   int64
	Amount      int64
	BasisPoints int64
}

// Repeat is "every Every spent, Amount off", at most MaxCount times (0 =
// no maximum).
type Repeat struct {
	Every    int64
	Amount   int64
	MaxCount int64
}

// BuyXGetY discounts Get units for every Buy units bought.
type BuyXGetY struct {
	Buy, Get int64
	// BasisPoints off each discounted unit: 10000 = free.
	BasisPoints int64
	// MaxApplications is the most groups discounted; 0 = no maximum.
	MaxApplications int64
	// GetSKUs and GetCategories name the "get" set. Both empty: the get
	// set is the buy set (the eligible lines).
	GetSKUs       []string
	GetCategories []string
}

// Gift adds a SKU at zero price while its stock lasts.
type Gift struct {
	SKU      string
	Quantity int64
}

// FreeShipping takes the shipping fee off, at most Cap (0 = no cap).
type FreeShipping struct {
	Cap int64
}

// FlashPrice sells a SKU at a fixed unit price from a shared stock, with
// a per-customer unit limit (the store tracks both; Facts carries what is
// left).
type FlashPrice struct {
	SKU       string
	UnitPrice int64
	// PerCustomerUnitLimit is the most units one customer may buy at the
	// flash price over all orders; 0 = no limit.
	PerCustomerUnitLimit int64
}
