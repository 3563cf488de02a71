package pricing

import (
	"fmt"
	"testing"
	"time"
)

// benchSetup is a cart of 20 lines and 100 active promotions of every
// kind, sorted as the service keeps them, about a third of which apply.
func benchSetup() (Cart, []Candidate, Context) {
	c := Cart{CustomerID: "cust", Currency: "GBP", Channel: "web", ShippingFee: 499, Codes: []string{"welcome10"}}
	for i := range 20 {
		c.Lines = append(c.Lines, Line{
			ID: fmt.Sprint("line-", i), SKU: fmt.Sprint("SKU-", i%12), Category: fmt.Sprint("cat-", i%5),
			Quantity: int64(1 + i%3), UnitPrice: int64(499 + 731*i),
		})
	}
	effects := []Effect{
		pctLines(500), pctOrder(1000, 2000), amountOff(PerUnit, 50), amountOff(PerLine, 100),
		amountOff(AcrossLines, 300), amountOff(OnOrder, 500),
		{Tiered: &Tiered{Tiers: []Tier{{Threshold: 10000, Amount: 500}, {Threshold: 50000, Amount: 3000}, {Threshold: 100000, BasisPoints: 800}}}},
		{Tiered: &Tiered{Repeat: &Repeat{Every: 30000, Amount: 2000, MaxCount: 3}}},
		{BuyXGetY: &BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000}},
		{BuyXGetY: &BuyXGetY{Buy: 1, Get: 1, BasisPoints: 5000, GetCategories: []string{"cat-3"}}},
		{Gift: &Gift{SKU: "TOTE", Quantity: 1}},
		{FreeShipping: &FreeShipping{Cap: 300}},
		{FlashPrice: &FlashPrice{SKU: "SKU-4", UnitPrice: 999, PerCustomerUnitLimit: 2}},
	}
	var cs []Candidate
	for i := range 100 {
		d := Definition{
			ID: fmt.Sprintf("promo-%03d", i), CampaignID: fmt.Sprint("campaign-", i%10), Kind: KindAutomatic,
			Priority: int32(i % 7), Stacking: Stackable, Currency: "GBP", Effect: effects[i%len(effects)],
		}
		switch i % 10 {
		case 0:
			d.Conditions.IncludeCategories = []string{"cat-1", "cat-2"}
		case 1:
			d.Conditions.ExcludeSKUs = []string{"SKU-3", "SKU-7"}
		case 2:
			d.Conditions.MinSubtotal = 20000
		case 3:
			d.Conditions.Window = &Window{Weekdays: []time.Weekday{time.Wednesday}, DailyFrom: 9 * 60, DailyUntil: 18 * 60, TimeZone: "Europe/London"}
		case 4:
			d.StackGroup = fmt.Sprint("group-", i%3)
		case 5:
			d.Kind = KindCode
		case 6:
			d.Conditions.Channels = []string{"app"}
		case 7:
			d.Conditions.IncludeSKUs = []string{"SKU-1", "SKU-2", "SKU-5", "SKU-8"}
		case 8:
			d.Conditions.MinQuantity = 5
		}
		f := OpenFacts()
		if i%9 == 0 {
			f.Audience = AudienceMember
		}
		if i%13 == 0 {
			f.Audience = AudienceHoldout
		}
		cs = append(cs, Candidate{Promotion: MustCompile(d), Facts: f})
	}
	SortCandidates(cs) // as the service keeps its active promotions
	ctx := Context{Now: now, FirstOrder: FirstOrderNo, Codes: []CodeLookup{{Code: "WELCOME10", Status: CodeFound, PromotionID: "promo-005"}}}
	return c, cs, ctx
}

func BenchmarkEvaluate(b *testing.B) {
	c, cs, ctx := benchSetup()
	r, err := Evaluate(c, cs, ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(c, cs, ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(r.Applied)), "applied/op")
}

// BenchmarkEvaluateLargestCart prices a cart of MaxLines lines with the
// same 100 promotions: the worst case the bounds allow.
func BenchmarkEvaluateLargestCart(b *testing.B) {
	c, cs, ctx := benchSetup()
	c.Lines = c.Lines[:0]
	for i := range MaxLines {
		c.Lines = append(c.Lines, Line{
			ID: fmt.Sprint("line-", i), SKU: fmt.Sprint("SKU-", i%12), Category: fmt.Sprint("cat-", i%5),
			Quantity: int64(1 + i%3), UnitPrice: int64(499 + 731*(i%40)),
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(c, cs, ctx); err != nil {
			b.Fatal(err)
		}
	}
}
