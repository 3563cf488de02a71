// Package consumer applies profile's event log to the feedback records: a
// customer_erased event moves the customer's tickets and survey answers to
// its anonymous id and clears their email. It is the feedback service's
// eventlog.Handler.
package consumer

import (
	"context"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/eventlog"
)

// Handler implements eventlog.Handler over an ErasureStore.
type Handler struct{ store feedback.ErasureStore }

var _ eventlog.Handler = (*Handler)(nil)

// New returns the handler.
func New(store feedback.ErasureStore) *Handler { return &Handler{store: store} }

// Cursor implements eventlog.Handler.
func (h *Handler) Cursor(ctx context.Context) (int64, error) { return h.store.Cursor(ctx) }

// Apply implements eventlog.Handler: the page's erasures and its last
// sequence, in one transaction; other events only move the cursor.
func (h *Handler) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	if len(events) == 0 {
		return nil
	}
	var erasures []feedback.Erasure
	for _, e := range events {
		if erased := e.GetEvent().GetCustomerErased(); erased != nil {
			erasures = append(erasures, feedback.Erasure{Sequence: e.GetEvent().GetSequence(),
				CustomerID: e.GetEvent().GetCustomerId(), AnonymousID: erased.GetAnonymousId()})
		}
	}
	return h.store.ApplyErasures(ctx, erasures, events[len(events)-1].GetEvent().GetSequence())
}
