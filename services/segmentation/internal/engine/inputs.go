package engine

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// inputTable keeps every customer's inputs in memory between recomputes,
// so that a recompute does not read a million rows back from the store:
// the event consumer applies each page to it (Engine.Applied) right after
// storing it, and a recompute takes a view of it. It is loaded from the
// store, with the cursor it reflects, by the first recompute, and again
// whenever it may have missed a page (the consumer resumed from a cursor
// another replica had moved, or this replica does not consume) — so the
// store stays the source of truth and the table only saves reading it.
//
// Customers are immutable once in the table: a change replaces the
// pointer, so a view handed to a running recompute never changes under it.
type inputTable struct {
	mu     sync.Mutex
	loaded bool
	cursor int64 // the sequence of the last page the table reflects
	// sorted is every customer in id order as of the last view; changed
	// holds the customers changed since, by id (nil: deleted). No map of
	// every customer: a million entries would cost tens of MiB.
	sorted  []*segmentation.Customer
	changed map[string]*segmentation.Customer
}

// Applied tells the engine that the page of muts covering the events after
// sequence from up to sequence to has been applied to the store, so that
// it applies them to its in-memory inputs too. Pages must come in log
// order; a page that does not start where the table ends (a gap) makes the
// next recompute load the inputs from the store again.
func (e *Engine) Applied(muts []segmentation.Mutation, from, to int64) {
	t := &e.inputs
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.loaded || to <= t.cursor:
		return // nothing to keep up to date, or in the table already
	case from != t.cursor:
		t.reset()
		return
	}
	for i := range muts {
		t.apply(&muts[i])
	}
	t.cursor = to
}

// reset drops the table; the next recompute loads it again.
func (t *inputTable) reset() {
	t.loaded, t.cursor, t.sorted, t.changed = false, 0, nil, nil
}

// apply applies one mutation as the store does (see
// segmentation.InputStore.ApplyPage).
func (t *inputTable) apply(m *segmentation.Mutation) {
	switch m.Kind {
	case segmentation.MutationUpsert:
		c := &segmentation.Customer{ID: m.ID}
		if old := t.get(m.ID); old != nil {
			*c = *old
		}
		if m.Features != nil {
			c.Features = *m.Features
			c.Features.TopCategories = slices.Clone(m.Features.TopCategories)
		}
		if m.SetTags {
			c.Tags = slices.Clone(m.Tags)
		}
		c.Purchases = segmentation.AddPurchases(c.Purchases, m.Purchases)
		t.set(m.ID, c)
	case segmentation.MutationDelete:
		t.set(m.ID, nil)
	case segmentation.MutationRekey:
		old := t.get(m.ID)
		if old == nil {
			return
		}
		moved := *old
		moved.ID = m.NewID
		t.set(m.NewID, &moved)
		t.set(m.ID, nil)
	}
}

// get returns customer id's inputs, nil if none.
func (t *inputTable) get(id string) *segmentation.Customer {
	if c, ok := t.changed[id]; ok {
		return c
	}
	if i, ok := slices.BinarySearchFunc(t.sorted, id, func(c *segmentation.Customer, id string) int {
		return strings.Compare(c.ID, id)
	}); ok {
		return t.sorted[i]
	}
	return nil
}

// set makes c (nil: none) customer id's inputs.
func (t *inputTable) set(id string, c *segmentation.Customer) { t.changed[id] = c }

// WarmInputs loads the in-memory inputs from the store unless they are
// loaded and current, so that the next recompute does not have to: the
// service calls it in the background when it starts.
func (e *Engine) WarmInputs(ctx context.Context) error {
	_, err := e.view(ctx)
	return err
}

// view returns every customer in id order, loading the table from the
// store first if it is not loaded or is behind the store's cursor (then
// another replica applied pages this one has not seen yet). The slice is
// the caller's: later changes to the table do not touch it.
func (e *Engine) view(ctx context.Context) ([]*segmentation.Customer, error) {
	t := &e.inputs
	stored, err := e.cfg.Store.Cursor(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock() // Applied waits while the table loads
	if !t.loaded || t.cursor < stored {
		start := time.Now()
		cursor, customers, err := e.cfg.Store.LoadInputs(ctx)
		if err != nil {
			t.reset()
			return nil, err
		}
		e.cfg.Logger.Info("segmentation: loaded the inputs from the store", "customers", len(customers), "cursor", cursor,
			"behind", t.loaded, "duration", time.Since(start))
		t.loaded, t.cursor = true, cursor
		t.sorted = make([]*segmentation.Customer, len(customers))
		t.changed = map[string]*segmentation.Customer{}
		for i := range customers {
			t.sorted[i] = &customers[i]
		}
		return slices.Clip(t.sorted), nil
	}
	if len(t.changed) > 0 {
		t.sorted = t.merged()
		clear(t.changed)
	}
	return slices.Clip(t.sorted), nil
}

// merged returns sorted with the changed customers merged in: one pass
// over both in id order, into a new slice.
func (t *inputTable) merged() []*segmentation.Customer {
	ids := slices.Sorted(maps.Keys(t.changed))
	out := make([]*segmentation.Customer, 0, len(t.sorted)+len(ids))
	i := 0
	for _, id := range ids {
		for ; i < len(t.sorted) && t.sorted[i].ID < id; i++ {
			out = append(out, t.sorted[i])
		}
		if i < len(t.sorted) && t.sorted[i].ID == id {
			i++ // replaced by the current inputs, if any
		}
		if c := t.changed[id]; c != nil {
			out = append(out, c)
		}
	}
	return append(out, t.sorted[i:]...)
}
