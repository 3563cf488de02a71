package store

import (
	"context"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// postgresBatch runs each step as one statement over arrays (unnest), so a
// batch costs a handful of statements whatever its size, and the statement
// text is constant, so its prepared plan is reused. In the pipelined
// transaction they take two round trips: BEGIN and the lock (and the
// duplicate lookup, see markDuplicates); then the event insert, the
// feature write and COMMIT (one more when customers are missing).
type postgresBatch struct{}

// markDuplicates looks the event ids up, unless b.assumeNew: then a
// duplicate fails insertEvents on the unique event id (one index lookup
// per event instead of two), and AppendEvents runs again without
// assumeNew. (Each such failure is an error line in the server's log.) The lookup runs after the customers' rows are locked, so it
// sees every event of theirs; an event of another customer with one of
// these ids committed later fails insertEvents too.
func (postgresBatch) markDuplicates(ctx context.Context, tx *sqlstore.Tx, b *appendBatch) error {
	if b.assumeNew {
		return nil
	}
	ids := make([]string, len(b.events))
	index := make(map[string]int, len(b.events))
	for i, e := range b.events {
		ids[i] = e.ID
		index[e.ID] = i
	}
	err := tx.Query(ctx, func(rows sqlstore.Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("store: find duplicate events: %w", err)
			}
			b.results[index[id]].Duplicate = true
		}
		return nil
	}, `SELECT event_id FROM events WHERE event_id = ANY($1::text[])`, ids)
	if err != nil {
		return fmt.Errorf("store: find duplicate events: %w", err)
	}
	return nil
}

// insertEvents inserts the events not marked duplicate, in input order
// (WITH ORDINALITY), so their sequences follow it. A plain insert costs
// PostgreSQL less than ON CONFLICT DO NOTHING (a speculative insertion per
// row); see markDuplicates for the duplicates.
func (postgresBatch) insertEvents(ctx context.Context, tx *sqlstore.Tx, b *appendBatch) error {
	var (
		ids, customers, kinds, payloads []string
		occurred, recorded              []int64
		index                           = make(map[string]int, len(b.events))
	)
	for i, e := range b.events {
		if b.results[i].Duplicate {
			continue
		}
		ids, customers = append(ids, e.ID), append(customers, e.CustomerID)
		kinds, payloads = append(kinds, b.kinds[i]), append(payloads, b.payloads[i])
		occurred, recorded = append(occurred, nanos(e.OccurredAt)), append(recorded, nanos(e.RecordTime))
		index[e.ID] = i
	}
	if len(ids) == 0 {
		return nil
	}
	err := tx.Query(ctx, func(rows sqlstore.Rows) error {
		n := 0
		for ; rows.Next(); n++ {
			var (
				id  string
				seq int64
			)
			if err := rows.Scan(&id, &seq); err != nil {
				return err
			}
			b.results[index[id]].Sequence = seq
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n != len(ids) {
			return fmt.Errorf("inserted %d events of %d", n, len(ids))
		}
		return nil
	}, `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
		SELECT u.event_id, u.customer_id, u.kind, u.occurred_at, u.record_time, u.payload
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
			WITH ORDINALITY AS u(event_id, customer_id, kind, occurred_at, record_time, payload, n)
		WHERE `+announceInsert+`
		ORDER BY u.n
		RETURNING event_id, sequence`,
		ids, customers, kinds, occurred, recorded, payloads)
	if err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	return nil
}

// lockFeatures locks in id order, so two batches that share customers
// take their rows in the same order and cannot deadlock on them.
func (postgresBatch) lockFeatures(ctx context.Context, tx *sqlstore.Tx, ids []string, byID map[string]*customerFold) error {
	err := tx.Query(ctx, func(rows sqlstore.Rows) error { return scanFeatures(rows, byID) },
		`SELECT `+lockedColumns+` FROM customers
		WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("store: load features: %w", err)
	}
	return nil
}

// insertProvisional inserts in id order, for the same reason.
func (postgresBatch) insertProvisional(ctx context.Context, tx *sqlstore.Tx, ids []string, times []int64) error {
	err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO customers (customer_id, state, create_time, update_time, revision)
		SELECT u.id, %d, u.t, u.t, %d FROM unnest($1::text[], $2::bigint[]) AS u(id, t)
		ORDER BY u.id
		ON CONFLICT (customer_id) DO NOTHING`, int(profile.StateProvisional), provisionalRevision), ids, times)
	if err != nil {
		return fmt.Errorf("store: create provisional customers: %w", err)
	}
	return nil
}

func (postgresBatch) writeFeatures(ctx context.Context, tx *sqlstore.Tx, ids, features []string, times []int64) error {
	err := tx.Exec(ctx, `UPDATE customers AS c
		SET features = u.features, update_time = u.t, revision = c.revision + 1
		FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(id, features, t)
		WHERE c.customer_id = u.id`, ids, features, times)
	if err != nil {
		return fmt.Errorf("store: write features: %w", err)
	}
	return nil
}
