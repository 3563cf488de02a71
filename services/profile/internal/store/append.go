package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// customerFold collects one customer's accepted events of a batch.
type customerFold struct {
	id       string
	events   []int // indexes into the batch, in input order
	features profile.Features
	found    bool // the customer row exists
}

// batchWriter is the engine-specific part of AppendEvents: each method is
// one set-oriented step over the whole batch.
type batchWriter interface {
	// insertEvents inserts the events, skipping ids already in the log, and
	// returns the sequence of each inserted event by id.
	insertEvents(ctx context.Context, tx *sql.Tx, events []profile.Event, kinds, payloads []string) (map[string]int64, error)
	// loadFeatures sets features and found for the customers that exist.
	loadFeatures(ctx context.Context, tx *sql.Tx, byID map[string]*customerFold) error
	// insertProvisional creates customers in StateProvisional with revision
	// 0 (the feature write makes it 1); existing ids are left alone.
	insertProvisional(ctx context.Context, tx *sql.Tx, ids []string, times []int64) error
	// writeFeatures stores features, sets update_time and increments
	// revision of each customer.
	writeFeatures(ctx context.Context, tx *sql.Tx, ids, features []string, times []int64) error
}

func (s *Store) batchWriter() batchWriter {
	if s.db.Dialect == sqlstore.Postgres {
		return postgresBatch{}
	}
	return sqliteBatch{db: s.db}
}

