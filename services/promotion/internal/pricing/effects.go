package pricing

import (
	"math/bits"
	"slices"
)

// effectResult is what an effect takes: s.parts holds the line parts
// (indexed like s.elig), lines their sum.
type effectResult struct {
	scope Scope
	lines int64
	ship  int64
	units int64 // flash units sold
	gift  int64 // gift units given
}

// effect computes p's effect on the eligible lines in s.elig into s.parts,
// or the reason it gives nothing.
func (s *state) effect(p *Promotion, f *Facts) (effectResult, Reason, int64, int64) {
	for k := range s.elig {
		s.parts[k] = 0
	}
	e := &p.def.Effect
	var r effectResult
	switch {
	case e.PercentOff != nil:
		r = s.percentOff(e.PercentOff)
	case e.AmountOff != nil:
		r = s.amountOff(e.AmountOff)
	case e.Tiered != nil:
		var reason Reason
		var needed, seen int64
		if r, reason, needed, seen = s.tiered(p); reason != "" {
			return r, reason, needed, seen
		}
	case e.BuyXGetY != nil:
		r = s.buyXGetY(p)
	case e.Gift != nil:
		return effectResult{scope: ScopeOrder, gift: e.Gift.Quantity}, "", 0, 0
	case e.FreeShipping != nil:
		d := s.shipLeft
		if c := e.FreeShipping.Cap; c > 0 {
			d = min(d, c)
		}
		r = effectResult{scope: ScopeOrder, ship: d}
	case e.FlashPrice != nil:
		r = s.flashPrice(e.FlashPrice, f)
	}
	if r.lines == 0 && r.ship == 0 {
		return r, ReasonNothingToDiscount, 0, 0
	}
	return r, "", 0, 0
}

// eligibleWeights fills s.weights with the eligible lines' current
// amounts and returns their sum.
func (s *state) eligibleWeights() int64 {
	var sum int64
	for k, i := range s.elig {
		s.weights[k] = s.cur[i]
		sum += s.cur[i]
	}
	return sum
}

// spread splits total over the eligible lines' current amounts.
func (s *state) spread(total int64) {
	n := len(s.elig)
	split(total, s.weights[:n], s.parts[:n], s.rems[:n])
}

func (s *state) percentOff(e *PercentOff) effectResult {
	sub := s.eligibleWeights()
	d := percentOf(sub, e.BasisPoints)
	if e.Cap > 0 {
		d = min(d, e.Cap)
	}
	s.spread(d)
	return effectResult{scope: e.Scope, lines: d}
}

func (s *state) amountOff(e *AmountOff) effectResult {
	sub := s.eligibleWeights()
	switch e.Mode {
	case PerUnit, PerLine:
		var total int64
		for k, i := range s.elig {
			cur, q := s.cur[i], s.cart.Lines[i].Quantity
			part := min(e.Amount, cur)
			if e.Mode == PerUnit {
				part = cur // Amount × q is more than cur when Amount > ⌊cur / q⌋
				if e.Amount <= cur/q {
					part = e.Amount * q
				}
			}
			s.parts[k] = part
			total += part
		}
		return effectResult{scope: ScopeLines, lines: total}
	default: // AcrossLines, OnOrder
		d := min(e.Amount, sub)
		s.spread(d)
		scope := ScopeLines
		if e.Mode == OnOrder {
			scope = ScopeOrder
		}
		return effectResult{scope: scope, lines: d}
	}
}

// tiered applies the best tier reached (largest discount, ties to the
// higher threshold) or the repeat rule.
func (s *state) tiered(p *Promotion) (effectResult, Reason, int64, int64) {
	t := p.def.Effect.Tiered
	sub := s.eligibleWeights()
	var d int64
	if r := t.Repeat; r != nil {
		n := sub / r.Every
		if n == 0 {
			return effectResult{}, ReasonMinSubtotalNotMet, r.Every, sub
		}
		if r.MaxCount > 0 {
			n = min(n, r.MaxCount)
		}
		d = sub // n × Amount is more than sub when Amount > ⌊sub / n⌋
		if r.Amount <= sub/n {
			d = n * r.Amount
		}
	} else {
		if sub < p.tiers[0].Threshold {
			return effectResult{}, ReasonMinSubtotalNotMet, p.tiers[0].Threshold, sub
		}
		for _, tier := range p.tiers { // ascending thresholds
			if tier.Threshold > sub {
				break
			}
			v := tier.Amount
			if tier.BasisPoints > 0 {
				v = percentOf(sub, tier.BasisPoints)
			}
			if v >= d {
				d = v
			}
		}
	}
	d = min(d, sub)
	s.spread(d)
	return effectResult{scope: ScopeOrder, lines: d}, "", 0, 0
}

