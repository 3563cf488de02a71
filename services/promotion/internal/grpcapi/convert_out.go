package grpcapi

import (
	"math"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

func reverse[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

var (
	kindsOut     = reverse(kinds)
	stackingsOut = reverse(stackings)
	scopesOut    = reverse(scopes)
	modesOut     = reverse(modes)
)

func fromPromotion(p *promotion.Promotion) *promotionv1.Promotion {
	cur := p.Def.Currency
	m := func(v int64) *typev1.Money { return moneyOrNil(cur, v) }
	d := p.Def
	c := d.Conditions
	out := &promotionv1.Promotion{Name: p.Name(), PromotionId: p.PromotionID, DisplayName: p.DisplayName, Kind: kindsOut[d.Kind],
		Priority: d.Priority, Stacking: stackingsOut[d.Stacking], StackGroup: d.StackGroup, TotalUses: p.TotalUses,
		UsesPerCustomer: p.UsesPerCustomer, Budget: m(p.Budget), Stock: p.Stock, Uses: p.Uses, BudgetUsed: money(cur, p.BudgetUsed),
		StockUsed: p.StockUsed, CreateTime: timestamp(p.CreateTime), UpdateTime: timestamp(p.UpdateTime),
		Conditions: &promotionv1.Conditions{MinSubtotal: m(c.MinSubtotal), MinQuantity: c.MinQuantity, IncludeSkus: c.IncludeSKUs,
			IncludeCategories: c.IncludeCategories, ExcludeSkus: c.ExcludeSKUs, ExcludeCategories: c.ExcludeCategories,
			FirstOrderOnly: c.FirstOrderOnly, Channels: c.Channels},
		Effect: fromEffect(cur, d.Effect)}
	if w := c.Window; w != nil {
		tw := &promotionv1.TimeWindow{StartTime: timestamp(w.From), EndTime: timestamp(w.Until),
			DailyFromMinute: int32(w.DailyFrom), DailyUntilMinute: int32(w.DailyUntil)}
		for _, wd := range w.Weekdays {
			tw.DaysOfWeek = append(tw.DaysOfWeek, int32((int(wd)+6)%7+1))
		}
		out.Conditions.Window = tw
	}
	return out
}

func fromEffect(cur string, e pricing.Effect) *promotionv1.Effect {
	m := func(v int64) *typev1.Money { return moneyOrNil(cur, v) }
	switch {
	case e.PercentOff != nil:
		return &promotionv1.Effect{Kind: &promotionv1.Effect_PercentOff{PercentOff: &promotionv1.PercentOff{
			BasisPoints: int32(e.PercentOff.BasisPoints), Scope: scopesOut[e.PercentOff.Scope], Cap: m(e.PercentOff.Cap)}}}
	case e.AmountOff != nil:
		return &promotionv1.Effect{Kind: &promotionv1.Effect_AmountOff{AmountOff: &promotionv1.AmountOff{
			Amount: money(cur, e.AmountOff.Amount), Mode: modesOut[e.AmountOff.Mode]}}}
	case e.Tiered != nil:
		st := &promotionv1.SpendTiers{}
		for _, t := range e.Tiered.Tiers {
			st.Tiers = append(st.Tiers, &promotionv1.SpendTier{Threshold: money(cur, t.Threshold), Amount: m(t.Amount), BasisPoints: int32(t.BasisPoints)})
		}
		if r := e.Tiered.Repeat; r != nil {
			st.Repeat = &promotionv1.RepeatTier{Every: money(cur, r.Every), Amount: money(cur, r.Amount), MaxCount: r.MaxCount}
		}
		return &promotionv1.Effect{Kind: &promotionv1.Effect_SpendTiers{SpendTiers: st}}
	case e.BuyXGetY != nil:
		b := e.BuyXGetY
		return &promotionv1.Effect{Kind: &promotionv1.Effect_BuyXGetY{BuyXGetY: &promotionv1.BuyXGetY{Buy: b.Buy, Get: b.Get,
			BasisPoints: int32(b.BasisPoints), MaxApplications: b.MaxApplications, GetSkus: b.GetSKUs, GetCategories: b.GetCategories}}}
	case e.Gift != nil:
		return &promotionv1.Effect{Kind: &promotionv1.Effect_Gift{Gift: &promotionv1.Gift{Sku: e.Gift.SKU, Quantity: e.Gift.Quantity}}}
	case e.FreeShipping != nil:
		return &promotionv1.Effect{Kind: &promotionv1.Effect_FreeShipping{FreeShipping: &promotionv1.FreeShipping{Cap: m(e.FreeShipping.Cap)}}}
	case e.FlashPrice != nil:
		return &promotionv1.Effect{Kind: &promotionv1.Effect_FlashPrice{FlashPrice: &promotionv1.FlashPrice{Sku: e.FlashPrice.SKU,
			UnitPrice: money(cur, e.FlashPrice.UnitPrice), PerCustomerUnits: e.FlashPrice.PerCustomerUnitLimit}}}
	}
	return nil
}

func toCart(c *promotionv1.Cart) pricing.Cart {
	out := pricing.Cart{CustomerID: c.GetCustomerId(), Currency: c.GetCurrencyCode(), Channel: c.GetChannel(),
		ShippingFee: c.GetShippingFee().GetAmountMinor(), Codes: c.GetCodes()}
	for _, l := range c.GetLines() {
		out.Lines = append(out.Lines, pricing.Line{ID: l.GetLineId(), SKU: l.GetSku(), Category: l.GetCategory(), Quantity: l.GetQuantity(),
			UnitPrice: l.GetUnitPrice().GetAmountMinor()})
	}
	return out
}

func fromResult(r pricing.Result) *promotionv1.Evaluation {
	cur := r.Currency
	out := &promotionv1.Evaluation{Subtotal: money(cur, r.Subtotal), ItemDiscount: money(cur, r.ItemDiscount), OrderDiscount: money(cur, r.OrderDiscount),
		ShippingFee: money(cur, r.ShippingFee), ShippingDiscount: money(cur, r.ShippingDiscount), Total: money(cur, r.Total)}
	for _, l := range r.Lines {
		out.Lines = append(out.Lines, &promotionv1.LineResult{LineId: l.LineID, Subtotal: money(cur, l.Subtotal), Discount: money(cur, l.Discount),
			FinalPrice: money(cur, l.Final)})
	}
	for _, g := range r.Gifts {
		out.Gifts = append(out.Gifts, &promotionv1.GiftLine{Sku: g.SKU, Quantity: g.Quantity, Promotion: g.PromotionID})
	}
	for _, a := range r.Applied {
		ap := &promotionv1.Applied{Promotion: a.PromotionID, Campaign: promotion.CampaignNames.Format(a.CampaignID), Code: a.Code,
			Discount: money(cur, a.Cost()), ShippingDiscount: money(cur, a.ShippingDiscount), Units: a.Units, GiftQuantity: a.GiftQuantity}
		for _, al := range a.Allocations {
			ap.Allocations = append(ap.Allocations, &promotionv1.Allocation{LineId: al.LineID, Amount: money(cur, al.Amount)})
		}
		out.Applied = append(out.Applied, ap)
	}
	for _, n := range r.NotApplied {
		out.NotApplied = append(out.NotApplied, &promotionv1.NotApplied{Promotion: n.PromotionID, Code: n.Code, ExcludedBy: n.ByPromotionID,
			Reason: promotionv1.NotAppliedReason(promotionv1.NotAppliedReason_value[string(n.Reason)]), Message: reasonMessage(n),
			Needed: n.Needed, Seen: n.Seen})
	}
	return out
}

var redemptionStates = map[promotion.RedemptionState]promotionv1.RedemptionState{
	promotion.Redeemed: promotionv1.RedemptionState_REDEMPTION_STATE_REDEEMED, promotion.PartiallyRefunded: promotionv1.RedemptionState_REDEMPTION_STATE_PARTIALLY_REFUNDED,
	promotion.Refunded: promotionv1.RedemptionState_REDEMPTION_STATE_REFUNDED, promotion.Cancelled: promotionv1.RedemptionState_REDEMPTION_STATE_CANCELLED,
}

func fromRedemption(r *promotion.Redemption) *promotionv1.Redemption {
	out := &promotionv1.Redemption{Name: promotion.RedemptionNames.Format(r.OrderID), OrderId: r.OrderID, CustomerId: r.CustomerID,
		State: redemptionStates[r.State], Evaluation: fromResult(r.Result), Released: money(r.Result.Currency, r.Released()),
		CreateTime: timestamp(r.CreateTime), UpdateTime: timestamp(r.UpdateTime)}
	for _, l := range r.Returned {
		out.Returned = append(out.Returned, &promotionv1.ReturnedLine{LineId: l.LineID, Quantity: l.Quantity})
	}
	return out
}

func fromCode(c promotion.Code) *promotionv1.Code {
	return &promotionv1.Code{Code: c.Code, MaxUses: c.MaxUses, Uses: c.Uses, CustomerId: c.CustomerID}
}

var opStates = map[promotion.OpState]promotionv1.OperationState{promotion.OpRunning: promotionv1.OperationState_OPERATION_STATE_RUNNING,
	promotion.OpSucceeded: promotionv1.OperationState_OPERATION_STATE_SUCCEEDED, promotion.OpFailed: promotionv1.OperationState_OPERATION_STATE_FAILED}

func fromOperation(op *promotion.Operation) *promotionv1.Operation {
	return &promotionv1.Operation{Name: promotion.OperationNames.Format(op.ID), Done: op.State != promotion.OpRunning, State: opStates[op.State],
		Promotion: promotion.PromotionNames.Format(op.CampaignID, op.PromotionID), CodesDone: op.Done, CodesTotal: op.Total,
		ErrorMessage: op.Error, CreateTime: timestamp(op.CreateTime), EndTime: timestamp(op.EndTime)}
}

// finite makes NaN and infinities 0 for JSON.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func fromReport(r *promotion.Report, now time.Time) *promotionv1.Report {
	c, f := r.Campaign, r.Figures
	cur := c.Currency
	out := &promotionv1.Report{Campaign: promotion.CampaignNames.Format(c.ID), Redemptions: f.Redemptions, DiscountCost: money(cur, f.DiscountCost),
		Revenue: money(cur, f.RedeemedRevenue), BudgetUsed: money(cur, c.BudgetUsed), HasHoldout: r.HasHoldout}
	if c.Budget > 0 {
		out.Budget = money(cur, c.Budget)
	}
	if r.HasHoldout {
		l := r.Lift
		group := func(g promotion.Group, cost int64) *promotionv1.GroupFigures {
			return &promotionv1.GroupFigures{Members: f.Members[g], Converters: f.Converters[g], Orders: f.Orders[g],
				Revenue: money(cur, f.Revenue[g]), DiscountCost: money(cur, cost)}
		}
		out.Treatment, out.Control = group(promotion.GroupTreatment, f.TreatmentCost), group(promotion.GroupControl, 0)
		out.LiftPoints = finite(l.Lift * 100)
		if l.LiftDefined {
			out.LiftCiLow, out.LiftCiHigh = finite(l.LiftLow*100), finite(l.LiftHigh*100)
		}
		out.IncrementalRevenue = money(cur, l.IncrementalRevenue)
		if l.ROIDefined {
			out.Roi = finite(l.ROI)
		}
	}
	for _, p := range f.Promotions {
		u := &promotionv1.PromotionUsage{Promotion: p.Name(), Uses: p.Uses, TotalUses: p.TotalUses, BudgetUsed: money(cur, p.BudgetUsed), StockUsed: p.StockUsed}
		if p.Budget > 0 {
			u.Budget = money(cur, p.Budget)
		}
		out.Promotions = append(out.Promotions, u)
	}
	for _, d := range f.Days {
		out.Days = append(out.Days, &promotionv1.DayFigures{Day: d.Day, Redemptions: d.Redemptions, DiscountCost: money(cur, d.DiscountCost),
			TreatmentOrders: d.TreatmentOrders, ControlOrders: d.ControlOrders, Revenue: money(cur, d.Revenue)})
	}
	_ = now
	return out
}
