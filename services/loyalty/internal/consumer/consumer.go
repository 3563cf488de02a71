// Package consumer applies profile's event log to the loyalty ledger. It
// is the eventlog.Handler the platform's event-log consumer drives: each
// page of events is converted to the domain's view and applied, with the
// cursor, in one transaction.
package consumer

import (
	"context"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// PageSize is the most events the service applies in one transaction
// (eventlog.Config.PageSize). Catching up, each page touches rows of
// thousands of members all over the tables; larger pages write each table
// page once for more events, in fewer statements and round trips.
const PageSize = 20000

// Ledger applies pages of events (the domain's Service) and reads the
// cursor (the store).
type Ledger interface {
	ApplyEvents(ctx context.Context, events []loyalty.Event) error
}

// Cursor reads the sequence of the last event applied.
type Cursor interface {
	Cursor(ctx context.Context) (int64, error)
}

// Handler implements eventlog.Handler over the loyalty ledger.
type Handler struct {
	ledger Ledger
	cursor Cursor
}

// New returns a Handler applying pages to ledger, whose cursor cursor reads.
func New(ledger Ledger, cursor Cursor) *Handler { return &Handler{ledger: ledger, cursor: cursor} }

// Cursor implements eventlog.Handler.
func (h *Handler) Cursor(ctx context.Context) (int64, error) { return h.cursor.Cursor(ctx) }

// Apply implements eventlog.Handler.
func (h *Handler) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	page := make([]loyalty.Event, len(events))
	for i, r := range events {
		page[i] = ToEvent(r.GetEvent())
	}
	return h.ledger.ApplyEvents(ctx, page)
}

// ToEvent converts a profile event to the ledger's view of it.
func ToEvent(ev *profilev1.Event) loyalty.Event {
	out := loyalty.Event{Sequence: ev.GetSequence(), EventID: ev.GetEventId(), CustomerID: ev.GetCustomerId(),
		OccurredAt: ev.GetOccurredAt().AsTime()}
	switch p := ev.GetPayload().(type) {
	case *profilev1.Event_OrderPlaced:
		orderPlaced(&out, p.OrderPlaced)
	case *profilev1.Event_OrderRefunded:
		r := p.OrderRefunded
		out.Kind, out.OrderID = loyalty.EventOrderRefunded, r.GetOrderId()
		out.Currency, out.HasTotal, out.AmountMinor = r.GetAmount().GetCurrencyCode(), true, r.GetAmount().GetAmountMinor()
	case *profilev1.Event_ReviewPosted:
		out.Kind = loyalty.EventReviewPosted
		out.Review = loyalty.Review{Length: int64(p.ReviewPosted.GetLength()), HasPhoto: p.ReviewPosted.GetHasPhoto()}
	case *profilev1.Event_ContentShared:
		out.Kind = loyalty.EventContentShared
	case *profilev1.Event_CheckedIn:
		out.Kind = loyalty.EventCheckedIn
	case *profilev1.Event_CustomerUpdated:
		out.Kind = loyalty.EventCustomerUpdated
		out.Birthday, out.TimeZone = p.CustomerUpdated.GetBirthday(), p.CustomerUpdated.GetTimeZone()
	case *profilev1.Event_CustomerErased:
		out.Kind, out.AnonymousID = loyalty.EventCustomerErased, p.CustomerErased.GetAnonymousId()
	case *profilev1.Event_CustomerDeleted:
		out.Kind = loyalty.EventCustomerDeleted
	}
	return out
}

// orderPlaced fills an order's total, or its lines when it has none.
// Profile accepts only orders in one currency.
func orderPlaced(out *loyalty.Event, o *profilev1.OrderPlaced) {
	out.Kind, out.OrderID = loyalty.EventOrderPlaced, o.GetOrderId()
	if t := o.GetTotal(); t != nil {
		out.Currency, out.HasTotal, out.AmountMinor = t.GetCurrencyCode(), true, t.GetAmountMinor()
		return
	}
	for _, l := range o.GetLines() {
		if out.Currency == "" {
			out.Currency = l.GetUnitPrice().GetCurrencyCode()
		}
		out.Lines = append(out.Lines, loyalty.Line{Quantity: l.GetQuantity(), UnitMinor: l.GetUnitPrice().GetAmountMinor(),
			DiscountMinor: l.GetDiscount().GetAmountMinor()})
	}
	out.OrderDiscount = o.GetOrderDiscount().GetAmountMinor()
}