// unitDearer orders line indices by current unit value (amount ÷
// quantity), dearest first, ties to the lower index.
func (s *state) unitDearer(a, b int) int {
	// a is dearer when cur[a] × q[b] > cur[b] × q[a], compared in 128 bits.
	ah, al := bits.Mul64(uint64(s.cur[a]), uint64(s.cart.Lines[b].Quantity))
	bh, bl := bits.Mul64(uint64(s.cur[b]), uint64(s.cart.Lines[a].Quantity))
	switch {
	case ah > bh || ah == bh && al > bl:
		return -1
	case ah < bh || ah == bh && al < bl:
		return 1
	}
	return a - b
}

// buyXGetY discounts the get units; see BuyXGetY for the policy.
//
// Same set: the eligible units are ordered by current unit value, dearest
// first (ties to the lower line index), and taken in groups of Buy + Get;
// in each complete group (at most MaxApplications groups) the last Get
// units, the group's cheapest, are discounted.
//
// Distinct get set: the buy units are the eligible lines outside the get
// set; the number of groups is ⌊buy units ÷ Buy⌋, at most ⌊get units ÷
// Get⌋ and MaxApplications; the groups × Get cheapest units of the get
// set (lines in the get set not excluded by the exclusion lists, ties to
// the lower line index) are discounted.
//
// Either way the discounted units of a line are valued at its current
// amount × units ÷ quantity, rounded half up; the percentage is taken of
// the sum of those values, rounded half up, and split over them.
func (s *state) buyXGetY(p *Promotion) effectResult {
	b := p.def.Effect.BuyXGetY
	s.idx = append(s.idx[:0], s.elig...)
	slices.SortFunc(s.idx, s.unitDearer)
	if !p.distinctGetSet() {
		group := b.Buy + b.Get
		var total int64
		for _, i := range s.idx {
			total += s.cart.Lines[i].Quantity
		}
		groups := total / group
		if b.MaxApplications > 0 {
			groups = min(groups, b.MaxApplications)
		}
		end := groups * group
		// free(n) counts the discounted positions below n.
		free := func(n int64) int64 {
			n = min(n, end)
			return n/group*b.Get + max(0, n%group-b.Buy)
		}
		var pos int64
		for _, i := range s.idx {
			q := s.cart.Lines[i].Quantity
			s.units[i] = free(pos+q) - free(pos)
			pos += q
		}
	} else {
		var buyUnits int64
		for _, i := range s.elig {
			buyUnits += s.cart.Lines[i].Quantity
		}
		s.elig = s.elig[:0]
		var getUnits int64
		for i := range s.cart.Lines {
			l := &s.cart.Lines[i]
			if p.inGetSet(l) && !p.excluded(l) {
				s.elig = append(s.elig, i)
				getUnits += l.Quantity
			}
		}
		groups := min(buyUnits/b.Buy, getUnits/b.Get)
		if b.MaxApplications > 0 {
			groups = min(groups, b.MaxApplications)
		}
		left := groups * b.Get
		s.idx = append(s.idx[:0], s.elig...)
		slices.SortFunc(s.idx, s.unitDearer)
		for k := len(s.idx) - 1; k >= 0; k-- { // cheapest first
			i := s.idx[k]
			take := min(left, s.cart.Lines[i].Quantity)
			s.units[i] = take
			left -= take
		}
	}
	var sum int64
	for k, i := range s.elig {
		var v int64
		if u := s.units[i]; u > 0 {
			v = mulDivHalfUp(s.cur[i], u, s.cart.Lines[i].Quantity)
		}
		s.weights[k] = v
		sum += v
		s.units[i] = 0
	}
	d := percentOf(sum, b.BasisPoints)
	s.spread(d)
	return effectResult{scope: ScopeLines, lines: d}
}

// flashPrice sells the flash SKU's units at the flash price, in line
// order, up to the stock and the customer's units left; a line's units
// are valued at its current amount × units ÷ quantity (half up), and a
// line already at or below the flash price takes nothing and no stock.
func (s *state) flashPrice(e *FlashPrice, f *Facts) effectResult {
	left := min(f.RemainingStock, f.RemainingCustomerUnits)
	var total, units int64
	for k, i := range s.elig {
		if left == 0 {
			break
		}
		q := s.cart.Lines[i].Quantity
		take := min(q, left)
		value := mulDivHalfUp(s.cur[i], take, q)
		if e.UnitPrice > value/take { // take × price > value: nothing off
			continue
		}
		part := value - take*e.UnitPrice
		if part == 0 {
			continue
		}
		s.parts[k] = part
		total += part
		units += take
		left -= take
	}
	return effectResult{scope: ScopeLines, lines: total, units: units}
}
