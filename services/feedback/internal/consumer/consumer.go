// Package consumer applies profile's event log to the feedback records: a
// customer_erased event moves the customer's tickets and survey answers to
// its anonymous id and clears their email; an order_delivered event
// invites the customer to the delivery surveys. It is the feedback
// service's eventlog.Handler.
package consumer

import (
	"context"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/eventlog"
)

// Inviter creates the survey invitations of delivered orders, once per
// survey, customer and order however often it is called.
type Inviter interface {
	InviteDeliveries(ctx context.Context, ds []feedback.Delivery) error
}

// Handler implements eventlog.Handler over an ErasureStore and an
// Inviter.
type Handler struct {
	store   feedback.ErasureStore
	inviter Inviter
}

var _ eventlog.Handler = (*Handler)(nil)

// New returns the handler.
func New(store feedback.ErasureStore, inviter Inviter) *Handler {
	return &Handler{store: store, inviter: inviter}
}

// Cursor implements eventlog.Handler.
func (h *Handler) Cursor(ctx context.Context) (int64, error) { return h.store.Cursor(ctx) }

// Apply implements eventlog.Handler: first the page's deliveries'
// invitations, then its erasures and its last sequence in one
// transaction; other events only move the cursor. A failure leaves the
// cursor, so the page comes again; invitations it created before are
// keyed and are not created twice.
func (h *Handler) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	if len(events) == 0 {
		return nil
	}
	var erasures []feedback.Erasure
	var deliveries []feedback.Delivery
	for _, e := range events {
		ev := e.GetEvent()
		if erased := ev.GetCustomerErased(); erased != nil {
			erasures = append(erasures, feedback.Erasure{Sequence: ev.GetSequence(),
				CustomerID: ev.GetCustomerId(), AnonymousID: erased.GetAnonymousId()})
		}
		if d := ev.GetOrderDelivered(); d != nil {
			deliveries = append(deliveries, feedback.Delivery{CustomerID: ev.GetCustomerId(), OrderID: d.GetOrderId(),
				At: ev.GetOccurredAt().AsTime()})
		}
	}
	if len(deliveries) > 0 {
		if err := h.inviter.InviteDeliveries(ctx, deliveries); err != nil {
			return err
		}
	}
	return h.store.ApplyErasures(ctx, erasures, events[len(events)-1].GetEvent().GetSequence())
}
