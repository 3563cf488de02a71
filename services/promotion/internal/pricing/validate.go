package pricing

import (
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Field paths are relative to the promotion, in the API's snake_case
// ("conditions.min_subtotal", "effect.tiered.tiers[1].threshold"); the
// service prefixes them with the request field that holds the promotion.

// maxListLen is the most SKUs, categories or channels one list may hold.
const maxListLen = 1000

// maxTextLen is the longest id, SKU, category, channel or stack group.
const maxTextLen = 128

// Validate checks a promotion definition and returns the first problem as
// a *fielderr.Error, or nil.
func Validate(d Definition) error {
	v := &validator{}
	v.text("id", d.ID, true)
	v.text("campaign_id", d.CampaignID, true)
	if d.Kind != KindAutomatic && d.Kind != KindCode {
		v.fail("kind", "must be automatic or code", "")
	}
	if d.Stacking != Stackable && d.Stacking != Exclusive {
		v.fail("stacking", "must be stackable or exclusive", "")
	}
	v.text("stack_group", d.StackGroup, false)
	if !isCurrency(d.Currency) {
		v.fail("currency", fmt.Sprintf("must be an ISO 4217 code of three capital letters, got %s", fielderr.Quote(d.Currency)), "")
	}
	v.conditions(d.Conditions)
	v.effect(d.Effect)
	if v.err == nil {
		return nil // not a typed nil in the interface
	}
	return v.err
}

type validator struct{ err *fielderr.Error }

func (v *validator) fail(path, problem, fix string) {
	if v.err == nil {
		v.err = &fielderr.Error{Path: path, Problem: problem, Fix: fix}
	}
}

func (v *validator) text(path, s string, required bool) {
	switch {
	case s == "" && required:
		v.fail(path, "is empty", "send 1 to 128 characters")
	case len(s) > maxTextLen:
		v.fail(path, fmt.Sprintf("is %d bytes long", len(s)), "send at most 128 bytes")
	}
}

func (v *validator) list(path string, xs []string) {
	if len(xs) > maxListLen {
		v.fail(path, fmt.Sprintf("has %d entries", len(xs)), "send at most 1000")
		return
	}
	for i, x := range xs {
		v.text(fmt.Sprintf("%s[%d]", path, i), x, true)
	}
}

// amount checks 0 ≤ a ≤ MaxAmount, or 1 ≤ a when positive.
func (v *validator) amount(path string, a int64, positive bool) {
	v.bounded(path, a, positive, MaxAmount, "send an amount in minor units")
}

// count checks 0 ≤ n ≤ MaxQuantity, or 1 ≤ n when positive.
func (v *validator) count(path string, n int64, positive bool) {
	v.bounded(path, n, positive, MaxQuantity, "")
}

func (v *validator) bounded(path string, n int64, positive bool, most int64, positiveFix string) {
	switch {
	case positive && n <= 0:
		v.fail(path, fmt.Sprintf("must be positive, got %d", n), positiveFix)
	case n < 0:
		v.fail(path, fmt.Sprintf("must not be negative, got %d", n), "send 0 for none")
	case n > most:
		v.fail(path, fmt.Sprintf("is %d, over the largest allowed %d", n, most), "")
	}
}

func (v *validator) basisPoints(path string, bp int64) {
	if bp < 1 || bp > MaxBasisPoints {
		v.fail(path, fmt.Sprintf("must be 1 to 10000 (hundredths of a percent), got %d", bp), "send 1000 for 10 %")
	}
}

func (v *validator) conditions(c Conditions) {
	v.amount("conditions.min_subtotal", c.MinSubtotal, false)
	v.count("conditions.min_quantity", c.MinQuantity, false)
	v.list("conditions.include_skus", c.IncludeSKUs)
	v.list("conditions.include_categories", c.IncludeCategories)
	v.list("conditions.exclude_skus", c.ExcludeSKUs)
	v.list("conditions.exclude_categories", c.ExcludeCategories)
	v.list("conditions.channels", c.Channels)
	if w := c.Window; w != nil {
		v.window("conditions.window", w)
	}
}

func (v *validator) window(path string, w *Window) {
	if !w.From.IsZero() && !w.Until.IsZero() && !w.From.Before(w.Until) {
		v.fail(path+".until", "must be after from", "")
	}
	for i, d := range w.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			v.fail(fmt.Sprintf("%s.weekdays[%d]", path, i), fmt.Sprintf("is not a day of the week: %d", d), "")
		}
	}
	for _, f := range []struct {
		name string
		m    int
	}{{"daily_from", w.DailyFrom}, {"daily_until", w.DailyUntil}} {
		if f.m < 0 || f.m > 1440 {
			v.fail(path+"."+f.name, fmt.Sprintf("must be 0 to 1440 minutes after midnight, got %d", f.m), "")
		}
	}
	if w.DailyFrom == w.DailyUntil && w.DailyFrom != 0 {
		v.fail(path+".daily_until", "must differ from daily_from", "send both 0 for all day")
	}
	if w.TimeZone != "" {
		if _, err := time.LoadLocation(w.TimeZone); err != nil || len(w.TimeZone) > maxTextLen {
			v.fail(path+".time_zone", fmt.Sprintf("is not a known IANA time zone: %s", fielderr.Quote(w.TimeZone)), "send a name such as \"Europe/London\"")
		}
	}
}

