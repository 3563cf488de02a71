package consumer

import (
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// toPurchase is an order's purchase day: the UTC day it occurred and what
// the customer paid, its total or, when absent, the sum of its lines less
// the discounts (profile has checked that this is neither negative nor
// too large).
func toPurchase(ev *profilev1.Event, o *profilev1.OrderPlaced) *segmentation.PurchaseDay {
	amount := o.GetTotal().GetAmountMinor()
	if o.GetTotal() == nil || amount == 0 {
		amount = 0
		for _, l := range o.GetLines() {
			amount += l.GetQuantity()*l.GetUnitPrice().GetAmountMinor() - l.GetDiscount().GetAmountMinor()
		}
		amount = max(0, amount-o.GetOrderDiscount().GetAmountMinor())
	}
	return &segmentation.PurchaseDay{Day: segmentation.DayOf(ev.GetOccurredAt().AsTime()), Amount: amount}
}
