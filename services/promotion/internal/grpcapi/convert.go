package grpcapi

import (
	"fmt"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func optionalTime(field string, t *timestamppb.Timestamp) (time.Time, error) {
	if t == nil {
		return time.Time{}, nil
	}
	if err := t.CheckValid(); err != nil {
		return time.Time{}, fielderr.New(field, "is not a valid timestamp")
	}
	return t.AsTime().UTC(), nil
}

func money(currency string, minor int64) *typev1.Money {
	return &typev1.Money{CurrencyCode: currency, AmountMinor: minor}
}

// amounts reads Money fields, checking they share one currency.
type amounts struct {
	currency string
	err      error
}

func (a *amounts) get(field string, m *typev1.Money) int64 {
	if m == nil {
		return 0
	}
	if a.err == nil && m.GetCurrencyCode() != "" {
		if a.currency == "" {
			a.currency = m.GetCurrencyCode()
		} else if a.currency != m.GetCurrencyCode() {
			a.err = fielderr.New(field, "is in %s but other amounts are in %s; send every amount in one currency",
				fielderr.Quote(m.GetCurrencyCode()), a.currency)
		}
	}
	return m.GetAmountMinor()
}

var objectives = map[promotionv1.Objective]promotion.Objective{
	promotionv1.Objective_OBJECTIVE_ACQUISITION: promotion.ObjectiveAcquisition, promotionv1.Objective_OBJECTIVE_RETENTION: promotion.ObjectiveRetention,
	promotionv1.Objective_OBJECTIVE_WIN_BACK: promotion.ObjectiveWinBack, promotionv1.Objective_OBJECTIVE_AVERAGE_ORDER_VALUE: promotion.ObjectiveAverageOrderValue,
	promotionv1.Objective_OBJECTIVE_CLEARANCE: promotion.ObjectiveClearance, promotionv1.Objective_OBJECTIVE_REACTIVATION: promotion.ObjectiveReactivation,
}

var states = map[promotion.State]promotionv1.CampaignState{
	promotion.StateDraft: promotionv1.CampaignState_CAMPAIGN_STATE_DRAFT, promotion.StateScheduled: promotionv1.CampaignState_CAMPAIGN_STATE_SCHEDULED,
	promotion.StateActive: promotionv1.CampaignState_CAMPAIGN_STATE_ACTIVE, promotion.StatePaused: promotionv1.CampaignState_CAMPAIGN_STATE_PAUSED,
	promotion.StateEnded: promotionv1.CampaignState_CAMPAIGN_STATE_ENDED,
}

func toCampaign(id string, c *promotionv1.Campaign) (*promotion.Campaign, error) {
	start, err := optionalTime("campaign.start_time", c.GetStartTime())
	if err != nil {
		return nil, err
	}
	end, err := optionalTime("campaign.end_time", c.GetEndTime())
	if err != nil {
		return nil, err
	}
	a := c.GetAudience()
	out := &promotion.Campaign{ID: id, DisplayName: c.GetDisplayName(), Objective: objectives[c.GetObjective()],
		KPIMetric: c.GetKpi().GetMetric(), KPITarget: c.GetKpi().GetTarget(), Start: start, End: end, TimeZone: c.GetTimeZone(),
		Currency: c.GetCurrencyCode(), Budget: c.GetBudget().GetAmountMinor(),
		Audience: promotion.Audience{Segments: a.GetSegments(), ValueTiers: a.GetValueTiers(), LifecycleStages: a.GetLifecycleStages(),
			RFMSegments: a.GetRfmSegments(), LoyaltyTiers: a.GetLoyaltyTiers()},
		HoldoutPercent: int(c.GetHoldoutPercent()), MarginPercent: int(c.GetMarginPercent())}
	if b := c.GetBudget(); b != nil && b.GetCurrencyCode() != "" && b.GetCurrencyCode() != out.Currency {
		return nil, fielderr.New("campaign.budget", "must be in the campaign's currency %s", fielderr.Quote(out.Currency))
	}
	return out, nil
}

func fromCampaign(c *promotion.Campaign, now time.Time) *promotionv1.Campaign {
	var obj promotionv1.Objective
	for k, v := range objectives {
		if v == c.Objective {
			obj = k
		}
	}
	out := &promotionv1.Campaign{Name: promotion.CampaignNames.Format(c.ID), CampaignId: c.ID, DisplayName: c.DisplayName, Objective: obj,
		Kpi: &promotionv1.Kpi{Metric: c.KPIMetric, Target: c.KPITarget}, StartTime: timestamp(c.Start), EndTime: timestamp(c.End),
		TimeZone: c.TimeZone, CurrencyCode: c.Currency, BudgetUsed: money(c.Currency, c.BudgetUsed),
		Audience: &promotionv1.Audience{Segments: c.Audience.Segments, ValueTiers: c.Audience.ValueTiers, LifecycleStages: c.Audience.LifecycleStages,
			RfmSegments: c.Audience.RFMSegments, LoyaltyTiers: c.Audience.LoyaltyTiers},
		HoldoutPercent: int32(c.HoldoutPercent), MarginPercent: int32(c.MarginPercent), State: states[c.StateAt(now)],
		FrozenAudienceSize: c.FrozenSize, ActivateTime: timestamp(c.ActivateTime), CreateTime: timestamp(c.CreateTime),
		UpdateTime: timestamp(c.UpdateTime)}
	if c.Budget > 0 {
		out.Budget = money(c.Currency, c.Budget)
	}
	return out
}

var kinds = map[promotionv1.PromotionKind]pricing.Kind{
	promotionv1.PromotionKind_PROMOTION_KIND_AUTOMATIC: pricing.KindAutomatic, promotionv1.PromotionKind_PROMOTION_KIND_CODE: pricing.KindCode}
var stackings = map[promotionv1.Stacking]pricing.Stacking{
	promotionv1.Stacking_STACKING_STACKABLE: pricing.Stackable, promotionv1.Stacking_STACKING_EXCLUSIVE: pricing.Exclusive}
var scopes = map[promotionv1.Scope]pricing.Scope{promotionv1.Scope_SCOPE_LINES: pricing.ScopeLines, promotionv1.Scope_SCOPE_ORDER: pricing.ScopeOrder}
var modes = map[promotionv1.AmountMode]pricing.AmountMode{
	promotionv1.AmountMode_AMOUNT_MODE_PER_UNIT: pricing.PerUnit, promotionv1.AmountMode_AMOUNT_MODE_PER_LINE: pricing.PerLine,
	promotionv1.AmountMode_AMOUNT_MODE_ACROSS_LINES: pricing.AcrossLines, promotionv1.AmountMode_AMOUNT_MODE_ON_ORDER: pricing.OnOrder}

// toPromotion converts a promotion; ids come from the request.
func toPromotion(campaignID, promotionID string, p *promotionv1.Promotion) (*promotion.Promotion, error) {
	var a amounts
	cond, err := toConditions(&a, p.GetConditions())
	if err != nil {
		return nil, err
	}
	out := &promotion.Promotion{CampaignID: campaignID, PromotionID: promotionID, DisplayName: p.GetDisplayName(),
		TotalUses: p.GetTotalUses(), UsesPerCustomer: p.GetUsesPerCustomer(), Budget: a.get("promotion.budget", p.GetBudget()), Stock: p.GetStock(),
		Def: pricing.Definition{Kind: kinds[p.GetKind()], Priority: p.GetPriority(), Stacking: stackings[p.GetStacking()],
			StackGroup: p.GetStackGroup(), Conditions: cond, Effect: toEffect(&a, p.GetEffect())}}
	if a.err != nil {
		return nil, a.err
	}
	out.AmountCurrency = a.currency
	return out, nil
}

func toConditions(a *amounts, c *promotionv1.Conditions) (pricing.Conditions, error) {
	out := pricing.Conditions{MinSubtotal: a.get("promotion.conditions.min_subtotal", c.GetMinSubtotal()), MinQuantity: c.GetMinQuantity(),
		IncludeSKUs: c.GetIncludeSkus(), IncludeCategories: c.GetIncludeCategories(), ExcludeSKUs: c.GetExcludeSkus(),
		ExcludeCategories: c.GetExcludeCategories(), FirstOrderOnly: c.GetFirstOrderOnly(), Channels: c.GetChannels()}
	if w := c.GetWindow(); w != nil {
		from, err := optionalTime("promotion.conditions.window.start_time", w.GetStartTime())
		if err != nil {
			return out, err
		}
		until, err := optionalTime("promotion.conditions.window.end_time", w.GetEndTime())
		if err != nil {
			return out, err
		}
		win := &pricing.Window{From: from, Until: until, DailyFrom: int(w.GetDailyFromMinute()), DailyUntil: int(w.GetDailyUntilMinute())}
		for i, d := range w.GetDaysOfWeek() {
			if d < 1 || d > 7 {
				return out, fielderr.New(fmt.Sprintf("promotion.conditions.window.days_of_week[%d]", i), "must be 1 (Monday) to 7 (Sunday), got %d", d)
			}
			win.Weekdays = append(win.Weekdays, time.Weekday(d%7))
		}
		out.Window = win
	}
	return out, nil
}

func toEffect(a *amounts, e *promotionv1.Effect) pricing.Effect {
	var out pricing.Effect
	switch k := e.GetKind().(type) {
	case *promotionv1.Effect_PercentOff:
		out.PercentOff = &pricing.PercentOff{Scope: scopes[k.PercentOff.GetScope()], BasisPoints: int64(k.PercentOff.GetBasisPoints()),
			Cap: a.get("promotion.effect.percent_off.cap", k.PercentOff.GetCap())}
	case *promotionv1.Effect_AmountOff:
		out.AmountOff = &pricing.AmountOff{Mode: modes[k.AmountOff.GetMode()], Amount: a.get("promotion.effect.amount_off.amount", k.AmountOff.GetAmount())}
	case *promotionv1.Effect_SpendTiers:
		t := &pricing.Tiered{}
		for i, tier := range k.SpendTiers.GetTiers() {
			t.Tiers = append(t.Tiers, pricing.Tier{Threshold: a.get(fmt.Sprintf("promotion.effect.spend_tiers.tiers[%d].threshold", i), tier.GetThreshold()),
				Amount: a.get(fmt.Sprintf("promotion.effect.spend_tiers.tiers[%d].amount", i), tier.GetAmount()), BasisPoints: int64(tier.GetBasisPoints())})
		}
		if r := k.SpendTiers.GetRepeat(); r != nil {
			t.Repeat = &pricing.Repeat{Every: a.get("promotion.effect.spend_tiers.repeat.every", r.GetEvery()),
				Amount: a.get("promotion.effect.spend_tiers.repeat.amount", r.GetAmount()), MaxCount: r.GetMaxCount()}
		}
		out.Tiered = t
	case *promotionv1.Effect_BuyXGetY:
		b := k.BuyXGetY
		out.BuyXGetY = &pricing.BuyXGetY{Buy: b.GetBuy(), Get: b.GetGet(), BasisPoints: int64(b.GetBasisPoints()),
			MaxApplications: b.GetMaxApplications(), GetSKUs: b.GetGetSkus(), GetCategories: b.GetGetCategories()}
	case *promotionv1.Effect_Gift:
		out.Gift = &pricing.Gift{SKU: k.Gift.GetSku(), Quantity: k.Gift.GetQuantity()}
	case *promotionv1.Effect_FreeShipping:
		out.FreeShipping = &pricing.FreeShipping{Cap: a.get("promotion.effect.free_shipping.cap", k.FreeShipping.GetCap())}
	case *promotionv1.Effect_FlashPrice:
		out.FlashPrice = &pricing.FlashPrice{SKU: k.FlashPrice.GetSku(), UnitPrice: a.get("promotion.effect.flash_price.unit_price", k.FlashPrice.GetUnitPrice()),
			PerCustomerUnitLimit: k.FlashPrice.GetPerCustomerUnits()}
	}
	return out
}

// moneyOrNil is nil for 0: an unset limit or cap.
func moneyOrNil(currency string, minor int64) *typev1.Money {
	if minor == 0 {
		return nil
	}
	return money(currency, minor)
}