func (v *validator) effect(e Effect) {
	n := 0
	for _, set := range []bool{e.PercentOff != nil, e.AmountOff != nil, e.Tiered != nil, e.BuyXGetY != nil,
		e.Gift != nil, e.FreeShipping != nil, e.FlashPrice != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.fail("effect", fmt.Sprintf("has %d effects set", n), "set exactly one of percent_off, amount_off, tiered, buy_x_get_y, gift, free_shipping, flash_price")
		return
	}
	switch {
	case e.PercentOff != nil:
		p := e.PercentOff
		if p.Scope != ScopeLines && p.Scope != ScopeOrder {
			v.fail("effect.percent_off.scope", "must be lines or order", "")
		}
		v.basisPoints("effect.percent_off.basis_points", p.BasisPoints)
		v.amount("effect.percent_off.cap", p.Cap, false)
	case e.AmountOff != nil:
		a := e.AmountOff
		if a.Mode < PerUnit || a.Mode > OnOrder {
			v.fail("effect.amount_off.mode", "must be per_unit, per_line, across_lines or on_order", "")
		}
		v.amount("effect.amount_off.amount", a.Amount, true)
	case e.Tiered != nil:
		v.tiered(e.Tiered)
	case e.BuyXGetY != nil:
		b := e.BuyXGetY
		v.count("effect.buy_x_get_y.buy", b.Buy, true)
		v.count("effect.buy_x_get_y.get", b.Get, true)
		v.basisPoints("effect.buy_x_get_y.basis_points", b.BasisPoints)
		v.count("effect.buy_x_get_y.max_applications", b.MaxApplications, false)
		v.list("effect.buy_x_get_y.get_skus", b.GetSKUs)
		v.list("effect.buy_x_get_y.get_categories", b.GetCategories)
	case e.Gift != nil:
		v.text("effect.gift.sku", e.Gift.SKU, true)
		v.count("effect.gift.quantity", e.Gift.Quantity, true)
	case e.FreeShipping != nil:
		v.amount("effect.free_shipping.cap", e.FreeShipping.Cap, false)
	case e.FlashPrice != nil:
		f := e.FlashPrice
		v.text("effect.flash_price.sku", f.SKU, true)
		v.amount("effect.flash_price.unit_price", f.UnitPrice, false)
		v.count("effect.flash_price.per_customer_unit_limit", f.PerCustomerUnitLimit, false)
	}
}

func (v *validator) tiered(t *Tiered) {
	const path = "effect.tiered"
	if (len(t.Tiers) == 0) == (t.Repeat == nil) {
		v.fail(path, "must have either tiers or repeat", "set tiers for best-tier-reached or repeat for every-X-spent")
		return
	}
	if r := t.Repeat; r != nil {
		v.amount(path+".repeat.every", r.Every, true)
		v.amount(path+".repeat.amount", r.Amount, true)
		v.count(path+".repeat.max_count", r.MaxCount, false)
		return
	}
	if len(t.Tiers) > 100 {
		v.fail(path+".tiers", fmt.Sprintf("has %d tiers", len(t.Tiers)), "send at most 100")
		return
	}
	seen := make(map[int64]int, len(t.Tiers))
	for i, tier := range t.Tiers {
		p := fmt.Sprintf("%s.tiers[%d]", path, i)
		v.amount(p+".threshold", tier.Threshold, true)
		if j, dup := seen[tier.Threshold]; dup {
			v.fail(p+".threshold", fmt.Sprintf("repeats the threshold of tiers[%d]", j), "give each tier its own threshold")
		}
		seen[tier.Threshold] = i
		if (tier.Amount == 0) == (tier.BasisPoints == 0) {
			v.fail(p, "must set exactly one of amount and basis_points", "")
			continue
		}
		if tier.Amount != 0 {
			v.amount(p+".amount", tier.Amount, true)
		} else {
			v.basisPoints(p+".basis_points", tier.BasisPoints)
		}
	}
}

// isCurrency reports whether s has the shape of an ISO 4217 code.
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
