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
		ShippingFee: c.GetShippingFee().GetAmountMinor(), Codes: c.GetCodes(), Lines: make([]pricing.Line, 0, len(c.GetLines()))}
	for _, l := range c.GetLines() {
		out.Lines = append(out.Lines, pricing.Line{ID: l.GetLineId(), SKU: l.GetSku(), Category: l.GetCategory(), Quantity: l.GetQuantity(),
			UnitPrice: l.GetUnitPrice().GetAmountMinor()})
	}
	return out
}

// fromResult converts an evaluation. A result of many promotions and lines
// holds hundreds of messages and texts, so they come from a few slabs (see
// ptrs, moneys and texts) rather than one allocation each.
func fromResult(r pricing.Result) *promotionv1.Evaluation {
	allocs := 0
	for _, a := range r.Applied {
		allocs += len(a.Allocations)
	}
	m := moneys{cur: r.Currency, slab: make([]typev1.Money, 6+3*len(r.Lines)+2*len(r.Applied)+allocs)}
	t := newTexts(len(r.Applied) + len(r.NotApplied))
	out := &promotionv1.Evaluation{Subtotal: m.of(r.Subtotal), ItemDiscount: m.of(r.ItemDiscount), OrderDiscount: m.of(r.OrderDiscount),
		ShippingFee: m.of(r.ShippingFee), ShippingDiscount: m.of(r.ShippingDiscount), Total: m.of(r.Total)}
	out.Lines = ptrs[promotionv1.LineResult](len(r.Lines))
	for i, l := range r.Lines {
		o := out.Lines[i]
		o.LineId, o.Subtotal, o.Discount, o.FinalPrice = l.LineID, m.of(l.Subtotal), m.of(l.Discount), m.of(l.Final)
	}
	for _, g := range r.Gifts {
		out.Gifts = append(out.Gifts, &promotionv1.GiftLine{Sku: g.SKU, Quantity: g.Quantity, Promotion: g.PromotionID})
	}
	out.Applied = fromApplied(r.Applied, &m, &t, ptrs[promotionv1.Allocation](allocs))
	out.NotApplied = ptrs[promotionv1.NotApplied](len(r.NotApplied))
	for i, n := range r.NotApplied {
		o := out.NotApplied[i]
		o.Promotion, o.Code, o.ExcludedBy, o.Needed, o.Seen = n.PromotionID, n.Code, n.ByPromotionID, n.Needed, n.Seen
		o.Reason = promotionv1.NotAppliedReason(promotionv1.NotAppliedReason_value[string(n.Reason)])
		start := len(t.buf)
		t.buf = appendReason(t.buf, n)
		t.keep(&o.Message, start)
	}
	t.done()
	return out
}

// fromApplied converts the applied promotions, taking their allocations
// from allocs in order; their campaign names go through t.
func fromApplied(applied []pricing.Applied, m *moneys, t *texts, allocs []*promotionv1.Allocation) []*promotionv1.Applied {
	out := ptrs[promotionv1.Applied](len(applied))
	for i, a := range applied {
		o := out[i]
		start := len(t.buf)
		t.buf = promotion.CampaignNames.Append(t.buf, a.CampaignID)
		t.keep(&o.Campaign, start)
		o.Promotion, o.Code = a.PromotionID, a.Code
		o.Discount, o.ShippingDiscount, o.Units, o.GiftQuantity = m.of(a.Cost()), m.of(a.ShippingDiscount), a.Units, a.GiftQuantity
		if k := len(a.Allocations); k > 0 {
			o.Allocations, allocs = allocs[:k:k], allocs[k:]
		}
		for j, al := range a.Allocations {
			o.Allocations[j].LineId, o.Allocations[j].Amount = al.LineID, m.of(al.Amount)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// texts gathers the texts of one response (reason messages, campaign
// names) in one buffer and makes them substrings of one string, so a
// hundred texts cost a few allocations instead of a few each. A caller
// appends a text to buf and then keeps it for the field it belongs in;
// done fills the fields.
type texts struct {
	buf   []byte
	spans []textSpan
}

// textSpan is where a text lies in texts.buf and the field it goes to.
type textSpan struct {
	dst        *string
	start, end int32
}

// newTexts is room for n texts of a typical length.
func newTexts(n int) texts {
	return texts{buf: make([]byte, 0, 32*n), spans: make([]textSpan, 0, n)}
}

// keep records that buf[start:] is dst's text; an empty one leaves dst "".
func (t *texts) keep(dst *string, start int) {
	if len(t.buf) > start {
		t.spans = append(t.spans, textSpan{dst: dst, start: int32(start), end: int32(len(t.buf))})
	}
}

// done sets every kept field to its text.
func (t *texts) done() {
	s := string(t.buf)
	for _, sp := range t.spans {
		*sp.dst = s[sp.start:sp.end]
	}
}

// moneys hands out Money messages of one currency from a slab.
type moneys struct {
	cur  string
	slab []typev1.Money
}

func (m *moneys) of(minor int64) *typev1.Money {
	if len(m.slab) == 0 {
		return money(m.cur, minor)
	}
	v := &m.slab[0]
	m.slab = m.slab[1:]
	v.CurrencyCode, v.AmountMinor = m.cur, minor
	return v
}

// ptrs returns n new zero messages, allocated together; nil for none.
func ptrs[T any](n int) []*T {
	if n == 0 {
		return nil
	}
	vals, out := make([]T, n), make([]*T, n)
	for i := range vals {
		out[i] = &vals[i]
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
