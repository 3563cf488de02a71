// Package consumer keeps segmentation's inputs in step with profile's
// event log: it streams events after the stored cursor (with the
// customers' current features), and applies them a page at a time, each
// page in one transaction with the cursor, reconnecting with backoff.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// DefaultPageSize is the most events applied in one transaction.
const DefaultPageSize = 500

// Config configures a Consumer.
type Config struct {
	Client profilev1.ProfileServiceClient
	Store  segmentation.Store
	Logger *slog.Logger
	// PageSize is the most events per transaction (default DefaultPageSize).
	PageSize int
	// MinBackoff and MaxBackoff bound the reconnect delay (default 100 ms, 5 s).
	MinBackoff, MaxBackoff time.Duration
	// OnApplied, if set, is called with the cursor after each page.
	OnApplied func(cursor int64)
	// OnForget, if set, is called after each applied page that deletes or
	// re-keys (erases) customers, with the page's mutations, so that
	// in-memory state stops answering for the old ids at once.
	OnForget func(ctx context.Context, muts []segmentation.Mutation) error
}

// Consumer applies profile's event stream to the store.
type Consumer struct{ cfg Config }

// New returns a Consumer.
func New(cfg Config) *Consumer {
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Consumer{cfg: cfg}
}

// Run consumes until ctx is done, reconnecting after errors. It returns
// nil when ctx is done.
func (c *Consumer) Run(ctx context.Context) error {
	delay := c.cfg.MinBackoff
	for {
		progressed, err := c.stream(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			delay = c.cfg.MinBackoff
		}
		c.cfg.Logger.Warn("segmentation: event stream interrupted; reconnecting", "error", err, "backoff", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, c.cfg.MaxBackoff)
	}
}

type received struct {
	resp *profilev1.StreamEventsResponse
	err  error
}

// WaitCaughtUp waits until the store has applied every event profile had
// logged when it was called, so that a recompute started now sees all of
// them. It polls the stored cursor every poll; ctx bounds the wait.
func (c *Consumer) WaitCaughtUp(ctx context.Context, poll time.Duration) error {
	head, err := c.cfg.Client.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		return fmt.Errorf("consumer: profile's log head: %w", err)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		cursor, err := c.cfg.Store.Cursor(ctx)
		if err != nil {
			return err
		}
		if cursor >= head.GetHeadSequence() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("consumer: caught up to %d of profile's %d events: %w", cursor, head.GetHeadSequence(), ctx.Err())
		case <-t.C:
		}
	}
}

// stream runs one StreamEvents call from the stored cursor; it reports
// whether any page was applied.
func (c *Consumer) stream(ctx context.Context) (bool, error) {
	cursor, err := c.cfg.Store.Cursor(ctx)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.cfg.Client.StreamEvents(sctx, &profilev1.StreamEventsRequest{AfterSequence: cursor, IncludeFeatures: true})
	if err != nil {
		return false, err
	}
	ch := make(chan received, c.cfg.PageSize)
	go func() {
		defer close(ch)
		for {
			resp, err := st.Recv()
			select {
			case ch <- received{resp, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	progressed := false
	page := make([]segmentation.StreamEvent, 0, c.cfg.PageSize)
	for {
		page = page[:0]
		var streamErr error
		// Block for the first event, then take whatever else is ready.
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case r, ok := <-ch:
			if !ok {
				return progressed, errors.New("stream ended")
			}
			if r.err != nil {
				return progressed, r.err
			}
			page = append(page, toStreamEvent(r.resp))
		}
	fill:
		for len(page) < c.cfg.PageSize {
			select {
			case r, ok := <-ch:
				if !ok {
					streamErr = errors.New("stream ended")
					break fill
				}
				if r.err != nil {
					streamErr = r.err
					break fill
				}
				page = append(page, toStreamEvent(r.resp))
			default:
				break fill
			}
		}
		last := page[len(page)-1].Sequence
		if last > cursor {
			muts := segmentation.PlanPage(page)
			if err := c.cfg.Store.ApplyPage(ctx, muts, last); err != nil {
				return progressed, fmt.Errorf("apply events up to %d: %w", last, err)
			}
			if c.cfg.OnForget != nil && forgets(muts) {
				if err := c.cfg.OnForget(ctx, muts); err != nil && ctx.Err() == nil {
					c.cfg.Logger.Warn("segmentation: forget deleted and erased customers", "error", err)
				}
			}
			cursor = last
			progressed = true
			if c.cfg.OnApplied != nil {
				c.cfg.OnApplied(cursor)
			}
		}
		if streamErr != nil {
			return progressed, streamErr
		}
	}
}

// forgets reports whether muts delete or re-key a customer.
func forgets(muts []segmentation.Mutation) bool {
	for i := range muts {
		if muts[i].Kind == segmentation.MutationDelete || muts[i].Kind == segmentation.MutationRekey {
			return true
		}
	}
	return false
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
