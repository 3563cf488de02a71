package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

var _ outreach.EventStore = (*Store)(nil)

// recordTriggerEvents records, in the consumer's transaction, what
// event-triggered journeys follow in the orders after cur: cart updates
// and orders, with whether an order is the customer's first. An erasure
// forgets the customer's pending events and waits. Unread events far
// behind last are dropped.
func (s *Store) recordTriggerEvents(ctx context.Context, tx *sql.Tx, cur, last int64, orders []promotion.Order) error {
	var batch []promotion.Order
	for _, o := range orders {
		switch {
		case o.Sequence <= cur || o.Refund || o.Profile != nil:
			// Not a cart or an order: refunds, and profile changes the date
			// triggers keep.
		case o.ErasedAs != "":
			if err := s.insertTriggerEvents(ctx, tx, batch); err != nil {
				return err
			}
			batch = batch[:0]
			if err := s.eraseTriggerEvents(ctx, tx, o); err != nil {
				return err
			}
		default:
			batch = append(batch, o)
		}
	}
	if err := s.insertTriggerEvents(ctx, tx, batch); err != nil {
		return err
	}
	return s.trimTriggerEvents(ctx, tx, last)
}

// insertTriggerEvents writes a batch of carts and orders: each customer's
// first order goes into outreach_first_orders, unless one is there, and
// the events are marked first where theirs went in.
func (s *Store) insertTriggerEvents(ctx context.Context, tx *sql.Tx, batch []promotion.Order) error {
	if len(batch) == 0 {
		return nil
	}
	var firsts, events [][]any
	seen := map[string]bool{}
	for _, o := range batch {
		if !o.Cart && !seen[o.CustomerID] {
			seen[o.CustomerID] = true
			firsts = append(firsts, []any{o.CustomerID, o.EventID})
		}
		events = append(events, []any{o.Sequence, o.EventID, o.CustomerID, boolInt(o.Cart), o.OrderID, 0, sqlstore.Nanos(o.Time)})
	}
	if err := s.db.InsertRows(ctx, tx, "outreach_first_orders", "customer_id, event_id", "ON CONFLICT (customer_id) DO NOTHING", firsts); err != nil {
		return fmt.Errorf("store: record first orders: %w", err)
	}
	if err := s.db.InsertRows(ctx, tx, "outreach_trigger_events", "sequence, event_id, customer_id, cart, order_id, first_order, occurred_ns",
		"ON CONFLICT (sequence) DO NOTHING", events); err != nil {
		return fmt.Errorf("store: record trigger events: %w", err)
	}
	if _, err := s.exec(ctx, tx, `UPDATE outreach_trigger_events SET first_order = 1
		WHERE sequence >= ? AND cart = 0 AND EXISTS (SELECT 1 FROM outreach_first_orders f
			WHERE f.customer_id = outreach_trigger_events.customer_id AND f.event_id = outreach_trigger_events.event_id)`,
		batch[0].Sequence); err != nil {
		return fmt.Errorf("store: mark first orders: %w", err)
	}
	return nil
}

// eraseTriggerEvents forgets an erased customer's pending events and
// waits, and keeps their first order under the anonymous id.
func (s *Store) eraseTriggerEvents(ctx context.Context, tx *sql.Tx, o promotion.Order) error {
	for _, q := range []string{`DELETE FROM outreach_trigger_events WHERE customer_id = ?`,
		`DELETE FROM outreach_cart_waits WHERE customer_id = ?`} {
		if _, err := s.exec(ctx, tx, q, o.CustomerID); err != nil {
			return fmt.Errorf("store: erase trigger events: %w", err)
		}
	}
	if _, err := s.exec(ctx, tx, `UPDATE outreach_first_orders SET customer_id = ? WHERE customer_id = ?`, o.ErasedAs, o.CustomerID); err != nil {
		return fmt.Errorf("store: erase first order: %w", err)
	}
	return nil
}

// MaxUnreadTriggerEvents bounds the trigger events kept for the outreach
// job: when it does not run (outreach off on every replica), the consumer
// drops those more than this many sequences behind the log.
const MaxUnreadTriggerEvents = 1_000_000

// trimTriggerEvents drops the trigger events more than
// MaxUnreadTriggerEvents behind last.
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
		WHERE customer_id = ? AND cart_ns < ? AND due_ns >= ? AND (ordered_ns = 0 OR ordered_ns > ?) AND decide_ns < ?`),
		ns, ns, customerID, ns, ns, ns, int64(endedNs)); err != nil {
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

// endedNs is the decide_ns of a wait that was decided: never decidable
// again, and out of the index range DecidableWaits reads.
const endedNs = math.MaxInt64

// EndWait implements outreach.EventStore.
func (s *Store) EndWait(ctx context.Context, w outreach.CartWait) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE outreach_cart_waits SET decide_ns = ?
		WHERE journey_id = ? AND customer_id = ? AND cart_event_id = ?`), int64(endedNs), w.JourneyID, w.CustomerID, w.CartEventID); err != nil {
		return fmt.Errorf("store: end cart wait: %w", err)
	}
	return nil
}
