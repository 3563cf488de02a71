package pricing

import (
	"slices"
	"testing"
)

// effectCase is one effect applied alone to a cart.
type effectCase struct {
	name      string
	cart      Cart
	def       Definition
	facts     []factOpt
	wantLines []int64
	wantScope Scope
	wantShip  int64
	wantUnits int64
}

func shirtLine(q int64) Line        { return lineC("shirts", "SHIRT", "shirts", q, 2000) }
func bxgyEffect(b BuyXGetY) Effect  { return Effect{BuyXGetY: &b} }
func tiersEffect(ts ...Tier) Effect { return Effect{Tiered: &Tiered{Tiers: ts}} }
func repeatEffect(every, amount, maxCount int64) Effect {
	return Effect{Tiered: &Tiered{Repeat: &Repeat{Every: every, Amount: amount, MaxCount: maxCount}}}
}
func flashEffect(price int64) Effect {
	return Effect{FlashPrice: &FlashPrice{SKU: "X", UnitPrice: price}}
}

// TestPercentAndAmountOff checks percentages and amounts off on hand-computed carts.
func TestPercentAndAmountOff(t *testing.T) {
	runEffectCases(t, []effectCase{
		{
			name: "percent off lines, rounded half up then split",
			cart: gbp(line("a", 1, 2999), line("b", 1, 1500), line("c", 1, 2500)),
			// 10 % of 6999 = 699.9 → 700; 700 over [2999, 1500, 2500] → [299.94, 150.02, 250.04] → [300, 150, 250]
			def:       promo("p", pctLines(1000)),
			wantLines: []int64{300, 150, 250}, wantScope: ScopeLines,
		},
		{
			name:      "percent off the order with a cap",
			cart:      gbp(line("a", 2, 5000), line("b", 1, 10000)),
			def:       promo("p", pctOrder(5000, 3000)),
			wantLines: []int64{1500, 1500}, wantScope: ScopeOrder,
		},
		{
			name:      "percent off eligible category only",
			cart:      gbp(lineC("a", "A", "shoes", 1, 10000), lineC("b", "B", "socks", 1, 999)),
			def:       promo("p", pctLines(2000), cond(func(c *Conditions) { c.IncludeCategories = []string{"shoes"} })),
			wantLines: []int64{2000, 0}, wantScope: ScopeLines,
		},
		{
			name:      "percent off, excluded SKU",
			cart:      gbp(lineC("a", "A", "shoes", 1, 10000), lineC("b", "B", "shoes", 1, 5000)),
			def:       promo("p", pctLines(1000), cond(func(c *Conditions) { c.ExcludeSKUs = []string{"B"} })),
			wantLines: []int64{1000, 0}, wantScope: ScopeLines,
		},
		{
			name:      "100 percent takes every line to zero",
			cart:      gbp(line("a", 3, 333), line("b", 1, 1)),
			def:       promo("p", pctLines(10000)),
			wantLines: []int64{999, 1}, wantScope: ScopeLines,
		},
		{
			name:      "amount per unit, capped at the line",
			cart:      gbp(line("a", 3, 500), line("b", 2, 50)),
			def:       promo("p", amountOff(PerUnit, 100)),
			wantLines: []int64{300, 100}, wantScope: ScopeLines,
		},
		{
			name:      "amount per unit, huge amount does not overflow",
			cart:      gbp(line("a", MaxQuantity, 1)),
			def:       promo("p", amountOff(PerUnit, MaxAmount)),
			wantLines: []int64{MaxQuantity}, wantScope: ScopeLines,
		},
		{
			name:      "amount once per line, capped at the line",
			cart:      gbp(line("a", 1, 1000), line("b", 1, 500)),
			def:       promo("p", amountOff(PerLine, 700)),
			wantLines: []int64{700, 500}, wantScope: ScopeLines,
		},
		{
			name:      "amount across lines, issue example",
			cart:      gbp(line("a", 1, 2999), line("b", 1, 1500), line("c", 1, 2500)),
			def:       promo("p", amountOff(AcrossLines, 1000)),
			wantLines: []int64{429, 214, 357}, wantScope: ScopeLines,
		},
		{
			name:      "amount across equal lines, ties to the lowest index",
			cart:      gbp(line("a", 1, 3000), line("b", 1, 3000), line("c", 1, 3000)),
			def:       promo("p", amountOff(AcrossLines, 1000)),
			wantLines: []int64{334, 333, 333}, wantScope: ScopeLines,
		},
		{
			name:      "amount off the order, refund example",
			cart:      gbp(line("A", 2, 3000), line("B", 1, 4000)),
			def:       promo("p", amountOff(OnOrder, 1000)),
			wantLines: []int64{600, 400}, wantScope: ScopeOrder,
		},
		{
			name:      "amount over the subtotal takes it all",
			cart:      gbp(line("a", 1, 1000), line("b", 1, 2000)),
			def:       promo("p", amountOff(OnOrder, 5000)),
			wantLines: []int64{1000, 2000}, wantScope: ScopeOrder,
		},
	})
}

