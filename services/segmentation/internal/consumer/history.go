package consumer

import (
	"context"
	"sync/atomic"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
)

// HistoryStore is the part of the store the purchase history handler
// writes.
type HistoryStore interface {
	HistoryCursor(ctx context.Context) (int64, error)
	// ApplyHistory applies the changes above the stored cursor and moves
	// it to cursor in one transaction, returning the changes it applied.
	ApplyHistory(ctx context.Context, changes []recommend.Change, cursor int64) ([]recommend.Change, error)
}

// HistoryApplier keeps the in-memory history in step (recommend.Service).
type HistoryApplier interface {
	Applied(changes []recommend.Change, from, to int64, complete bool)
}

// History implements eventlog.Handler for the purchase history that
// recommendations are built from: order lines, product views, deletions
// and erasures.
type History struct {
	store HistoryStore
	mem   HistoryApplier
	pos   atomic.Int64
}

// NewHistory returns a handler that stores pages in store and then tells
// mem, if not nil.
func NewHistory(store HistoryStore, mem HistoryApplier) *History {
	h := &History{store: store, mem: mem}
	h.pos.Store(-1)
	return h
}

// Cursor implements eventlog.Handler.
func (h *History) Cursor(ctx context.Context) (int64, error) {
	c, err := h.store.HistoryCursor(ctx)
	if err == nil {
		h.pos.Store(c)
	}
	return c, err
}

// Apply implements eventlog.Handler.
func (h *History) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	changes := make([]recommend.Change, 0, len(events))
	for _, r := range events {
		if c, ok := toChange(r.GetEvent()); ok {
			changes = append(changes, c)
		}
	}
	to := events[len(events)-1].GetEvent().GetSequence()
	applied, err := h.store.ApplyHistory(ctx, changes, to)
	if err != nil {
		return err
	}
	from := h.pos.Swap(to)
	if h.mem != nil {
		h.mem.Applied(applied, from, to, len(applied) == len(changes))
	}
	return nil
}

// toChange converts the events the history keeps; false for the others.
func toChange(ev *profilev1.Event) (recommend.Change, bool) {
	c := recommend.Change{Sequence: ev.GetSequence(), Customer: ev.GetCustomerId(), At: ev.GetOccurredAt().AsTime()}
	if c.Customer == "" {
		return c, false
	}
	switch p := ev.GetPayload().(type) {
	case *profilev1.Event_OrderPlaced:
		c.Kind = recommend.ChangeOrder
		for _, l := range p.OrderPlaced.GetLines() {
			if l.GetSku() != "" {
				c.Lines = append(c.Lines, recommend.Line{SKU: l.GetSku(), Category: l.GetCategory()})
			}
		}
		return c, len(c.Lines) > 0
	case *profilev1.Event_ProductViewed:
		c.Kind = recommend.ChangeView
		c.Lines = []recommend.Line{{SKU: p.ProductViewed.GetSku(), Category: p.ProductViewed.GetCategory()}}
		return c, p.ProductViewed.GetSku() != ""
	case *profilev1.Event_CustomerDeleted:
		c.Kind = recommend.ChangeDelete
		return c, true
	case *profilev1.Event_CustomerErased:
		c.Kind, c.NewID = recommend.ChangeRekey, p.CustomerErased.GetAnonymousId()
		return c, c.NewID != "" && c.NewID != c.Customer
	}
	return c, false
}
