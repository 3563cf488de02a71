package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// customerFold collects one customer's accepted events of a batch.
type customerFold struct {
	id       string
	events   []int // indexes into the batch, in input order
	features profile.Features
	found    bool // the customer row is locked and its features loaded
	created  bool // this transaction inserted the customer row
}

// A customer row with revision 0 exists only inside the transaction that
// created it as provisional: the same transaction writes its features
// (revision 1) or deletes it again. So a locked row at revision 0 is one
// this transaction created.
const provisionalRevision = 0

// batchWriter is the engine-specific part of AppendEvents: each method is
// one set-oriented step over the whole batch. The steps that return
// nothing may only be queued (see sqlstore.Tx.Exec).
type batchWriter interface {
	// insertProvisional creates the customers of ids (sorted) that do not
	// exist, in StateProvisional with provisionalRevision (the feature
	// write makes it 1).
	insertProvisional(ctx context.Context, tx *sqlstore.Tx, ids []string, times []int64) error
	// lockFeatures locks the rows of the customers of ids (sorted) that
	// exist, in id order, and sets their features, found and created.
	lockFeatures(ctx context.Context, tx *sqlstore.Tx, ids []string, byID map[string]*customerFold) error
	// insertEvents inserts the events, skipping ids already in the log, and
	// returns the sequence of each inserted event by id.
	insertEvents(ctx context.Context, tx *sqlstore.Tx, events []profile.Event, kinds, payloads []string) (map[string]int64, error)
	// writeFeatures stores features, sets update_time and increments
	// revision of each customer.
	writeFeatures(ctx context.Context, tx *sqlstore.Tx, ids, features []string, times []int64) error
}

func (s *Store) batchWriter() batchWriter {
	if s.db.Dialect == sqlstore.Postgres {
		return postgresBatch{}
	}
	return sqliteBatch{db: s.db}
}