// TestTiered checks spend-threshold tiers and repeats on hand-computed carts.
func TestTiered(t *testing.T) {
	runEffectCases(t, []effectCase{
		{
			name:      "tiers: between thresholds",
			cart:      gbp(line("a", 1, 25000)),
			def:       promo("p", tiersEffect(Tier{Threshold: 20000, Amount: 2500}, Tier{Threshold: 10000, Amount: 1000}, Tier{Threshold: 30000, BasisPoints: 1000})),
			wantLines: []int64{2500}, wantScope: ScopeOrder,
		},
		{
			name:      "tiers: equal reaches",
			cart:      gbp(line("a", 1, 20000)),
			def:       promo("p", tiersEffect(Tier{Threshold: 10000, Amount: 1000}, Tier{Threshold: 20000, Amount: 2500})),
			wantLines: []int64{2500}, wantScope: ScopeOrder,
		},
		{
			name:      "tiers: percent tier best",
			cart:      gbp(line("a", 1, 40000)),
			def:       promo("p", tiersEffect(Tier{Threshold: 10000, Amount: 1000}, Tier{Threshold: 20000, Amount: 2500}, Tier{Threshold: 30000, BasisPoints: 1000})),
			wantLines: []int64{4000}, wantScope: ScopeOrder,
		},
		{
			name:      "tiers: best is the largest discount, not the highest threshold",
			cart:      gbp(line("a", 1, 30000)),
			def:       promo("p", tiersEffect(Tier{Threshold: 10000, Amount: 3000}, Tier{Threshold: 20000, BasisPoints: 500})),
			wantLines: []int64{3000}, wantScope: ScopeOrder,
		},
		{
			name:      "repeat: every 30000, 5000 off, at most 2",
			cart:      gbp(line("a", 1, 50000), line("b", 1, 45000)),
			def:       promo("p", repeatEffect(30000, 5000, 2)),
			wantLines: []int64{5263, 4737}, wantScope: ScopeOrder,
		},
		{
			name:      "repeat: no maximum",
			cart:      gbp(line("a", 1, 95000)),
			def:       promo("p", repeatEffect(30000, 5000, 0)),
			wantLines: []int64{15000}, wantScope: ScopeOrder,
		},
	})
}

