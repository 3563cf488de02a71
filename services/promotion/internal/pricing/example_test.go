package pricing_test

import (
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// Example prices a cart with 1000 off the order, then refunds one unit.
func Example() {
	promo, err := pricing.Compile(pricing.Definition{
		ID: "spring-1000", CampaignID: "spring", Kind: pricing.KindAutomatic, Stacking: pricing.Stackable,
		Currency: "GBP", Effect: pricing.Effect{AmountOff: &pricing.AmountOff{Mode: pricing.OnOrder, Amount: 1000}},
	})
	if err != nil {
		panic(err)
	}
	cart := pricing.Cart{CustomerID: "c1", Currency: "GBP", Channel: "web", ShippingFee: 399, Lines: []pricing.Line{
		{ID: "A", SKU: "mug", Category: "kitchen", Quantity: 2, UnitPrice: 3000},
		{ID: "B", SKU: "pot", Category: "kitchen", Quantity: 1, UnitPrice: 4000},
	}}
	res, err := pricing.Evaluate(cart, []pricing.Candidate{{Promotion: promo, Facts: pricing.OpenFacts()}}, pricing.Context{Now: time.Date(2026, 3, 21, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	for _, l := range res.Lines {
		fmt.Printf("%s: %d − %d = %d\n", l.LineID, l.Subtotal, l.Discount, l.Final)
	}
	fmt.Println("order discount", res.OrderDiscount, "total", res.Total)

	rel, err := pricing.ReleaseRefund(
		[]pricing.OrderLine{{LineID: "A", Quantity: 2}, {LineID: "B", Quantity: 1}},
		res.Applied, nil, []pricing.ReturnedLine{{LineID: "A", Quantity: 1}})
	if err != nil {
		panic(err)
	}
	fmt.Println("released", rel.Promotions[0].Amount, "to", rel.Promotions[0].PromotionID)
	// Output:
	// A: 6000 − 600 = 5400
	// B: 4000 − 400 = 3600
	// order discount 1000 total 9399
	// released 300 to spring-1000
}
