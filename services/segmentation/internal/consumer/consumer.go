// Package consumer applies profile's event log to segmentation's inputs.
// It is the eventlog.Handler the platform's event-log consumer drives: each
// page of events is converted to the domain's view, planned into
// mutations and applied with the cursor in one transaction; then the
// membership snapshot forgets the customers the page deleted or erased.
package consumer

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Inputs is the part of the store the handler writes (see
// segmentation.InputStore).
type Inputs interface {
	Cursor(ctx context.Context) (int64, error)
	ApplyPage(ctx context.Context, muts []segmentation.Mutation, cursor int64, sequences []int64) error
}

// Forgetter keeps in-memory state in step with the applied pages (the
// recompute engine): Applied is told every page, Forget the pages that
// deleted or re-keyed customers, so that they stop answering for them.
type Forgetter interface {
	// Applied is called after each page is stored, with its mutations and
	// the cursor before (from) and after (to) it; from is the cursor the
	// page followed in this handler's stream, so a page that does not
	// follow the last one Applied saw shows that events were skipped.
	Applied(muts []segmentation.Mutation, from, to int64)
	Forget(ctx context.Context, muts []segmentation.Mutation) error
}

// Handler implements eventlog.Handler over segmentation's inputs. Profile
// must send each event's features (eventlog.Config.IncludeFeatures).
type Handler struct {
	inputs Inputs
	forget Forgetter
	logger *slog.Logger
	// pos is where the handler's stream is: the cursor it resumed from,
	// then the last page it applied.
	pos atomic.Int64
}

// New returns a Handler that applies pages to inputs and then tells forget,
// if not nil, about the customers a page deleted or re-keyed; it logs
// forget's failures to logger (default slog.Default()).
func New(inputs Inputs, forget Forgetter, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Handler{inputs: inputs, forget: forget, logger: logger}
	h.pos.Store(-1) // no stream yet
	return h
}

// Cursor implements eventlog.Handler. The consumer calls it when it
// (re)starts a stream, which then continues from the cursor returned.
func (h *Handler) Cursor(ctx context.Context) (int64, error) {
	c, err := h.inputs.Cursor(ctx)
	if err == nil {
		h.pos.Store(c)
	}
	return c, err
}

// Apply implements eventlog.Handler.
func (h *Handler) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	page := make([]segmentation.StreamEvent, len(events))
	for i, r := range events {
		page[i] = toStreamEvent(r)
	}
	muts := segmentation.PlanPage(page)
	to := page[len(page)-1].Sequence
	seqs := make([]int64, len(page))
	for i := range page {
		seqs[i] = page[i].Sequence
	}
	if err := h.inputs.ApplyPage(ctx, muts, to, seqs); err != nil {
		return err
	}
	from := h.pos.Swap(to)
	if h.forget != nil {
		h.forget.Applied(muts, from, to)
	}
	if h.forget != nil && slices.ContainsFunc(muts, segmentation.Mutation.Forgets) {
		if err := h.forget.Forget(ctx, muts); err != nil && ctx.Err() == nil {
			h.logger.Warn("segmentation: forget deleted and erased customers", "error", err)
		}
	}
	return nil
}

// toStreamEvent converts a stream response to the domain's view of it.
func toStreamEvent(r *profilev1.StreamEventsResponse) segmentation.StreamEvent {
	ev := r.GetEvent()
	out := segmentation.StreamEvent{Sequence: ev.GetSequence(), CustomerID: ev.GetCustomerId()}
	switch p := ev.GetPayload().(type) {
	case *profilev1.Event_CustomerUpdated:
		out.Kind = segmentation.EventCustomerUpdated
		out.Tags = p.CustomerUpdated.GetTags()
	case *profilev1.Event_CustomerDeleted:
		out.Kind = segmentation.EventCustomerDeleted
	case *profilev1.Event_CustomerErased:
		out.Kind = segmentation.EventCustomerErased
		out.AnonymousID = p.CustomerErased.GetAnonymousId()
	case *profilev1.Event_OrderPlaced:
		out.Purchase = toPurchase(ev, p.OrderPlaced)
	}
	if f := r.GetFeatures(); f != nil {
		out.Features = toFeatures(f)
	}
	return out
}

func toFeatures(f *profilev1.CustomerFeatures) *segmentation.Features {
	out := &segmentation.Features{
		OrderCount:       f.GetOrderCount(),
		RefundCount:      f.GetRefundCount(),
		DiscountShare:    f.GetDiscountShare(),
		PreferredChannel: f.GetPreferredChannel(),
	}
	if t := f.GetFirstOrderTime(); t != nil {
		out.FirstOrderTime = t.AsTime()
	}
	if t := f.GetLastOrderTime(); t != nil {
		out.LastOrderTime = t.AsTime()
	}
	if t := f.GetLastActivityTime(); t != nil {
		out.LastActivityTime = t.AsTime()
	}
	if m := f.GetNetSpend(); m != nil {
		out.Currency, out.NetMinor = m.GetCurrencyCode(), m.GetAmountMinor()
	}
	if m := f.GetGrossSpend(); m != nil {
		if out.Currency == "" {
			out.Currency = m.GetCurrencyCode()
		}
		out.GrossMinor = m.GetAmountMinor()
	}
	if m := f.GetAverageOrderValue(); m != nil {
		out.AverageOrderValueMinor = m.GetAmountMinor()
	}
	for _, c := range f.GetTopCategories() {
		out.TopCategories = append(out.TopCategories, c.GetCategory())
	}
	return out
}
