// Package consumer applies profile's event log to the promotion service:
// orders count toward first-order conditions and are attributed to holdout
// groups, and refunds of redeemed orders release their discount. It is the
// eventlog.Handler the platform's consumer drives.
package consumer

import (
	"context"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// Applier applies pages of orders (the domain's Service).
type Applier interface {
	ApplyEvents(ctx context.Context, last int64, orders []promotion.Order) error
}

// Cursor reads the sequence of the last event applied.
type Cursor interface {
	Cursor(ctx context.Context) (int64, error)
}

// Handler implements eventlog.Handler.
type Handler struct {
	applier Applier
	cursor  Cursor
}

// New returns a Handler.
func New(applier Applier, cursor Cursor) *Handler { return &Handler{applier: applier, cursor: cursor} }

// Cursor implements eventlog.Handler.
func (h *Handler) Cursor(ctx context.Context) (int64, error) { return h.cursor.Cursor(ctx) }

// Apply implements eventlog.Handler: orders, refunds, erasures and cart
// updates (for outreach) are applied, other events only move the cursor.
func (h *Handler) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	var orders []promotion.Order
	var last int64
	for _, r := range events {
		ev := r.GetEvent()
		last = max(last, ev.GetSequence())
		if o, ok := ToOrder(ev); ok {
			orders = append(orders, o)
		}
	}
	return h.applier.ApplyEvents(ctx, last, orders)
}

// ToOrder converts an order, refund, erasure, cart update or profile event.
func ToOrder(ev *profilev1.Event) (promotion.Order, bool) {
	o := promotion.Order{Sequence: ev.GetSequence(), EventID: ev.GetEventId(), CustomerID: ev.GetCustomerId(), Time: ev.GetOccurredAt().AsTime()}
	var lines []*profilev1.OrderLine
	switch p := ev.GetPayload().(type) {
	case *profilev1.Event_OrderPlaced:
		o.OrderID, lines = p.OrderPlaced.GetOrderId(), p.OrderPlaced.GetLines()
		if t := p.OrderPlaced.GetTotal(); t != nil {
			o.Revenue = t.GetAmountMinor()
		} else {
			for _, l := range lines {
				o.Revenue += l.GetQuantity()*l.GetUnitPrice().GetAmountMinor() - l.GetDiscount().GetAmountMinor()
			}
			o.Revenue -= p.OrderPlaced.GetOrderDiscount().GetAmountMinor()
		}
	case *profilev1.Event_CustomerErased:
		o.ErasedAs = p.CustomerErased.GetAnonymousId()
		return o, o.ErasedAs != ""
	case *profilev1.Event_CartUpdated:
		o.Cart = true
		return o, true
	case *profilev1.Event_OrderRefunded:
		o.Refund, o.OrderID, o.Revenue, lines = true, p.OrderRefunded.GetOrderId(), p.OrderRefunded.GetAmount().GetAmountMinor(), p.OrderRefunded.GetLines()
	default:
		return toProfile(ev, o)
	}
	for _, l := range lines {
		o.Lines = append(o.Lines, promotion.OrderLine{SKU: l.GetSku(), Quantity: l.GetQuantity()})
	}
	return o, true
}
