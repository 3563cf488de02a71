package retailimport

import (
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Mapping constants.
const (
	// EventIDPrefix makes event ids stable across runs, so importing the
	// same file again records nothing new.
	EventIDPrefix = "online-retail:"
	// Currency of every price in the data set.
	Currency = "GBP"
	// Channel of every order: the retailer sells online only.
	Channel = "online"
)

// Event maps the invoice to a customer event: an order_placed whose total
// is the sum of its line totals, or, for a cancellation, an order_refunded
// with the lines' quantities made positive and the refunded amount. The
// data set has no product categories and does not say which order a
// cancellation reverses, so both are left empty.
//
// Lines are sent as the file has them: a line with a zero or negative
// quantity on a normal invoice is not corrected here, and the profile
// service rejects the event, which the import reports.
func (inv *Invoice) Event() *profilev1.Event {
	sign := int64(1)
	if inv.Cancelled() {
		sign = -1
	}
	lines := make([]*profilev1.OrderLine, len(inv.Lines))
	var total int64
	for i, l := range inv.Lines {
		qty := sign * l.Quantity
		total += LineTotalMinor(qty, l.UnitPrice)
		lines[i] = &profilev1.OrderLine{
			Sku:       l.StockCode,
			Quantity:  qty,
			UnitPrice: gbp(l.UnitPrice.Minor()),
		}
	}
	ev := &profilev1.Event{
		EventId:    EventIDPrefix + inv.No,
		CustomerId: inv.CustomerID,
		OccurredAt: timestamppb.New(inv.Time),
	}
	if inv.Cancelled() {
		ev.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{
			Amount: gbp(total),
			Lines:  lines,
		}}
	} else {
		ev.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
			OrderId: inv.No,
			Lines:   lines,
			Total:   gbp(total),
			Channel: Channel,
		}}
	}
	return ev
}

// Events maps every invoice, in the dataset's order.
func (ds *Dataset) Events() []*profilev1.Event {
	evs := make([]*profilev1.Event, len(ds.Invoices))
	for i, inv := range ds.Invoices {
		evs[i] = inv.Event()
	}
	return evs
}

func gbp(minor int64) *typev1.Money {
	return &typev1.Money{CurrencyCode: Currency, AmountMinor: minor}
}
