package promotion

import (
	"fmt"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// Resource name patterns of the API.
var (
	CampaignNames   = resourcename.MustCompile("campaigns/{campaign_id}")
	PromotionNames  = resourcename.MustCompile("campaigns/{campaign_id}/promotions/{promotion_id}")
	RedemptionNames = resourcename.MustCompile("redemptions/{order_id}")
	OperationNames  = resourcename.MustCompile("promotionOperations/{operation_id}")
)

// Promotion is one offer of a campaign: the pricing engine's definition
// plus its limits and usage. Def.ID is the promotion's resource name, so
// that it is unique across campaigns; Def.Currency is the campaign's.
type Promotion struct {
	CampaignID, PromotionID string
	DisplayName             string
	Def                     pricing.Definition
	// Limits; 0 = none.
	TotalUses, UsesPerCustomer, Budget, Stock int64
	// Usage.
	Uses, BudgetUsed, StockUsed int64
	// Redeemed is set once any order used it: it can no longer be deleted.
	Redeemed bool
	// AmountCurrency is the currency the request's amounts were given in
	// ("" when none was), checked against the campaign's.
	AmountCurrency string `json:"-"`
	CreateTime     time.Time
	UpdateTime     time.Time
}

// Name is the promotion's resource name.
func (p *Promotion) Name() string { return PromotionNames.Format(p.CampaignID, p.PromotionID) }

// Validate checks the promotion under its campaign; paths are under
// prefix ("promotion.").
func (p *Promotion) Validate(prefix string, c *Campaign) error {
	p.Def.ID, p.Def.CampaignID, p.Def.Currency = p.Name(), p.CampaignID, c.Currency
	if p.Def.Conditions.Window != nil {
		p.Def.Conditions.Window.TimeZone = c.TimeZone
	}
	bad := func(path, format string, args ...any) error { return fielderr.New(prefix+path, format, args...) }
	switch {
	case p.AmountCurrency != "" && p.AmountCurrency != c.Currency:
		return bad("effect", "amounts are in %s but the campaign's currency is %s; send amounts in %s", p.AmountCurrency, c.Currency, c.Currency)
	case len(p.DisplayName) > 200:
		return bad("display_name", "must be at most 200 characters")
	case p.TotalUses < 0:
		return bad("total_uses", "must not be negative, got %d", p.TotalUses)
	case p.UsesPerCustomer < 0:
		return bad("uses_per_customer", "must not be negative, got %d", p.UsesPerCustomer)
	case p.Budget < 0:
		return bad("budget", "must not be negative, got %d", p.Budget)
	case p.Stock < 0:
		return bad("stock", "must not be negative, got %d", p.Stock)
	case p.Def.Effect.FlashPrice != nil && p.Stock == 0:
		return bad("stock", "is required for a flash price: the units it sells across all orders")
	}
	if err := pricing.Validate(p.Def); err != nil {
		if fe, ok := err.(*fielderr.Error); ok {
			e := *fe
			e.Path = prefix + protoPath(e.Path)
			return &e
		}
		return err
	}
	return nil
}

// protoPath turns the engine's paths into the API's field names.
func protoPath(p string) string {
	r := strings.NewReplacer("effect.tiered.repeat", "effect.spend_tiers.repeat", "effect.tiered", "effect.spend_tiers",
		"currency", "currency_code", "window.from", "window.start_time", "window.until", "window.end_time",
		"window.weekdays", "window.days_of_week", "window.daily_from", "window.daily_from_minute",
		"window.daily_until", "window.daily_until_minute", "flash_price.per_customer_unit_limit", "flash_price.per_customer_units")
	return r.Replace(p)
}

// Limited reports whether the promotion has a limit the store must check.
func (p *Promotion) Limited() bool {
	return p.TotalUses > 0 || p.UsesPerCustomer > 0 || p.Budget > 0 || p.Stock > 0 ||
		(p.Def.Effect.FlashPrice != nil && p.Def.Effect.FlashPrice.PerCustomerUnitLimit > 0)
}

// Code is a coupon code of a code promotion.
type Code struct {
	Code                    string
	CampaignID, PromotionID string
	MaxUses, Uses           int64
	CustomerID              string
}

// Operation is a code generation.
type Operation struct {
	ID                      string
	CampaignID, PromotionID string
	State                   OpState
	Done, Total             int64
	Error                   string
	CreateTime, EndTime     time.Time
}

// OpState is where an operation is.
type OpState int

const (
	OpRunning OpState = iota + 1
	OpSucceeded
	OpFailed
)

func (s OpState) String() string { return fmt.Sprint(int(s)) }
