package pricing

import (
	"fmt"
	"testing"
)

// bytesource turns fuzz input into choices; it yields zeros once spent.
type bytesource struct {
	b []byte
	i int
}

func (s *bytesource) byte() byte {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

// intn returns a number in [0, n).
func (s *bytesource) intn(n int64) int64 {
	v := uint64(s.byte()) | uint64(s.byte())<<8 | uint64(s.byte())<<16 | uint64(s.byte())<<24
	return int64(v % uint64(n))
}

// amount returns a price: mostly small, sometimes near the bound.
func (s *bytesource) amount(bound int64) int64 {
	switch s.byte() % 8 {
	case 0:
		return 0
	case 1:
		return s.intn(bound + 1)
	default:
		return s.intn(min(bound, 100000) + 1)
	}
}

func fuzzCart(s *bytesource) Cart {
	c := Cart{Currency: "GBP", Channel: []string{"web", "app"}[s.byte()%2]}
	n := 1 + int(s.byte()%8)
	if s.byte()%8 == 0 {
		n = 1 + int(s.byte()%60) // enough lines for large splits
	}
	left := MaxAmount
	for i := range n {
		q := 1 + s.intn(5)
		if s.byte()%16 == 0 {
			q = 1 + s.intn(MaxQuantity)
		}
		price := s.amount(left / q)
		left -= q * price
		c.Lines = append(c.Lines, Line{ID: fmt.Sprint("l", i), SKU: fmt.Sprint("s", s.byte()%4), Category: fmt.Sprint("c", s.byte()%3), Quantity: q, UnitPrice: price})
	}
	c.ShippingFee = s.amount(MaxAmount)
	return c
}

func fuzzEffect(s *bytesource) Effect {
	bp := 1 + s.intn(MaxBasisPoints)
	switch s.byte() % 9 {
	case 0:
		return Effect{PercentOff: &PercentOff{Scope: Scope(1 + s.byte()%2), BasisPoints: bp, Cap: s.amount(MaxAmount)}}
	case 1:
		return Effect{AmountOff: &AmountOff{Mode: AmountMode(1 + s.byte()%4), Amount: 1 + s.amount(MaxAmount-1)}}
	case 2:
		var ts []Tier
		var threshold int64
		for range 1 + int(s.byte()%3) {
			threshold += 1 + s.amount(MaxAmount/4) // each tier above the last
			t := Tier{Threshold: threshold}
			if s.byte()%2 == 0 {
				t.Amount = 1 + s.amount(MaxAmount-1)
			} else {
				t.BasisPoints = bp
			}
			ts = append(ts, t)
		}
		return Effect{Tiered: &Tiered{Tiers: ts}}
	case 3:
		return Effect{Tiered: &Tiered{Repeat: &Repeat{Every: 1 + s.amount(MaxAmount-1), Amount: 1 + s.amount(MaxAmount-1), MaxCount: s.intn(4)}}}
	case 4:
		b := &BuyXGetY{Buy: 1 + s.intn(3), Get: 1 + s.intn(3), BasisPoints: bp, MaxApplications: s.intn(3)}
		if s.byte()%2 == 0 {
			b.GetSKUs = []string{fmt.Sprint("s", s.byte()%4)}
		}
		return Effect{BuyXGetY: b}
	case 5:
		return Effect{Gift: &Gift{SKU: "gift", Quantity: 1 + s.intn(3)}}
	case 6:
		return Effect{FreeShipping: &FreeShipping{Cap: s.amount(MaxAmount)}}
	default:
		return Effect{FlashPrice: &FlashPrice{SKU: fmt.Sprint("s", s.byte()%4), UnitPrice: s.amount(MaxAmount)}}
	}
}

func fuzzCandidates(s *bytesource) []Candidate {
	var out []Candidate
	for i := range 1 + int(s.byte()%8) {
		d := Definition{
			ID: fmt.Sprint("p", i), CampaignID: fmt.Sprint("c", s.byte()%2), Kind: KindAutomatic,
			Priority: int32(s.byte() % 4), Stacking: Stacking(1 + s.byte()%2), Currency: "GBP", Effect: fuzzEffect(s),
		}
		if s.byte()%4 == 0 {
			d.Stacking = Stackable
			d.StackGroup = "g"
		}
		switch s.byte() % 4 {
		case 0:
			d.Conditions.IncludeSKUs = []string{fmt.Sprint("s", s.byte()%4)}
		case 1:
			d.Conditions.ExcludeCategories = []string{fmt.Sprint("c", s.byte()%3)}
		case 2:
			d.Conditions.MinSubtotal = s.amount(MaxAmount)
		}
		f := OpenFacts()
		if s.byte()%4 == 0 {
			f.RemainingBudget = s.amount(MaxAmount)
		}
		if s.byte()%4 == 0 {
			f.RemainingCampaignBudget = s.amount(MaxAmount)
		}
		if s.byte()%4 == 0 {
			f.RemainingStock = s.intn(5)
			f.RemainingCustomerUnits = s.intn(5)
		}
		p, err := Compile(d)
		if err != nil {
			panic(fmt.Sprintf("fuzz built an invalid definition: %v", err))
		}
		out = append(out, Candidate{Promotion: p, Facts: f})
	}
	return out
}

// FuzzEvaluate checks the invariants of every result: totals add up, no
// line goes negative, splits add up, budgets hold, every candidate is
// either applied or reported once; and that a full refund releases
// exactly what the promotions took.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte("seed"))
	f.Add([]byte{7, 1, 200, 3, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte{255, 254, 253, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &bytesource{b: data}
		c := fuzzCart(s)
		cs := fuzzCandidates(s)
		r, err := Evaluate(c, cs, Context{Now: now})
		if err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		checkInvariants(t, c, r)
		facts := map[string]Facts{}
		for _, cd := range cs {
			facts[cd.Promotion.ID()] = cd.Facts
		}
		seen := map[string]int{}
		spent := map[string]int64{} // campaign → cost of the promotions applied so far
		for _, a := range r.Applied {
			seen[a.PromotionID]++
			f := facts[a.PromotionID]
			if a.Cost() > f.RemainingBudget || spent[a.CampaignID]+a.Cost() > f.RemainingCampaignBudget {
				t.Fatalf("%s cost %d over its budget %d or its campaign's %d (%d spent before)", a.PromotionID, a.Cost(), f.RemainingBudget, f.RemainingCampaignBudget, spent[a.CampaignID])
			}
			spent[a.CampaignID] += a.Cost()
		}
		for _, n := range r.NotApplied {
			seen[n.PromotionID]++
		}
		for _, cd := range cs {
			if seen[cd.Promotion.ID()] != 1 {
				t.Fatalf("%s reported %d times", cd.Promotion.ID(), seen[cd.Promotion.ID()])
			}
		}
		checkFullRefund(t, c, r.Applied, s)
	})
}

// checkFullRefund returns the whole order in random steps and checks each
// promotion gets back exactly its cost.
func checkFullRefund(t *testing.T, c Cart, applied []Applied, s *bytesource) {
	t.Helper()
	lines := make([]OrderLine, len(c.Lines))
	left := make([]int64, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = OrderLine{LineID: l.ID, Quantity: l.Quantity}
		left[i] = l.Quantity
	}
	released := map[string]int64{}
	var before []ReturnedLine
	for step := 0; ; step++ {
		var now []ReturnedLine
		for i := range left {
			if left[i] == 0 || s.byte()%2 == 0 && step < 6 {
				continue
			}
			n := left[i]
			if step < 6 {
				n = 1 + s.intn(left[i])
			}
			now = append(now, ReturnedLine{LineID: c.Lines[i].ID, Quantity: n})
			left[i] -= n
		}
		rel, err := ReleaseRefund(lines, applied, before, now)
		if err != nil {
			t.Fatalf("ReleaseRefund: %v", err)
		}
		for _, p := range rel.Promotions {
			if p.Amount < 0 {
				t.Fatalf("negative release %+v", p)
			}
			released[p.PromotionID] += p.Amount
		}
		before = append(before, now...)
		if rel.AllReturned {
			break
		}
		if step > 100 {
			t.Fatal("never all returned")
		}
	}
	for _, a := range applied {
		if released[a.PromotionID] != a.Cost() {
			t.Fatalf("%s: released %d over a full return, want its cost %d", a.PromotionID, released[a.PromotionID], a.Cost())
		}
	}
}

// FuzzReleaseRefund checks, on arbitrary allocations, that successive
// partial refunds never release a negative amount and add up exactly to
// every allocation once everything is returned.
func FuzzReleaseRefund(f *testing.F) {
	f.Add([]byte("refund"))
	f.Add([]byte{3, 200, 100, 50, 7, 7, 7, 1, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &bytesource{b: data}
		var lines []OrderLine
		for i := range 1 + int(s.byte()%6) {
			q := 1 + s.intn(10)
			if s.byte()%8 == 0 {
				q = 1 + s.intn(MaxQuantity)
			}
			lines = append(lines, OrderLine{LineID: fmt.Sprint("l", i), Quantity: q})
		}
		var applied []Applied
		for p := range 1 + int(s.byte()%4) {
			a := Applied{PromotionID: fmt.Sprint("p", p), ShippingDiscount: s.amount(1000)}
			for i, l := range lines {
				if amt := s.amount(MaxAmount / 10); amt > 0 {
					a.Allocations = append(a.Allocations, Allocation{LineID: l.LineID, LineIndex: i, Amount: amt})
					a.Amount += amt
				}
			}
			applied = append(applied, a)
		}
		c := Cart{}
		for _, l := range lines {
			c.Lines = append(c.Lines, Line{ID: l.LineID, Quantity: l.Quantity})
		}
		checkFullRefund(t, c, applied, s)
	})
}