// TestBuyXGetY checks buy X get Y, same and distinct get sets on hand-computed carts.
func TestBuyXGetY(t *testing.T) {
	runEffectCases(t, []effectCase{
		{
			name: "buy 2 get 1 free: the cheapest of each group of three",
			cart: gbp(line("a", 1, 1000), line("b", 1, 800), line("c", 1, 600), line("d", 1, 500), line("e", 1, 300), line("f", 1, 200)),
			def:  promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000})),
			// dearest first: [a b c] [d e f] → c and f free
			wantLines: []int64{0, 0, 600, 0, 0, 200}, wantScope: ScopeLines,
		},
		{
			name:      "buy 2 get 1: lines out of price order, incomplete group left",
			cart:      gbp(line("e", 1, 300), line("a", 1, 1000), line("c", 1, 600), line("b", 1, 800), line("d", 1, 500)),
			def:       promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000})),
			wantLines: []int64{0, 0, 600, 0, 0}, wantScope: ScopeLines,
		},
		{
			name:      "buy 2 get 1: at most one application",
			cart:      gbp(line("a", 1, 1000), line("b", 1, 800), line("c", 1, 600), line("d", 1, 500), line("e", 1, 300), line("f", 1, 200)),
			def:       promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000, MaxApplications: 1})),
			wantLines: []int64{0, 0, 600, 0, 0, 0}, wantScope: ScopeLines,
		},
		{
			name: "buy 2 get 1: quantities span groups",
			cart: gbp(line("b", 2, 500), line("a", 4, 1000)),
			// units a a a | a b b → one a and one b free
			wantLines: []int64{500, 1000}, wantScope: ScopeLines,
			def: promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000})),
		},
		{
			name:      "buy 1 get 1 half price, rounded half up",
			cart:      gbp(line("a", 1, 1000), line("b", 1, 999)),
			def:       promo("p", bxgyEffect(BuyXGetY{Buy: 1, Get: 1, BasisPoints: 5000})),
			wantLines: []int64{0, 500}, wantScope: ScopeLines,
		},
		{
			name: "buy 2 shirts get 1 sock free: distinct get set, cheapest get unit",
			cart: gbp(shirtLine(3), lineC("s1", "SOCK1", "socks", 1, 500), lineC("s2", "SOCK2", "socks", 2, 300)),
			def: promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000, GetCategories: []string{"socks"}}),
				cond(func(c *Conditions) { c.IncludeCategories = []string{"shirts"} })),
			wantLines: []int64{0, 0, 300}, wantScope: ScopeLines,
		},
		{
			name: "distinct get set: two groups take both cheapest socks",
			cart: gbp(shirtLine(4), lineC("s1", "SOCK1", "socks", 1, 500), lineC("s2", "SOCK2", "socks", 2, 300)),
			def: promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000, GetSKUs: []string{"SOCK1", "SOCK2"}}),
				cond(func(c *Conditions) { c.IncludeCategories = []string{"shirts"} })),
			wantLines: []int64{0, 0, 600}, wantScope: ScopeLines,
		},
		{
			name: "distinct get set: three groups but only three get units… limited by get units",
			cart: gbp(shirtLine(8), lineC("s1", "SOCK1", "socks", 1, 500), lineC("s2", "SOCK2", "socks", 2, 300)),
			def: promo("p", bxgyEffect(BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000, GetCategories: []string{"socks"}}),
				cond(func(c *Conditions) { c.IncludeCategories = []string{"shirts"} })),
			wantLines: []int64{0, 500, 600}, wantScope: ScopeLines,
		},
	})
}

// TestShippingAndFlashPrice checks free shipping and flash prices on hand-computed carts.
func TestShippingAndFlashPrice(t *testing.T) {
	runEffectCases(t, []effectCase{
		{
			name:      "free shipping",
			cart:      Cart{Currency: "GBP", Lines: []Line{line("a", 1, 1000)}, ShippingFee: 499},
			def:       promo("p", Effect{FreeShipping: &FreeShipping{}}),
			wantLines: []int64{0}, wantShip: 499, wantScope: ScopeOrder,
		},
		{
			name:      "free shipping capped",
			cart:      Cart{Currency: "GBP", Lines: []Line{line("a", 1, 1000)}, ShippingFee: 499},
			def:       promo("p", Effect{FreeShipping: &FreeShipping{Cap: 300}}),
			wantLines: []int64{0}, wantShip: 300, wantScope: ScopeOrder,
		},
		{
			name:      "flash price on every unit",
			cart:      gbp(lineC("x", "X", "c", 3, 1500), line("y", 1, 1500)),
			def:       promo("p", flashEffect(999)),
			wantLines: []int64{1503, 0}, wantScope: ScopeLines, wantUnits: 3,
		},
		{
			name:      "flash price limited by stock",
			cart:      gbp(lineC("x", "X", "c", 3, 1500)),
			def:       promo("p", flashEffect(999)),
			facts:     []factOpt{func(f *Facts) { f.RemainingStock = 2 }},
			wantLines: []int64{1002}, wantScope: ScopeLines, wantUnits: 2,
		},
		{
			name:      "flash price limited by the customer's units, over two lines",
			cart:      gbp(lineC("x1", "X", "c", 1, 1500), lineC("x2", "X", "c", 2, 1200)),
			def:       promo("p", flashEffect(1000)),
			facts:     []factOpt{func(f *Facts) { f.RemainingCustomerUnits = 2; f.RemainingStock = 100 }},
			wantLines: []int64{500, 200}, wantScope: ScopeLines, wantUnits: 2,
		},
		{
			name:      "flash price skips a line already cheaper",
			cart:      gbp(lineC("x1", "X", "c", 1, 900), lineC("x2", "X", "c", 1, 1200)),
			def:       promo("p", flashEffect(1000)),
			facts:     []factOpt{func(f *Facts) { f.RemainingStock = 1 }},
			wantLines: []int64{0, 200}, wantScope: ScopeLines, wantUnits: 1,
		},
	})
}