// AppendEvents implements profile.Store. The whole batch is one
// transaction holding the event-log lock: insert the events (duplicates
// skipped by the unique event id), read the affected customers' features
// once, create the missing customers as provisional, fold in memory, and
// write each customer's features back once.
func (s *Store) AppendEvents(ctx context.Context, events []profile.Event, fold profile.FoldFunc) ([]profile.AppendResult, error) {
	if len(events) == 0 {
		return nil, nil
	}
	kinds := make([]string, len(events))
	payloads := make([]string, len(events))
	for i, e := range events {
		kind, payload, err := encodePayload(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("store: event %s: %w", e.ID, err)
		}
		kinds[i], payloads[i] = kind, payload
	}

	w := s.batchWriter()
	results := make([]profile.AppendResult, len(events))
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		clear(results)
		if err := s.lockLog(ctx, tx); err != nil {
			return err
		}
		seqs, err := w.insertEvents(ctx, tx, events, kinds, payloads)
		if err != nil {
			return err
		}

		// Group accepted events by customer, in order of first appearance.
		var folds []*customerFold
		byID := map[string]*customerFold{}
		for i, e := range events {
			seq, ok := seqs[e.ID]
			if !ok {
				results[i] = profile.AppendResult{Duplicate: true}
				continue
			}
			results[i] = profile.AppendResult{Sequence: seq}
			cf := byID[e.CustomerID]
			if cf == nil {
				cf = &customerFold{id: e.CustomerID}
				byID[e.CustomerID] = cf
				folds = append(folds, cf)
			}
			cf.events = append(cf.events, i)
		}
		if len(folds) == 0 {
			return nil
		}

		// Customers are read before the missing ones are created. That is
		// safe: appends, deletes and erasures hold the log lock, and a
		// customer CreateCustomer inserts meanwhile starts with empty
		// features, which is what the fold assumed.
		if err := w.loadFeatures(ctx, tx, byID); err != nil {
			return err
		}
		var newIDs []string
		var newTimes []int64
		for _, cf := range folds {
			if !cf.found {
				newIDs = append(newIDs, cf.id)
				newTimes = append(newTimes, nanos(events[cf.events[0]].RecordTime))
			}
		}
		if len(newIDs) > 0 {
			if err := w.insertProvisional(ctx, tx, newIDs, newTimes); err != nil {
				return err
			}
		}

		ids := make([]string, len(folds))
		features := make([]string, len(folds))
		times := make([]int64, len(folds))
		for i, cf := range folds {
			for _, j := range cf.events {
				fold(&cf.features, events[j])
			}
			f, err := encodeFeatures(cf.features)
			if err != nil {
				return fmt.Errorf("store: features of %s: %w", cf.id, err)
			}
			ids[i], features[i] = cf.id, f
			times[i] = nanos(events[cf.events[len(cf.events)-1]].RecordTime)
		}
		return w.writeFeatures(ctx, tx, ids, features, times)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// scanFeatures reads (customer_id, features) rows into byID and closes
// them.
func scanFeatures(rows *sql.Rows, byID map[string]*customerFold) error {
	defer rows.Close()
	for rows.Next() {
		var id, features string
		if err := rows.Scan(&id, &features); err != nil {
			return fmt.Errorf("store: load features: %w", err)
		}
		if cf := byID[id]; cf != nil {
			if err := decodeFeatures(cf, features); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load features: %w", err)
	}
	return nil
}

func decodeFeatures(cf *customerFold, data string) error {
	f, err := parseFeatures(data)
	if err != nil {
		return fmt.Errorf("store: decode features of %s: %w", cf.id, err)
	}
	cf.features = f
	cf.found = true
	return nil
}

// sqliteBatch runs each step as a prepared single-row statement per item.
// SQLite is in process, so there is no round trip to save, and small
// statements avoid parsing a large one and keeping a statement journal.
type sqliteBatch struct{ db *sqlstore.DB }

func (b sqliteBatch) insertEvents(ctx context.Context, tx *sql.Tx, events []profile.Event, kinds, payloads []string) (map[string]int64, error) {
	stmt, err := b.prepare(ctx, tx, `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("store: append events: %w", err)
	}
	defer stmt.Close()
	seqs := make(map[string]int64, len(events))
	for i, e := range events {
		res, err := stmt.ExecContext(ctx, e.ID, e.CustomerID, kinds[i], nanos(e.OccurredAt), nanos(e.RecordTime), payloads[i])
		if err != nil {
			return nil, fmt.Errorf("store: append event %s: %w", e.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("store: append event %s: %w", e.ID, err)
		}
		if n == 0 {
			continue // a duplicate
		}
		seq, err := res.LastInsertId() // the rowid, which is the sequence
		if err != nil {
			return nil, fmt.Errorf("store: append event %s: %w", e.ID, err)
		}
		seqs[e.ID] = seq
	}
	return seqs, nil
}

// prepare returns query prepared once per database, bound to tx.
func (b sqliteBatch) prepare(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	stmt, err := b.db.Prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, stmt), nil
}

// sqliteLoadChunk bounds the ids of one IN list, far below SQLite's
// 32,766 bound parameters.
const sqliteLoadChunk = 500

func (sqliteBatch) loadFeatures(ctx context.Context, tx *sql.Tx, byID map[string]*customerFold) error {
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += sqliteLoadChunk {
		end := min(start+sqliteLoadChunk, len(ids))
		query := `SELECT customer_id, features FROM customers WHERE customer_id IN (?` +
			strings.Repeat(", ?", end-start-1) + `)`
		rows, err := tx.QueryContext(ctx, query, ids[start:end]...)
		if err != nil {
			return fmt.Errorf("store: load features: %w", err)
		}
		if err := scanFeatures(rows, byID); err != nil {
			return err
		}
	}
	return nil
}

func (b sqliteBatch) insertProvisional(ctx context.Context, tx *sql.Tx, ids []string, times []int64) error {
	stmt, err := b.prepare(ctx, tx, fmt.Sprintf(`INSERT INTO customers (customer_id, state, create_time, update_time, revision)
		VALUES (?, %d, ?, ?, 0) ON CONFLICT (customer_id) DO NOTHING`, int(profile.StateProvisional)))
	if err != nil {
		return fmt.Errorf("store: create provisional customers: %w", err)
	}
	defer stmt.Close()
	for i, id := range ids {
		if _, err := stmt.ExecContext(ctx, id, times[i], times[i]); err != nil {
			return fmt.Errorf("store: create provisional customer %s: %w", id, err)
		}
	}
	return nil
}

func (b sqliteBatch) writeFeatures(ctx context.Context, tx *sql.Tx, ids, features []string, times []int64) error {
	stmt, err := b.prepare(ctx, tx, `UPDATE customers
		SET features = ?, update_time = ?, revision = revision + 1 WHERE customer_id = ?`)
	if err != nil {
		return fmt.Errorf("store: write features: %w", err)
	}
	defer stmt.Close()
	for i, id := range ids {
		if _, err := stmt.ExecContext(ctx, features[i], times[i], id); err != nil {
			return fmt.Errorf("store: write features of %s: %w", id, err)
		}
	}
	return nil
}

// postgresBatch runs each step as one statement over arrays (unnest), so a
// batch costs a handful of round trips whatever its size, and the
// statement text is constant, so its prepared plan is reused.
type postgresBatch struct{}

func (postgresBatch) insertEvents(ctx context.Context, tx *sql.Tx, events []profile.Event, kinds, payloads []string) (map[string]int64, error) {
	ids := make([]string, len(events))
	customers := make([]string, len(events))
	occurred := make([]int64, len(events))
	recorded := make([]int64, len(events))
	for i, e := range events {
		ids[i], customers[i] = e.ID, e.CustomerID
		occurred[i], recorded[i] = nanos(e.OccurredAt), nanos(e.RecordTime)
	}
	// WITH ORDINALITY keeps the input order, so sequences follow it.
	rows, err := tx.QueryContext(ctx, `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
		SELECT u.event_id, u.customer_id, u.kind, u.occurred_at, u.record_time, u.payload
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
			WITH ORDINALITY AS u(event_id, customer_id, kind, occurred_at, record_time, payload, n)
		ORDER BY u.n
		ON CONFLICT (event_id) DO NOTHING
		RETURNING event_id, sequence`,
		ids, customers, kinds, occurred, recorded, payloads)
	if err != nil {
		return nil, fmt.Errorf("store: append events: %w", err)
	}
	defer rows.Close()
	seqs := make(map[string]int64, len(events))
	for rows.Next() {
		var (
			id  string
			seq int64
		)
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, fmt.Errorf("store: append events: %w", err)
		}
		seqs[id] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: append events: %w", err)
	}
	return seqs, nil
}

func (postgresBatch) loadFeatures(ctx context.Context, tx *sql.Tx, byID map[string]*customerFold) error {
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	rows, err := tx.QueryContext(ctx, `SELECT customer_id, features FROM customers WHERE customer_id = ANY($1::text[])`, ids)
	if err != nil {
		return fmt.Errorf("store: load features: %w", err)
	}
	return scanFeatures(rows, byID)
}

func (postgresBatch) insertProvisional(ctx context.Context, tx *sql.Tx, ids []string, times []int64) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO customers (customer_id, state, create_time, update_time, revision)
		SELECT u.id, %d, u.t, u.t, 0 FROM unnest($1::text[], $2::bigint[]) AS u(id, t)
		ON CONFLICT (customer_id) DO NOTHING`, int(profile.StateProvisional)), ids, times)
	if err != nil {
		return fmt.Errorf("store: create provisional customers: %w", err)
	}
	return nil
}

func (postgresBatch) writeFeatures(ctx context.Context, tx *sql.Tx, ids, features []string, times []int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE customers AS c
		SET features = u.features, update_time = u.t, revision = c.revision + 1
		FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(id, features, t)
		WHERE c.customer_id = u.id`, ids, features, times)
	if err != nil {
		return fmt.Errorf("store: write features: %w", err)
	}
	return nil
}
