package pricing

import (
	"testing"
	"time"
)

// TestReasons checks every reason a candidate can fail with, and that the
// cart still gets the promotions that do apply.
func TestReasons(t *testing.T) {
	base := gbp(line("a", 2, 5000)) // subtotal 10000
	ten := pctLines(1000)
	window := func(w Window) defOpt { return cond(func(c *Conditions) { c.Window = &w }) }
	facts := func(f func(*Facts)) []factOpt { return []factOpt{f} }
	tests := []struct {
		name       string
		cart       Cart
		def        Definition
		facts      []factOpt
		ctx        Context
		want       Reason
		wantNeeded int64
		wantSeen   int64
	}{
		{name: "currency", def: promo("p", ten, currency("EUR")), want: ReasonCurrencyMismatch},
		{name: "campaign not live", def: promo("p", ten), facts: facts(func(f *Facts) { f.CampaignLive = false }), want: ReasonOutsideSchedule},
		{name: "window not started", def: promo("p", ten, window(Window{From: now.Add(time.Hour)})), want: ReasonOutsideSchedule},
		{name: "window ended, until is exclusive", def: promo("p", ten, window(Window{Until: now})), want: ReasonOutsideSchedule},
		{name: "wrong weekday", def: promo("p", ten, window(Window{Weekdays: []time.Weekday{time.Monday, time.Tuesday}})), want: ReasonOutsideSchedule},
		{name: "outside hours", def: promo("p", ten, window(Window{DailyFrom: 11 * 60, DailyUntil: 12 * 60})), want: ReasonOutsideSchedule},
		{name: "outside hours in the time zone", def: promo("p", ten, window(Window{DailyFrom: 10 * 60, DailyUntil: 11 * 60, TimeZone: "Asia/Tokyo"})), want: ReasonOutsideSchedule},
		{name: "outside a window across midnight", def: promo("p", ten, window(Window{DailyFrom: 22 * 60, DailyUntil: 2 * 60})), want: ReasonOutsideSchedule},
		{name: "weekday read in the time zone", def: promo("p", ten, window(Window{Weekdays: []time.Weekday{time.Wednesday}, TimeZone: "Pacific/Kiritimati"})), want: ReasonOutsideSchedule},
		{name: "channel", def: promo("p", ten, cond(func(c *Conditions) { c.Channels = []string{"app"} })), want: ReasonChannelNotAllowed},
		{name: "not in audience", def: promo("p", ten), facts: facts(func(f *Facts) { f.Audience = AudienceNotMember }), want: ReasonNotInAudience},
		{name: "in holdout", def: promo("p", ten), facts: facts(func(f *Facts) { f.Audience = AudienceHoldout }), want: ReasonInHoldout},
		{name: "audience unavailable", def: promo("p", ten), facts: facts(func(f *Facts) { f.Audience = AudienceUnavailable }), want: ReasonAudienceUnavailable},
		{name: "not a first order", def: promo("p", ten, cond(func(c *Conditions) { c.FirstOrderOnly = true })), ctx: Context{FirstOrder: FirstOrderNo}, want: ReasonFirstOrderOnly},
		{name: "first order unknown", def: promo("p", ten, cond(func(c *Conditions) { c.FirstOrderOnly = true })), want: ReasonFirstOrderUnknown},
		{name: "total uses", def: promo("p", ten), facts: facts(func(f *Facts) { f.RemainingUses = 0 }), want: ReasonTotalLimitReached, wantNeeded: 1},
		{name: "customer uses", def: promo("p", ten), facts: facts(func(f *Facts) { f.RemainingCustomerUses = 0 }), want: ReasonCustomerLimitReached, wantNeeded: 1},
		{name: "gift stock", def: promo("p", Effect{Gift: &Gift{SKU: "G", Quantity: 3}}), facts: facts(func(f *Facts) { f.RemainingStock = 2 }), want: ReasonStockExhausted, wantNeeded: 3, wantSeen: 2},
		{name: "flash stock", cart: gbp(lineC("x", "X", "c", 1, 1000)), def: promo("p", Effect{FlashPrice: &FlashPrice{SKU: "X", UnitPrice: 500}}), facts: facts(func(f *Facts) { f.RemainingStock = 0 }), want: ReasonStockExhausted, wantNeeded: 1},
		{name: "flash customer units", cart: gbp(lineC("x", "X", "c", 1, 1000)), def: promo("p", Effect{FlashPrice: &FlashPrice{SKU: "X", UnitPrice: 500, PerCustomerUnitLimit: 2}}), facts: facts(func(f *Facts) { f.RemainingCustomerUnits = 0 }), want: ReasonCustomerLimitReached, wantNeeded: 1},
		{name: "no eligible SKU", def: promo("p", ten, cond(func(c *Conditions) { c.IncludeSKUs = []string{"other"} })), want: ReasonNoEligibleItems},
		{name: "excluded category", def: promo("p", ten, cond(func(c *Conditions) { c.ExcludeCategories = []string{"cat"} })), want: ReasonNoEligibleItems},
		{name: "flash SKU absent", def: promo("p", Effect{FlashPrice: &FlashPrice{SKU: "X", UnitPrice: 500}}), want: ReasonNoEligibleItems},
		{name: "min quantity", def: promo("p", ten, cond(func(c *Conditions) { c.MinQuantity = 3 })), want: ReasonMinQuantityNotMet, wantNeeded: 3, wantSeen: 2},
		{name: "min subtotal", def: promo("p", ten, cond(func(c *Conditions) { c.MinSubtotal = 10001 })), want: ReasonMinSubtotalNotMet, wantNeeded: 10001, wantSeen: 10000},
		{name: "tier not reached", def: promo("p", Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 20000, Amount: 1}, {Threshold: 15000, Amount: 1}}}}), want: ReasonMinSubtotalNotMet, wantNeeded: 15000, wantSeen: 10000},
		{name: "repeat not reached", def: promo("p", Effect{Tiered: &Tiered{Repeat: &Repeat{Every: 30000, Amount: 5000}}}), want: ReasonMinSubtotalNotMet, wantNeeded: 30000, wantSeen: 10000},
		{name: "no shipping fee", def: promo("p", Effect{FreeShipping: &FreeShipping{}}), want: ReasonNothingToDiscount},
		{name: "flash price above the price", cart: gbp(lineC("x", "X", "c", 1, 1000)), def: promo("p", Effect{FlashPrice: &FlashPrice{SKU: "X", UnitPrice: 1000}}), want: ReasonNothingToDiscount},
		{name: "not a whole buy-x-get-y group", def: promo("p", Effect{BuyXGetY: &BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000}}), want: ReasonNothingToDiscount},
		{name: "free eligible line", cart: gbp(line("a", 1, 0), line("b", 1, 1000)), def: promo("p", ten, cond(func(c *Conditions) { c.IncludeSKUs = []string{"sku-a"} })), want: ReasonNothingToDiscount},
		{name: "budget", def: promo("p", ten), facts: facts(func(f *Facts) { f.RemainingBudget = 999 }), want: ReasonBudgetExhausted, wantNeeded: 1000, wantSeen: 999},
		{name: "campaign budget", def: promo("p", ten), facts: facts(func(f *Facts) { f.RemainingCampaignBudget = 999 }), want: ReasonBudgetExhausted, wantNeeded: 1000, wantSeen: 999},
		{name: "budget overspent", def: promo("p", ten), facts: facts(func(f *Facts) { f.RemainingBudget = -5 }), want: ReasonBudgetExhausted, wantNeeded: 1000, wantSeen: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cart
			if c.Lines == nil {
				c = base
			}
			ctx := tt.ctx
			ctx.Now = now
			// "other" always applies: a failing candidate blocks nothing.
			other := promo("other", amountOff(PerLine, 1), prio(-1))
			r, err := Evaluate(c, []Candidate{cand(tt.def, tt.facts...), cand(other)}, ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, c, r)
			if len(r.NotApplied) != 1 {
				t.Fatalf("not applied %+v, want p only", r.NotApplied)
			}
			na := r.NotApplied[0]
			if na.PromotionID != "p" || na.CampaignID != "camp" || na.Reason != tt.want || na.Needed != tt.wantNeeded || na.Seen != tt.wantSeen {
				t.Errorf("got %+v, want p with %s needed %d seen %d", na, tt.want, tt.wantNeeded, tt.wantSeen)
			}
			if len(r.Applied) != 1 || r.Applied[0].PromotionID != "other" {
				t.Errorf("applied %+v, want other", r.Applied)
			}
		})
	}
}

