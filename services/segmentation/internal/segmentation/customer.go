package segmentation

import (
	"errors"
	"time"
)

// ErrInvalidRule is wrapped by errors about a rule segment's expression
// (syntax or type errors, a result that is not a bool).
var ErrInvalidRule = errors.New("segmentation: invalid rule")

// Features are the per-customer facts segmentation keeps from profile's
// customer features. Money is in minor units of the main currency.
type Features struct {
	FirstOrderTime, LastOrderTime, LastActivityTime time.Time
	OrderCount, RefundCount                         int64
	Currency                                        string
	GrossMinor, NetMinor, AverageOrderValueMinor    int64
	DiscountShare                                   float64
	PreferredChannel                                string
	TopCategories                                   []string
}

// Customer is segmentation's copy of one customer: its features, tags
// and purchase days. A customer without orders is a prospect.
type Customer struct {
	ID       string
	Features Features
	Tags     []string
	// Purchases are the days with an order, ascending (see PurchaseDay).
	Purchases []PurchaseDay
}

// Input returns what scoring needs to know about c.
func (c Customer) Input() Input {
	return Input{
		CustomerID:    c.ID,
		FirstOrder:    c.Features.FirstOrderTime,
		LastOrder:     c.Features.LastOrderTime,
		OrderCount:    c.Features.OrderCount,
		NetSpendMinor: c.Features.NetMinor,
	}
}
