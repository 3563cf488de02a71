// Package eventlog consumes profile's customer event log, for every service
// that keeps state derived from it (segmentation's inputs, loyalty's points).
//
// A service implements Handler over its own database: Cursor reads the
// sequence of the last event it applied, and Apply applies a page of events
// and stores the page's last sequence as the new cursor in one transaction.
// A Consumer streams the log from profile's StreamEvents after the stored
// cursor, hands it to Apply a page at a time, and reconnects with backoff
// after any error (profile restarting, a failed transaction), resuming
// after the cursor again. Because cursor and effects commit together, a
// crash, a kill or a failed commit never loses or double-applies an event.
//
// Several replicas of a service may run a Consumer over the same database:
// each page's transaction must then read the cursor itself (FOR UPDATE on
// PostgreSQL) and skip the events another replica applied already. The
// package example is a complete Handler over the platform's sqlstore.
//
// WaitCaughtUp lets a service wait until its cursor reaches the event
// profile had logged last when it was called, say before a recompute that
// must see an import that has just finished.
//
// Wiring, in a service's app package:
//
//	cons, err := eventlog.New(eventlog.Config{
//		Client:  profilev1.NewProfileServiceClient(conn),
//		Handler: handler, // the service's Cursor and Apply
//		Logger:  logger,
//	})
//	if err != nil {
//		return err
//	}
//	go cons.Run(ctx) // in App.Run: consumes until ctx is done
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/backoff"
)

// DefaultPageSize is the most events a Consumer applies in one transaction.
const DefaultPageSize = 500

// Handler applies the log to a service's state.
type Handler interface {
	// Cursor returns the sequence of the last event Apply committed, 0 if
	// none.
	CursorReader
	// Apply applies events, in sequence order (each with its customer's
	// current features when Config.IncludeFeatures is set; none once the
	// customer is gone), and stores the sequence of the last one as the
	// cursor, in one transaction. Events at or below the cursor stored
	// when the transaction reads it were applied already, by another
	// replica sharing the database: skip them (or apply them idempotently),
	// and never move the cursor back. An error must leave nothing applied;
	// the Consumer then retries from the stored cursor. events is reused
	// after Apply returns: do not keep it.
	Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error
}

// Config configures a Consumer.
type Config struct {
	// Client reaches the profile service (required).
	Client profilev1.ProfileServiceClient
	// Handler applies the events (required).
	Handler Handler
	// IncludeFeatures asks profile to send each event's customer's current
	// features along with it.
	IncludeFeatures bool
	// PageSize is the most events per Apply (default DefaultPageSize). A
	// page holds what has arrived when the previous one is applied, so
	// pages are small while the consumer keeps up and grow when it lags.
	PageSize int
	// Backoff bounds the delay before reconnecting after an error; the
	// zero value means backoff's defaults. The delay starts again from
	// Backoff.Min once a connection has applied a page.
	Backoff backoff.Backoff
	// Logger receives a warning for each interrupted stream (default
	// slog.Default()).
	Logger *slog.Logger
	// Meter records tenure.eventlog.events (events applied) and
	// tenure.eventlog.cursor (the last applied sequence); nil records
	// nothing.
	Meter metric.Meter
}

// Consumer streams profile's log into a Handler.
type Consumer struct {
	cfg    Config
	events metric.Int64Counter
	cursor metric.Int64Gauge
}

// New returns a Consumer; call Run to start it.
func New(cfg Config) (*Consumer, error) {
	if cfg.Client == nil || cfg.Handler == nil {
		return nil, errors.New("eventlog: a profile client and a handler are required")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Meter == nil {
		cfg.Meter = noop.Meter{}
	}
	events, err := cfg.Meter.Int64Counter("tenure.eventlog.events", metric.WithUnit("{event}"),
		metric.WithDescription("events of profile's log applied (committed with the cursor)"))
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	cursor, err := cfg.Meter.Int64Gauge("tenure.eventlog.cursor", metric.WithUnit("{sequence}"),
		metric.WithDescription("sequence of the last event applied"))
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	return &Consumer{cfg: cfg, events: events, cursor: cursor}, nil
}

// Run consumes the log until ctx is done, reconnecting after errors, and
// then returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	bo := c.cfg.Backoff
	for {
		progressed, err := c.stream(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			bo.Reset()
		}
		delay := bo.Next()
		c.cfg.Logger.Warn("eventlog: event stream interrupted; reconnecting", "error", err, "backoff", delay)
		if backoff.Sleep(ctx, delay) != nil {
			return nil
		}
	}
}