// TestWindowApplies checks windows that include now.
func TestWindowApplies(t *testing.T) {
	windows := []Window{
		{From: now, Until: now.Add(time.Second)},
		{Weekdays: []time.Weekday{time.Wednesday}},
		{DailyFrom: 10 * 60, DailyUntil: 10*60 + 1},
		{DailyFrom: 9 * 60, DailyUntil: 1440},
		{DailyFrom: 18 * 60, DailyUntil: 20 * 60, TimeZone: "Asia/Tokyo"},                                      // 19:00 in Tokyo
		{DailyFrom: 22 * 60, DailyUntil: 11 * 60},                                                              // across midnight
		{Weekdays: []time.Weekday{time.Thursday}, TimeZone: "Pacific/Kiritimati"},                              // UTC+14: Thursday 00:00
		{From: now.Add(-time.Hour), Weekdays: []time.Weekday{time.Wednesday}, DailyFrom: 600, DailyUntil: 660}, // all of them
	}
	c := gbp(line("a", 1, 1000))
	for i, w := range windows {
		r, err := Evaluate(c, cands(promo("p", pctLines(1000), cond(func(c *Conditions) { c.Window = &w }))), Context{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Applied) != 1 {
			t.Errorf("window %d %+v: not applied %+v", i, w, r.NotApplied)
		}
	}
}

// TestAudienceAndFirstOrderApply checks the facts that let a promotion apply.
func TestAudienceAndFirstOrderApply(t *testing.T) {
	c := gbp(line("a", 1, 1000))
	d := promo("p", pctLines(1000), cond(func(c *Conditions) { c.FirstOrderOnly = true; c.Channels = []string{"app", "web"} }))
	r, err := Evaluate(c, []Candidate{cand(d, func(f *Facts) { f.Audience = AudienceMember })}, Context{Now: now, FirstOrder: FirstOrderYes})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Applied) != 1 || r.Total != 900 {
		t.Fatalf("applied %+v not applied %+v total %d, want p applied, total 900", r.Applied, r.NotApplied, r.Total)
	}
}