// runEffectCases evaluates each case's promotion alone and checks its
// split, scope and totals.
func runEffectCases(t *testing.T, tests []effectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(tt.cart, []Candidate{cand(tt.def, tt.facts...)}, Context{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, tt.cart, r)
			if len(r.Applied) != 1 {
				t.Fatalf("applied %+v, not applied %+v; want p applied", r.Applied, r.NotApplied)
			}
			a := r.Applied[0]
			if got := lineDiscounts(r); !slices.Equal(got, tt.wantLines) {
				t.Errorf("line discounts %v, want %v", got, tt.wantLines)
			}
			if a.Scope != tt.wantScope || a.ShippingDiscount != tt.wantShip || a.Units != tt.wantUnits {
				t.Errorf("scope %v shipping %d units %d, want %v %d %d", a.Scope, a.ShippingDiscount, a.Units, tt.wantScope, tt.wantShip, tt.wantUnits)
			}
			var sum int64
			for _, d := range tt.wantLines {
				sum += d
			}
			wantItem, wantOrder := sum, int64(0)
			if tt.wantScope == ScopeOrder {
				wantItem, wantOrder = 0, sum
			}
			if r.ItemDiscount != wantItem || r.OrderDiscount != wantOrder {
				t.Errorf("item %d order %d, want %d %d", r.ItemDiscount, r.OrderDiscount, wantItem, wantOrder)
			}
		})
	}
}

func TestGift(t *testing.T) {
	d := promo("gift", Effect{Gift: &Gift{SKU: "TOTE", Quantity: 2}}, cond(func(c *Conditions) { c.MinSubtotal = 5000 }))
	c := gbp(line("a", 1, 6000))
	r, err := Evaluate(c, []Candidate{cand(d, func(f *Facts) { f.RemainingStock = 2; f.RemainingBudget = 0 })}, Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, c, r)
	want := []GiftLine{{PromotionID: "gift", SKU: "TOTE", Quantity: 2}}
	if !slices.Equal(r.Gifts, want) || len(r.Applied) != 1 || r.Applied[0].GiftQuantity != 2 || r.Applied[0].Cost() != 0 || r.Total != 6000 {
		t.Fatalf("gifts %+v applied %+v total %d, want %+v, one applied costing 0, total 6000", r.Gifts, r.Applied, r.Total, want)
	}
}

// TestSequential checks the example: promotions apply on the
// prices left by the ones before.
func TestSequential(t *testing.T) {
	c := gbp(line("a", 1, 20000))
	r, err := Evaluate(c, cands(promo("first", pctLines(1000), prio(2)), promo("second", pctLines(1000), prio(1))), Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, c, r)
	if len(r.Applied) != 2 || r.Applied[0].Amount != 2000 || r.Applied[1].Amount != 1800 || r.Total != 16200 {
		t.Fatalf("applied %+v total %d, want 2000 then 1800, total 16200", r.Applied, r.Total)
	}
	// An order discount after a line discount splits over what is left.
	c = gbp(line("a", 1, 10000), line("b", 1, 10000))
	r, err = Evaluate(c, cands(
		promo("lines", pctLines(5000), prio(2), cond(func(c *Conditions) { c.IncludeSKUs = []string{"sku-a"} })),
		promo("order", amountOff(OnOrder, 1500), prio(1))), Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, c, r)
	// order 1500 over [5000, 10000] → [500, 1000]
	if got := allocations(r, "order", 2); !slices.Equal(got, []int64{500, 1000}) {
		t.Fatalf("order allocations %v, want [500 1000]", got)
	}
	if got := lineDiscounts(r); !slices.Equal(got, []int64{5500, 1000}) {
		t.Fatalf("line discounts %v, want [5500 1000]", got)
	}
}