// CursorReader reads the sequence of the last event a service applied
// (a Handler's Cursor).
type CursorReader interface {
	Cursor(ctx context.Context) (int64, error)
}

// WaitCaughtUp waits until cursor reaches the head profile's log had when
// WaitCaughtUp was called, polling it every poll, so that work started
// afterwards sees every event logged before. It fails when ctx is done
// first, saying how far the cursor got. It needs no Consumer, only the
// Consumer's progress: wire it wherever the Consumer is not at hand.
func WaitCaughtUp(ctx context.Context, client profilev1.ProfileServiceClient, cursor CursorReader, poll time.Duration) error {
	head, err := client.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		return fmt.Errorf("eventlog: profile's log head: %w", err)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		cur, err := cursor.Cursor(ctx)
		if err != nil {
			return fmt.Errorf("eventlog: read cursor: %w", err)
		}
		if cur >= head.GetHeadSequence() {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		// Checked after either case: when the tick and the end come
		// together, select may pick the tick.
		if ctx.Err() != nil {
			return fmt.Errorf("eventlog: caught up to %d of profile's %d events: %w", cur, head.GetHeadSequence(), ctx.Err())
		}
	}
}

// received is one Recv's outcome.
type received struct {
	ev  *profilev1.StreamEventsResponse
	err error
}

// stream runs one StreamEvents call from the stored cursor until it fails;
// it reports whether any page was applied.
func (c *Consumer) stream(ctx context.Context) (bool, error) {
	cursor, err := c.cfg.Handler.Cursor(ctx)
	if err != nil {
		return false, fmt.Errorf("read cursor: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.cfg.Client.StreamEvents(sctx, &profilev1.StreamEventsRequest{AfterSequence: cursor, IncludeFeatures: c.cfg.IncludeFeatures})
	if err != nil {
		return false, err
	}
	ch := make(chan received, c.cfg.PageSize)
	go func() { // Recv blocks; the page loop below must not
		defer close(ch)
		for {
			ev, err := st.Recv()
			select {
			case ch <- received{ev, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	progressed := false
	page := make([]*profilev1.StreamEventsResponse, 0, c.cfg.PageSize)
	for {
		var streamErr error
		page, streamErr = c.nextPage(ctx, ch, page[:0])
		if len(page) > 0 {
			last := page[len(page)-1].GetEvent().GetSequence()
			if last > cursor {
				if err := c.cfg.Handler.Apply(ctx, page); err != nil {
					return progressed, fmt.Errorf("apply events up to %d: %w", last, err)
				}
				c.events.Add(ctx, int64(len(page)))
				c.cursor.Record(ctx, last)
				cursor, progressed = last, true
			}
		}
		if streamErr != nil {
			return progressed, streamErr
		}
	}
}

// errStreamEnded is a stream that profile closed without an error.
var errStreamEnded = errors.New("stream ended")

// nextPage blocks for the first event, then appends whatever else has
// arrived, up to the page size. It returns the stream's error, if it
// ended, along with the events received before it.
func (c *Consumer) nextPage(ctx context.Context, ch <-chan received, page []*profilev1.StreamEventsResponse) ([]*profilev1.StreamEventsResponse, error) {
	select {
	case <-ctx.Done():
		return page, ctx.Err()
	case r, ok := <-ch:
		if !ok {
			return page, errStreamEnded
		}
		if r.err != nil {
			return page, r.err
		}
		page = append(page, r.ev)
	}
	for len(page) < c.cfg.PageSize {
		select {
		case r, ok := <-ch:
			if !ok {
				return page, errStreamEnded
			}
			if r.err != nil {
				return page, r.err
			}
			page = append(page, r.ev)
		default:
			return page, nil
		}
	}
	return page, nil
}