// TestConditionsOnTheCartAsItStands checks that a later promotion sees the
// subtotal left by earlier ones.
func TestConditionsOnTheCartAsItStands(t *testing.T) {
	c := gbp(line("a", 1, 10000))
	r, err := Evaluate(c, cands(
		promo("first", pctLines(1000), prio(2)),
		promo("second", amountOff(OnOrder, 500), prio(1), cond(func(c *Conditions) { c.MinSubtotal = 10000 })),
	), Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.NotApplied) != 1 || r.NotApplied[0].Reason != ReasonMinSubtotalNotMet || r.NotApplied[0].Seen != 9000 || r.NotApplied[0].Needed != 10000 {
		t.Fatalf("not applied %+v, want second with MIN_SUBTOTAL_NOT_MET needed 10000 seen 9000", r.NotApplied)
	}
}

// TestCampaignBudgetShared checks that promotions of one campaign share
// its remaining budget within a cart, and that equal is allowed.
func TestCampaignBudgetShared(t *testing.T) {
	c := gbp(line("a", 1, 20000))
	budget := func(b int64) factOpt { return func(f *Facts) { f.RemainingCampaignBudget = b } }
	r, err := Evaluate(c, []Candidate{
		cand(promo("first", pctLines(1000), prio(3)), budget(3800)),
		cand(promo("second", pctLines(1000), prio(2)), budget(3800)),
		cand(promo("third", amountOff(OnOrder, 1), prio(1)), budget(3800)),
		cand(promo("elsewhere", amountOff(OnOrder, 100), campaign("other")), budget(100)),
	}, Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, c, r)
	// first 2000, second 1800 (equal to what is left: 1800), third 1 > 0.
	if len(r.Applied) != 3 || r.Applied[1].Amount != 1800 || r.Applied[2].PromotionID != "elsewhere" {
		t.Fatalf("applied %+v, want first, second and elsewhere", r.Applied)
	}
	if len(r.NotApplied) != 1 || r.NotApplied[0].PromotionID != "third" || r.NotApplied[0].Reason != ReasonBudgetExhausted || r.NotApplied[0].Needed != 1 || r.NotApplied[0].Seen != 0 {
		t.Fatalf("not applied %+v, want third BUDGET_EXHAUSTED needed 1 seen 0", r.NotApplied)
	}
}

func TestBudgetEqualAllowed(t *testing.T) {
	c := gbp(line("a", 1, 10000))
	r, err := Evaluate(c, []Candidate{cand(promo("p", pctLines(1000)), func(f *Facts) { f.RemainingBudget = 1000; f.RemainingCampaignBudget = 1000 })}, Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Applied) != 1 {
		t.Fatalf("not applied %+v, want applied with a budget equal to the discount", r.NotApplied)
	}
}
