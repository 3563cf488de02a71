package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// sqliteBatch runs each step as a prepared single-row statement per item.
// SQLite is in process, so there is no round trip to save, and small
// statements avoid parsing a large one and keeping a statement journal.
// Its transactions run one at a time, so nothing changes between steps.
type sqliteBatch struct{ db *sqlstore.DB }

// markDuplicates inserts the events, skipping ids already in the log:
// in process, the insert is the cheapest way to find them.
func (b sqliteBatch) markDuplicates(ctx context.Context, tx *sqlstore.Tx, ab *appendBatch) error {
	stmt, err := b.prepare(ctx, tx, `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	defer stmt.Close()
	for i, e := range ab.events {
		res, err := stmt.ExecContext(ctx, e.ID, e.CustomerID, ab.kinds[i], nanos(e.OccurredAt), nanos(e.RecordTime), ab.payloads[i])
		if err != nil {
			return fmt.Errorf("store: append event %s: %w", e.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: append event %s: %w", e.ID, err)
		}
		if n == 0 {
			ab.results[i].Duplicate = true
			continue
		}
		seq, err := res.LastInsertId() // the rowid, which is the sequence
		if err != nil {
			return fmt.Errorf("store: append event %s: %w", e.ID, err)
		}
		ab.results[i].Sequence = seq
	}
	return nil
}

// insertEvents has nothing left to do: markDuplicates inserted the events.
func (sqliteBatch) insertEvents(context.Context, *sqlstore.Tx, *appendBatch) error { return nil }

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
		err = scanFeatures(rows, byID)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("store: load features: %w", err)
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
