package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

var _ outreach.EventStore = (*Store)(nil)

// recordTriggerEvent records, in the consumer's transaction, what
// event-triggered journeys follow: cart updates and orders, with whether
// an order is the customer's first. An erasure forgets the customer's
// pending events and waits.
func (s *Store) recordTriggerEvent(ctx context.Context, tx *sql.Tx, o promotion.Order) error {
	if o.ErasedAs != "" {
		for _, q := range []string{`DELETE FROM outreach_trigger_events WHERE customer_id = ?`,
			`DELETE FROM outreach_cart_waits WHERE customer_id = ?`} {
			if _, err := s.exec(ctx, tx, q, o.CustomerID); err != nil {
				return fmt.Errorf("store: erase trigger events: %w", err)
			}
		}
		_, err := s.exec(ctx, tx, `UPDATE outreach_first_orders SET customer_id = ? WHERE customer_id = ?`, o.ErasedAs, o.CustomerID)
		return err
	}
	if o.Refund {
		return nil
	}
	var first int64
	if !o.Cart {
		var err error
		if first, err = s.exec(ctx, tx, `INSERT INTO outreach_first_orders (customer_id, event_id) VALUES (?, ?)
			ON CONFLICT (customer_id) DO NOTHING`, o.CustomerID, o.EventID); err != nil {
			return fmt.Errorf("store: record first order: %w", err)
		}
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO outreach_trigger_events
		(sequence, event_id, customer_id, cart, order_id, first_order, occurred_ns) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sequence) DO NOTHING`, o.Sequence, o.EventID, o.CustomerID, boolInt(o.Cart), o.OrderID,
		boolInt(first == 1), sqlstore.Nanos(o.Time)); err != nil {
		return fmt.Errorf("store: record trigger event: %w", err)
	}
	return nil
}

// MaxUnreadTriggerEvents bounds the trigger events kept for the outreach
// job: when it does not run (outreach off on every replica), the consumer
// drops those more than this many sequences behind the log.
const MaxUnreadTriggerEvents = 1_000_000

// trimTriggerEvents drops, in the consumer's transaction, the trigger
// events more than MaxUnreadTriggerEvents behind last.
func (s *Store) trimTriggerEvents(ctx context.Context, tx *sql.Tx, last int64) error {
	if last <= MaxUnreadTriggerEvents {
		return nil
	}
	if _, err := s.exec(ctx, tx, `DELETE FROM outreach_trigger_events WHERE sequence <= ?`, last-MaxUnreadTriggerEvents); err != nil {
		return fmt.Errorf("store: trim trigger events: %w", err)
	}
	return nil
}

// TriggerEvents implements outreach.EventStore.
func (s *Store) TriggerEvents(ctx context.Context, after int64, limit int) ([]outreach.TriggerEvent, error) {
	var out []outreach.TriggerEvent
	var e outreach.TriggerEvent
	var cart, first int64
	var ns int64
	err := s.db.ScanEach(ctx, s.q(`SELECT sequence, event_id, customer_id, cart, order_id, first_order, occurred_ns
		FROM outreach_trigger_events WHERE sequence > ? ORDER BY sequence LIMIT ?`), []any{after, limit},
		[]any{&e.Sequence, &e.EventID, &e.CustomerID, &cart, &e.OrderID, &first, &ns}, func() error {
			e.Cart, e.FirstOrder, e.Time = cart != 0, first != 0, sqlstore.FromNanos(ns)
			out = append(out, e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: read trigger events: %w", err)
	}
	return out, nil
}

// DropTriggerEvents implements outreach.EventStore.
func (s *Store) DropTriggerEvents(ctx context.Context, upTo int64) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM outreach_trigger_events WHERE sequence <= ?`), upTo); err != nil {
		return fmt.Errorf("store: drop trigger events: %w", err)
	}
	return nil
}

// StartWait implements outreach.EventStore: a guarded upsert, so that the
// latest cart wins whatever order the job reads them in.
func (s *Store) StartWait(ctx context.Context, w outreach.CartWait) error {
	due := sqlstore.Nanos(w.Due)
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outreach_cart_waits
		(journey_id, customer_id, cart_event_id, cart_seq, cart_ns, due_ns, ordered_ns, decide_ns) VALUES (?, ?, ?, ?, ?, ?, 0, ?)
		ON CONFLICT (journey_id, customer_id) DO UPDATE SET cart_event_id = excluded.cart_event_id, cart_seq = excluded.cart_seq,
			cart_ns = excluded.cart_ns, due_ns = excluded.due_ns, ordered_ns = 0, decide_ns = excluded.decide_ns
		WHERE outreach_cart_waits.cart_ns < excluded.cart_ns
			OR (outreach_cart_waits.cart_ns = excluded.cart_ns AND outreach_cart_waits.cart_seq < excluded.cart_seq)`),
		w.JourneyID, w.CustomerID, w.CartEventID, w.CartSeq, sqlstore.Nanos(w.CartTime), due, due); err != nil {
		return fmt.Errorf("store: start cart wait: %w", err)
	}
	return nil
}

// NoteOrder implements outreach.EventStore.
func (s *Store) NoteOrder(ctx context.Context, customerID string, at time.Time) error {
	ns := sqlstore.Nanos(at)
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE outreach_cart_waits SET ordered_ns = ?, decide_ns = ?
		WHERE customer_id = ? AND cart_ns < ? AND due_ns >= ? AND (ordered_ns = 0 OR ordered_ns > ?)`),
		ns, ns, customerID, ns, ns, ns); err != nil {
		return fmt.Errorf("store: note order in cart waits: %w", err)
	}
	return nil
}

// DecidableWaits implements outreach.EventStore.
func (s *Store) DecidableWaits(ctx context.Context, now time.Time, limit int) ([]outreach.CartWait, error) {
	var out []outreach.CartWait
	var w outreach.CartWait
	var cart, due, ordered int64
	err := s.db.ScanEach(ctx, s.q(`SELECT journey_id, customer_id, cart_event_id, cart_seq, cart_ns, due_ns, ordered_ns
		FROM outreach_cart_waits WHERE decide_ns <= ? ORDER BY decide_ns, journey_id, customer_id LIMIT ?`),
		[]any{sqlstore.Nanos(now), limit}, []any{&w.JourneyID, &w.CustomerID, &w.CartEventID, &w.CartSeq, &cart, &due, &ordered},
		func() error {
			w.CartTime, w.Due, w.Ordered = sqlstore.FromNanos(cart), sqlstore.FromNanos(due), sqlstore.FromNanos(ordered)
			out = append(out, w)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: read cart waits: %w", err)
	}
	return out, nil
}

// EndWait implements outreach.EventStore.
func (s *Store) EndWait(ctx context.Context, w outreach.CartWait) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM outreach_cart_waits
		WHERE journey_id = ? AND customer_id = ? AND cart_event_id = ?`), w.JourneyID, w.CustomerID, w.CartEventID); err != nil {
		return fmt.Errorf("store: end cart wait: %w", err)
	}
	return nil
}