// AppendEvents implements profile.Store. The whole batch is one
// transaction: lock the rows of the batch's customers in id order
// (creating the missing ones as provisional) and read their features,
// insert the events (duplicates skipped by the unique event id; see
// announceInsert), fold in memory, write each customer's
// features back once, and delete the customers it created that got no
// event. Batches of different customers run in parallel on PostgreSQL;
// batches that share a customer wait for each other's row.
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
	err := s.db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error {
		clear(results)
		ids, byID, err := lockCustomers(ctx, tx, w, events)
		if err != nil {
			return err
		}
		seqs, err := w.insertEvents(ctx, tx, events, kinds, payloads)
		if err != nil {
			return err
		}
		for i, e := range events {
			seq, ok := seqs[e.ID]
			if !ok {
				results[i] = profile.AppendResult{Duplicate: true}
				continue
			}
			results[i] = profile.AppendResult{Sequence: seq}
			cf := byID[e.CustomerID]
			cf.events = append(cf.events, i)
		}
		return s.foldCustomers(ctx, tx, w, events, ids, byID, fold)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// lockCustomers locks the rows of the customers of events in id order and
// loads their features, then creates the missing ones as provisional and
// locks those (so a batch whose customers exist creates none). It returns
// the sorted ids. A customer deleted or erased between the insert that
// found it and the lock is created again.
func lockCustomers(ctx context.Context, tx *sqlstore.Tx, w batchWriter, events []profile.Event) ([]string, map[string]*customerFold, error) {
	byID := map[string]*customerFold{}
	times := map[string]int64{}
	var ids []string
	for _, e := range events {
		if byID[e.CustomerID] == nil {
			byID[e.CustomerID] = &customerFold{id: e.CustomerID}
			times[e.CustomerID] = nanos(e.RecordTime)
			ids = append(ids, e.CustomerID)
		}
	}
	slices.Sort(ids)
	for missing, create := ids, false; len(missing) > 0; create = true {
		if create {
			missingTimes := make([]int64, len(missing))
			for i, id := range missing {
				missingTimes[i] = times[id]
			}
			if err := w.insertProvisional(ctx, tx, missing, missingTimes); err != nil {
				return nil, nil, err
			}
		}
		if err := w.lockFeatures(ctx, tx, missing, byID); err != nil {
			return nil, nil, err
		}
		var still []string
		for _, id := range missing {
			if !byID[id].found {
				still = append(still, id)
			}
		}
		missing = still
	}
	return ids, byID, nil
}

// foldCustomers folds each customer's accepted events into its features
// and writes them, and deletes the customers lockCustomers created that
// got no event (every event of theirs was a duplicate).
func (s *Store) foldCustomers(ctx context.Context, tx *sqlstore.Tx, w batchWriter, events []profile.Event, ids []string, byID map[string]*customerFold, fold profile.FoldFunc) error {
	var (
		written, features []string
		times             []int64
	)
	for _, id := range ids {
		cf := byID[id]
		if len(cf.events) == 0 {
			if cf.created {
				if err := tx.Exec(ctx, s.db.Rebind(`DELETE FROM customers WHERE customer_id = ?`), id); err != nil {
					return fmt.Errorf("store: remove unused provisional customer %s: %w", id, err)
				}
			}
			continue
		}
		for _, j := range cf.events {
			fold(&cf.features, events[j])
		}
		f, err := encodeFeatures(cf.features)
		if err != nil {
			return fmt.Errorf("store: features of %s: %w", id, err)
		}
		written = append(written, id)
		features = append(features, f)
		times = append(times, nanos(events[cf.events[len(cf.events)-1]].RecordTime))
	}
	if len(written) == 0 {
		return nil
	}
	return w.writeFeatures(ctx, tx, written, features, times)
}

// lockedColumns are the columns lockFeatures reads, for scanFeatures.
const lockedColumns = `customer_id, features, revision`

// scanFeatures reads lockedColumns rows into byID and closes them.
func scanFeatures(rows sqlstore.Rows, byID map[string]*customerFold) error {
	defer rows.Close()
	for rows.Next() {
		var (
			id, features string
			revision     int64
		)
		if err := rows.Scan(&id, &features, &revision); err != nil {
			return fmt.Errorf("store: load features: %w", err)
		}
		if cf := byID[id]; cf != nil {
			if err := decodeFeatures(cf, features); err != nil {
				return err
			}
			cf.created = revision == provisionalRevision
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load features: %w", err)
	}
	if err := rows.Close(); err != nil {
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

func (b sqliteBatch) insertEvents(ctx context.Context, tx *sqlstore.Tx, events []profile.Event, kinds, payloads []string) (map[string]int64, error) {
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

// prepare returns query prepared on tx's connection (once per connection
// for the life of the database).
func (b sqliteBatch) prepare(ctx context.Context, tx *sqlstore.Tx, query string) (*sql.Stmt, error) {
	return b.db.TxStmt(ctx, tx.SQL(), query)
}

// sqliteLoadChunk bounds the ids of one IN list, far below SQLite's
// 32,766 bound parameters.
const sqliteLoadChunk = 500

// lockFeatures needs no row locks: the immediate transaction holds the
// database's write lock.
func (sqliteBatch) lockFeatures(ctx context.Context, tx *sqlstore.Tx, ids []string, byID map[string]*customerFold) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	for start := 0; start < len(args); start += sqliteLoadChunk {
		end := min(start+sqliteLoadChunk, len(args))
		query := `SELECT ` + lockedColumns + ` FROM customers WHERE customer_id IN (?` +
			strings.Repeat(", ?", end-start-1) + `)`
		rows, err := tx.SQL().QueryContext(ctx, query, args[start:end]...)
		if err != nil {
			return fmt.Errorf("store: load features: %w", err)
		}
		if err := scanFeatures(rows, byID); err != nil {
			return err
		}
	}
	return nil
}

func (b sqliteBatch) insertProvisional(ctx context.Context, tx *sqlstore.Tx, ids []string, times []int64) error {
	stmt, err := b.prepare(ctx, tx, fmt.Sprintf(`INSERT INTO customers (customer_id, state, create_time, update_time, revision)
		VALUES (?, %d, ?, ?, %d) ON CONFLICT (customer_id) DO NOTHING`, int(profile.StateProvisional), provisionalRevision))
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

func (b sqliteBatch) writeFeatures(ctx context.Context, tx *sqlstore.Tx, ids, features []string, times []int64) error {
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
// batch costs a handful of statements whatever its size, and the statement
// text is constant, so its prepared plan is reused. In the pipelined
// transaction the batch takes three round trips: BEGIN with the lock, the
// event insert, and the feature write with COMMIT (one more if customers
// are missing).
type postgresBatch struct{}

func (postgresBatch) insertEvents(ctx context.Context, tx *sqlstore.Tx, events []profile.Event, kinds, payloads []string) (map[string]int64, error) {
	ids := make([]string, len(events))
	customers := make([]string, len(events))
	occurred := make([]int64, len(events))
	recorded := make([]int64, len(events))
	for i, e := range events {
		ids[i], customers[i] = e.ID, e.CustomerID
		occurred[i], recorded[i] = nanos(e.OccurredAt), nanos(e.RecordTime)
	}
	// WITH ORDINALITY keeps the input order, so sequences follow it.
	rows, err := tx.Query(ctx, `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
		SELECT u.event_id, u.customer_id, u.kind, u.occurred_at, u.record_time, u.payload
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
			WITH ORDINALITY AS u(event_id, customer_id, kind, occurred_at, record_time, payload, n)
		WHERE `+announceInsert+`
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
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: append events: %w", err)
	}
	return seqs, nil
}

// lockFeatures locks in id order, so two batches that share customers
// take their rows in the same order and cannot deadlock on them.
func (postgresBatch) lockFeatures(ctx context.Context, tx *sqlstore.Tx, ids []string, byID map[string]*customerFold) error {
	rows, err := tx.Query(ctx, `SELECT `+lockedColumns+` FROM customers
		WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("store: load features: %w", err)
	}
	return scanFeatures(rows, byID)
}

// insertProvisional inserts in id order, for the same reason. It is sent
// with the lockFeatures that follows it.
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

// writeFeatures is sent with COMMIT.
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
