package pricing

import (
	"slices"
	"testing"
	"time"
)

// now is a Wednesday, 10:00 UTC.
var now = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

type defOpt func(*Definition)

func promo(id string, e Effect, opts ...defOpt) Definition {
	d := Definition{ID: id, CampaignID: "camp", Kind: KindAutomatic, Stacking: Stackable, Currency: "GBP", Effect: e}
	for _, o := range opts {
		o(&d)
	}
	return d
}

func prio(p int32) defOpt             { return func(d *Definition) { d.Priority = p } }
func exclusive() defOpt               { return func(d *Definition) { d.Stacking = Exclusive } }
func group(g string) defOpt           { return func(d *Definition) { d.StackGroup = g } }
func campaign(c string) defOpt        { return func(d *Definition) { d.CampaignID = c } }
func codeKind() defOpt                { return func(d *Definition) { d.Kind = KindCode } }
func currency(c string) defOpt        { return func(d *Definition) { d.Currency = c } }
func cond(f func(*Conditions)) defOpt { return func(d *Definition) { f(&d.Conditions) } }

func pctLines(bp int64) Effect {
	return Effect{PercentOff: &PercentOff{Scope: ScopeLines, BasisPoints: bp}}
}
func pctOrder(bp, capAmount int64) Effect {
	return Effect{PercentOff: &PercentOff{Scope: ScopeOrder, BasisPoints: bp, Cap: capAmount}}
}
func amountOff(m AmountMode, a int64) Effect {
	return Effect{AmountOff: &AmountOff{Mode: m, Amount: a}}
}

func line(id string, q, price int64) Line {
	return Line{ID: id, SKU: "sku-" + id, Category: "cat", Quantity: q, UnitPrice: price}
}

func lineC(id, sku, cat string, q, price int64) Line {
	return Line{ID: id, SKU: sku, Category: cat, Quantity: q, UnitPrice: price}
}

func gbp(lines ...Line) Cart {
	return Cart{CustomerID: "cust", Currency: "GBP", Channel: "web", Lines: lines}
}

type factOpt func(*Facts)

func cand(d Definition, opts ...factOpt) Candidate {
	f := OpenFacts()
	for _, o := range opts {
		o(&f)
	}
	return Candidate{Promotion: MustCompile(d), Facts: f}
}

func cands(ds ...Definition) []Candidate {
	out := make([]Candidate, len(ds))
	for i, d := range ds {
		out[i] = cand(d)
	}
	return out
}

// lineDiscounts returns each line's discount.
func lineDiscounts(r Result) []int64 {
	out := make([]int64, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = l.Discount
	}
	return out
}

// allocations returns an applied promotion's parts by line index.
func allocations(r Result, id string, n int) []int64 {
	out := make([]int64, n)
	for _, a := range r.Applied {
		if a.PromotionID == id {
			for _, al := range a.Allocations {
				out[al.LineIndex] = al.Amount
			}
		}
	}
	return out
}

// checkInvariants checks what every result must satisfy.
func checkInvariants(t *testing.T, c Cart, r Result) {
	t.Helper()
	var sum, itemOrder, lineDisc int64
	for i, l := range r.Lines {
		if l.Final < 0 || l.Discount < 0 {
			t.Fatalf("line %d: final %d discount %d, want both ≥ 0", i, l.Final, l.Discount)
		}
		if l.Subtotal != c.Lines[i].Quantity*c.Lines[i].UnitPrice || l.Final != l.Subtotal-l.Discount {
			t.Fatalf("line %d: subtotal %d final %d discount %d do not add up", i, l.Subtotal, l.Final, l.Discount)
		}
		sum += l.Final
		lineDisc += l.Discount
	}
	if r.ShippingDiscount < 0 || r.ShippingDiscount > r.ShippingFee {
		t.Fatalf("shipping discount %d of fee %d", r.ShippingDiscount, r.ShippingFee)
	}
	if want := sum + r.ShippingFee - r.ShippingDiscount; r.Total != want {
		t.Fatalf("total %d, want Σ final + shipping − shipping discount = %d", r.Total, want)
	}
	perLine := make([]int64, len(r.Lines))
	var ship int64
	for _, a := range r.Applied {
		var s int64
		for _, al := range a.Allocations {
			if al.Amount <= 0 || c.Lines[al.LineIndex].ID != al.LineID {
				t.Fatalf("%s: bad allocation %+v", a.PromotionID, al)
			}
			s += al.Amount
			perLine[al.LineIndex] += al.Amount
		}
		if s != a.Amount {
			t.Fatalf("%s: allocations sum to %d, want its amount %d", a.PromotionID, s, a.Amount)
		}
		itemOrder += a.Amount
		ship += a.ShippingDiscount
	}
	if !slices.Equal(perLine, lineDiscounts(r)) {
		t.Fatalf("allocations per line %v, want the line discounts %v", perLine, lineDiscounts(r))
	}
	if itemOrder != r.ItemDiscount+r.OrderDiscount || itemOrder != lineDisc || ship != r.ShippingDiscount {
		t.Fatalf("item %d + order %d discounts, applied %d, lines %d, shipping %d vs %d", r.ItemDiscount, r.OrderDiscount, itemOrder, lineDisc, ship, r.ShippingDiscount)
	}
}
